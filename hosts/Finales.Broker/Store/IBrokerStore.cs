using Finales.Core;

namespace Finales.Broker;

/// <summary>
/// The broker's store port: everything the broker, the CLI and the tests read from or write to the store. Every write
/// decides through the core's lifecycle (<see cref="BrokerCore.Decide"/>) on the locked aggregate and appends exactly
/// one event; refusals surface as <see cref="LifecycleRejectedException"/>, never as HTTP errors. Two adapters:
/// <see cref="SqliteBrokerStore"/> (one file, group commit) and <see cref="PostgresBrokerStore"/>.
/// </summary>
public interface IBrokerStore : IDisposable
{
    /// <summary>What the store is, for logs and /healthz ("SQLite /path", "PostgreSQL host:port/db").</summary>
    string Description { get; }
    bool IsPostgres { get; }
    /// <summary>The store's clock: lease expiry and every timestamp it writes (TimeProvider.System unless given).</summary>
    TimeProvider Clock { get; }
    /// <summary>Long-polling waiters of the pending queue, woken by committed writes that make a matching request pending.</summary>
    PendingSignals Signals { get; }
    /// <summary>The store's own counters since it was opened, each named by the store (SQLite: its writer's group commits
    /// and checkpoints; PostgreSQL: its groups of writes that need no read), as <c>/metrics</c> shows them.</summary>
    IReadOnlyList<StoreCounter> Counters { get; }

    /// <summary>Null when healthy, else why not (a read probe; a write probe after a failed write).</summary>
    Task<string?> HealthAsync(CancellationToken ct = default);

    // ------------------------------------------------ settings, users, catalog

    /// <summary>Returns the stored value, storing <paramref name="value"/> first if the key is new (first writer wins).</summary>
    Task<string> GetOrAddSettingAsync(string key, string value, CancellationToken ct = default);
    /// <summary>Changes whenever users, capabilities or tenants change (also from another process).</summary>
    Task<long> CatalogVersionAsync(CancellationToken ct = default);
    Task<IReadOnlyList<UserRecord>> UsersAsync(CancellationToken ct = default);
    Task<UserRecord?> UserAsync(string username, CancellationToken ct = default);
    /// <summary>Inserts a user; false when the name is taken.</summary>
    Task<bool> AddUserAsync(UserRecord user, CancellationToken ct = default);
    /// <summary>Replaces a user's fields; false when unknown. A new password or a deactivation revokes older tokens.</summary>
    Task<bool> UpdateUserAsync(UserRecord user, CancellationToken ct = default);
    Task<IReadOnlyList<CapabilityRecord>> CapabilitiesAsync(CancellationToken ct = default);
    /// <summary>Adds a capability version, active; the previous active version of (quantity, method) is deactivated.</summary>
    Task<CapabilityAdded> AddCapabilityAsync(string quantity, string method, string spec, string resultOutput, CancellationToken ct = default);
    /// <summary>Activates (deactivating other versions of the same quantity/method) or deactivates a version; false when unknown.</summary>
    Task<bool> SetCapabilityActiveAsync(long id, bool active, CancellationToken ct = default);
    Task<IReadOnlyList<TenantRecord>> TenantsAsync(CancellationToken ct = default);
    /// <summary>Inserts a tenant; false when the uuid exists.</summary>
    Task<bool> AddTenantAsync(TenantRecord tenant, CancellationToken ct = default);
    Task<bool> SetTenantActiveAsync(Guid uuid, bool active, CancellationToken ct = default);
    Task<bool> SetTenantLimitationsAsync(Guid uuid, string limitationsJson, CancellationToken ct = default);

    // ------------------------------------------------ the lifecycle

    /// <summary>Stores a new request (validated by the caller) and its creation event; returns its id.</summary>
    Task<Guid> PostRequestAsync(RequestBody body, UserRecord user, CancellationToken ct = default);
    /// <summary>
    /// Stores a result and resolves its request in one transaction; <paramref name="check"/> sees the stored request
    /// body (null when the request is unknown) before the write and may throw to refuse.
    /// </summary>
    Task<Guid> PostResultAsync(Guid requestId, ResultBody body, UserRecord user, Action<string?> check, CancellationToken ct = default);
    /// <summary>Creates an `unsolicited` request for the result and stores the result, in one transaction.</summary>
    Task<Guid> PostUnsolicitedAsync(ResultBody body, UserRecord user, CancellationToken ct = default);
    /// <summary>Runs one lifecycle command on a request (reserve, release, retract, resolve, heartbeat); the state it leads to.</summary>
    Task<AggregateState> ExecuteAsync(Guid requestId, UserRecord user, Guid? actingTenant, LifecycleCommand command, string message, CancellationToken ct = default);
    /// <summary>
    /// As <see cref="ExecuteAsync(Guid, UserRecord, Guid?, LifecycleCommand, string, CancellationToken)"/>, after
    /// <paramref name="check"/> has seen the quantity and methods of the request (read with its locked state, no
    /// separate read); check may throw to refuse, and is not called for an unknown request.
    /// </summary>
    Task<AggregateState> ExecuteAsync(Guid requestId, UserRecord user, Guid? actingTenant, LifecycleCommand command, string message, Action<RequestCapability> check, CancellationToken ct = default);
    /// <summary>Changes a result's status (deleted, amended); an unknown result is a <see cref="LifecycleErrorKind.NotFound"/> rejection.</summary>
    Task SetResultStatusAsync(Guid resultId, UserRecord user, ResultStatusCode status, string message, CancellationToken ct = default);
    /// <summary>Atomically reserves the oldest pending request of (quantity, method) for the caller; null when none.</summary>
    Task<RequestRow?> ClaimAsync(string? quantity, string? method, UserRecord user, Guid? tenant, double leaseSeconds, CancellationToken ct = default);
    /// <summary>
    /// Returns requests whose lease has run out (by the store's clock) to pending, one `lease_expired` event each.
    /// Without <paramref name="force"/> at most one sweep per 200 ms runs (the rest return 0 at once).
    /// </summary>
    Task<int> ExpireLeasesAsync(bool force = false, CancellationToken ct = default);

