using Finales.Core;

namespace Finales.Broker;

/// <summary>A broker user. Roles: admin, tenant, observer.</summary>
public sealed record UserRecord(string Username, string PasswordHash, IReadOnlyList<string> Roles, IReadOnlyList<Guid> Tenants, bool IsActive)
{
    public bool IsAdmin => Roles.Contains("admin");
    public bool CanWrite => Roles.Contains("admin") || Roles.Contains("tenant");
}

/// <summary>A stored capability version.</summary>
public sealed record CapabilityRecord(long Id, string Quantity, string Method, string Specification, string ResultOutput, bool IsActive, string Created);

/// <summary>A stored tenant registration; <c>LimitationsJson</c> is the FINALES2 list of {quantity, method, limitations}.</summary>
public sealed record TenantRecord(Guid Uuid, string Name, string LimitationsJson, string ContactPerson, bool IsActive);

/// <summary>A request row joined with its current status.</summary>
public sealed record RequestRow(Guid Uuid, string Ctime, string Status, string Body);

/// <summary>A result row joined with its current status.</summary>
public sealed record ResultRow(Guid Uuid, string Ctime, string Status, string Body, Guid RequestUuid);

/// <summary>One entry of a request's or result's status history.</summary>
public sealed record HistoryEntry(string Status, string Time, string Actor, string? TenantUuid, string Message, string Kind, Guid? ResultUuid);

/// <summary>A client-visible failure with its HTTP status; <c>Detail</c> is a string or a FastAPI-style list.</summary>
public sealed class ApiError(int status, object detail) : Exception(detail as string ?? "validation failed")
{
    public int Status { get; } = status;
    public object Detail { get; } = detail;

    public static ApiError Validation(IEnumerable<ValidationIssue> issues, string location = "body") =>
        new(422, issues.Select(i => new Dictionary<string, object>
        {
            ["loc"] = new[] { location }.Concat(i.Path).ToArray(),
            ["msg"] = i.Message,
            ["type"] = i.Kind,
        }).ToArray());

    public static ApiError ValidationOne(string[] loc, string msg, string type) =>
        new(422, new[] { new Dictionary<string, object> { ["loc"] = loc, ["msg"] = msg, ["type"] = type } });

    /// <summary>The one place where lifecycle refusals become HTTP statuses.</summary>
    public static ApiError FromLifecycle(LifecycleError error) => error switch
    {
        LifecycleError.Conflict c => new ApiError(409, c.Item),
        LifecycleError.Forbidden f => new ApiError(403, f.Item),
        LifecycleError.NotFound n => new ApiError(404, n.Item),
        _ => new ApiError(400, "refused"),
    };
}

/// <summary>The store itself failed (disk full, read-only, not a database, server unreachable): 503 to clients, one line at startup.</summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
