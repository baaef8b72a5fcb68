using Finales.Core;

namespace Finales.Broker;

/// <summary>
/// A broker user. Roles: admin, tenant, observer. <c>TokenVersion</c> is put into every token issued to the user and
/// checked on every call; the store raises it when the password changes or the user is deactivated, which revokes
/// every token issued before.
/// </summary>
public sealed record UserRecord(string Username, string PasswordHash, IReadOnlyList<string> Roles, IReadOnlyList<Guid> Tenants, bool IsActive, long TokenVersion = 0)
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
    /// <summary>Seconds for a Retry-After header (429).</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>Longest echo of a client's value in an error message (beyond it: a prefix and the full size).</summary>
    public const int EchoLimit = 200;

    /// <summary>
    /// A client-supplied value as error messages may echo it: up to <paramref name="limit"/> characters, longer ones
    /// cut there with "…(N bytes)" (N the UTF-8 size of the whole), so an error answer never repeats megabytes of input.
    /// </summary>
    public static string Echo(string value, int limit = EchoLimit)
    {
        if (value.Length <= limit) return value;
        var cut = char.IsHighSurrogate(value[limit - 1]) ? limit - 1 : limit;
        return value[..cut] + $"…({System.Text.Encoding.UTF8.GetByteCount(value)} bytes)";
    }

    /// <summary>Longest message and path element of a 422 detail: messages may quote a value (already capped where built).</summary>
    private const int MessageLimit = 1000;

    public static ApiError Validation(IEnumerable<Issue> issues, string location = "body") =>
        new(422, issues.Select(i => new Dictionary<string, object>
        {
            ["loc"] = new[] { location }.Concat(i.Path.Select(p => Echo(p))).ToArray(),
            ["msg"] = Echo(i.Message, MessageLimit),
            ["type"] = i.Kind,
        }).ToArray());

    public static ApiError ValidationOne(string[] loc, string msg, string type) =>
        new(422, new[] { new Dictionary<string, object> { ["loc"] = loc.Select(p => Echo(p)).ToArray(), ["msg"] = Echo(msg, MessageLimit), ["type"] = type } });

    /// <summary>The one place where lifecycle refusals (the store's <see cref="LifecycleRejectedException"/>) become HTTP statuses.</summary>
    public static ApiError FromLifecycle(LifecycleRejectedException rejection) => rejection.Kind switch
    {
        LifecycleErrorKind.Conflict => new ApiError(409, rejection.Message),
        LifecycleErrorKind.Forbidden => new ApiError(403, rejection.Message),
        LifecycleErrorKind.NotFound => new ApiError(404, rejection.Message),
        _ => new ApiError(400, "refused"),
    };
}

/// <summary>The store itself failed (disk full, read-only, not a database, server unreachable): 503 to clients, one line at startup.</summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
