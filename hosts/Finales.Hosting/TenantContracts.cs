using System.Text.Json;
using Finales.Client;

namespace Finales.Hosting;

/// <summary>One capability a tenant serves: a FINALES2 (quantity, method) pair.</summary>
public sealed record TenantCapability(string Quantity, string Method)
{
    public override string ToString() => $"{Quantity}/{Method}";
}

/// <summary>
/// A reserved request handed to a worker: the request as the broker returned it, the capability it
/// was claimed for, and the parameters object of that method (<c>request.parameters.&lt;method&gt;</c>).
/// </summary>
public sealed record WorkItem(RequestInfo Request, TenantCapability Capability, JsonElement Parameters)
{
    public Guid RequestId => Request.Uuid;

    /// <summary>Builds the work item for <paramref name="capability"/>; the parameters object is that method's
    /// entry of <c>request.parameters</c> (an empty object when the request carries none).</summary>
    public static WorkItem For(RequestInfo request, TenantCapability capability)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(capability);
        var parameters = request.Parameters.ValueKind == JsonValueKind.Object
                         && request.Parameters.TryGetProperty(capability.Method, out var p)
            ? p.Clone()
            : JsonDocument.Parse("{}").RootElement.Clone();
        return new WorkItem(request, capability, parameters);
    }
}

/// <summary>
/// What a worker produced for one request: the result <c>data</c> object (it must validate against the
/// capability's <c>json_schema_result_output</c>), whether the method succeeded and a message for the log.
/// A failed outcome is still posted as a result (FINALES2 tenants report failure in <c>data.*.meta.success</c>);
/// to give a request back to the queue instead, throw from <see cref="ITenantWorker.ProcessAsync"/>.
/// </summary>
public sealed record WorkOutcome(JsonElement Data, bool Success, string Message)
{
    public static WorkOutcome Succeeded(JsonElement data, string message = "") => new(data, true, message);
    public static WorkOutcome Failed(JsonElement data, string message) => new(data, false, message);
}

/// <summary>
/// The part of a tenant that does the science or drives the hardware. The kit does everything else:
/// log in, claim, heartbeat, journal, post, release, retry.
/// </summary>
public interface ITenantWorker
{
    /// <summary>The capabilities served, claimed round-robin. At least one.</summary>
    IReadOnlyList<TenantCapability> Capabilities { get; }

    /// <summary>The FINALES2 limitations list <c>[{"quantity","method","limitations"}, ...]</c> for
    /// <c>PUT /tenants/{uuid}/limitations</c>.</summary>
    string LimitationsJson();

    /// <summary>Does the work for one reserved request. Must be deterministic in the request when the kit is
    /// to redo it after a crash (<see cref="TenantOptions.ResumeOnRestart"/>). Throwing releases the request
    /// (status back to pending, with the exception message); the token is cancelled when the lease is lost or the
    /// host stops and the grace period has run out.</summary>
    Task<WorkOutcome> ProcessAsync(WorkItem item, CancellationToken cancellationToken);
}