    // ------------------------------------------------ the read model

    Task<RequestRow?> RequestAsync(Guid id, CancellationToken ct = default);
    /// <summary>The quantity and methods of a request (they never change), or null when unknown.</summary>
    Task<RequestCapability?> QuantityAndMethodsAsync(Guid id, CancellationToken ct = default);
    Task<ResultRow?> ResultAsync(Guid id, CancellationToken ct = default);
    /// <summary>The current (original) result of a request, or null.</summary>
    Task<ResultRow?> CurrentResultAsync(Guid requestId, CancellationToken ct = default);
    Task<IReadOnlyList<ResultRow>> ResultsOfAsync(Guid requestId, CancellationToken ct = default);
    /// <summary>Pending requests of an optional quantity and method, oldest first, after sequence <paramref name="afterSeq"/>, at most <paramref name="limit"/>; read lazily.</summary>
    IAsyncEnumerable<RequestRow> StreamPendingAsync(string? quantity, string? method, long afterSeq, int? limit, CancellationToken ct = default);
    /// <summary>Every request, oldest first, after <paramref name="afterSeq"/>, at most <paramref name="limit"/>; read lazily.</summary>
    IAsyncEnumerable<RequestRow> StreamAllRequestsAsync(long afterSeq, int? limit, CancellationToken ct = default);
    /// <summary>Results (all statuses) with optional filters, oldest first, after <paramref name="afterSeq"/>, at most <paramref name="limit"/>; read lazily.</summary>
    IAsyncEnumerable<ResultRow> StreamResultsAsync(string? quantity, string? method, double? minRating, long afterSeq, int? limit, CancellationToken ct = default);
    /// <summary>The sequence number of a request (the paging cursor of request lists), or null when unknown.</summary>
    Task<long?> RequestSeqAsync(Guid id, CancellationToken ct = default);
    /// <summary>The sequence number of a result (the paging cursor of result lists), or null when unknown.</summary>
    Task<long?> ResultSeqAsync(Guid id, CancellationToken ct = default);
    /// <summary>The status events of a request (of one of its results only, when given), oldest first.</summary>
    Task<IReadOnlyList<HistoryEntry>> HistoryAsync(Guid requestId, Guid? resultId = null, CancellationToken ct = default);
    Task<Guid?> RequestOfResultAsync(Guid resultId, CancellationToken ct = default);
    Task<RequestFamily> FamilyAsync(Guid requestId, CancellationToken ct = default);
    /// <summary>Counts per request status (for metrics and the demo's live view).</summary>
    Task<IReadOnlyDictionary<string, long>> StatusCountsAsync(CancellationToken ct = default);

    // ------------------------------------------------ operations

    /// <summary>Replays every request's event log and compares it with the stored projections; the problems found.</summary>
    Task<IReadOnlyList<string>> AuditAsync(CancellationToken ct = default);
    /// <summary>Every table as JSON-ready rows (the database dump route).</summary>
    Task<IReadOnlyDictionary<string, object>> DumpAsync(CancellationToken ct = default);
    /// <summary>SQLite: a consistent online copy of the store into the new file <paramref name="path"/>; its size in bytes.</summary>
    Task<long> BackupToAsync(string path, CancellationToken ct = default);
}

/// <summary>One of a store's counters: its Prometheus name (part of the operators' interface), its help text and value.</summary>
public sealed record StoreCounter(string Name, string Help, long Value);

/// <summary>A new capability version and the versions it deactivated.</summary>
public sealed record CapabilityAdded(long Id, IReadOnlyList<long> Deactivated);

/// <summary>The quantity and methods a request asks for.</summary>
public sealed record RequestCapability(string Quantity, IReadOnlyList<string> Methods);

/// <summary>A request's parent (if any) and children.</summary>
public sealed record RequestFamily(Guid? Parent, IReadOnlyList<Guid> Children);

/// <summary>The lifecycle refused a command (a state conflict, a caller not allowed, an unknown request or result).</summary>
public sealed class LifecycleRejectedException(LifecycleErrorKind kind, string message) : Exception(message)
{
    public LifecycleErrorKind Kind { get; } = kind;
}
