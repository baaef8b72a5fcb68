using Finales.Core;

namespace Finales.Broker;

/// <summary>
/// Transitional: the store port under the synchronous names its callers used before it became async (the HTTP
/// handlers, <see cref="BrokerService"/>, the CLI admin commands and the tests). On SQLite every read completes
/// synchronously, so these block on nothing; callers move to the async members (with their request's token) as they
/// are rewritten, and this file goes when the last one has.
/// </summary>
public static class BrokerStoreSync
{
    private static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();

    public static string? Health(this IBrokerStore s) => Wait(s.HealthAsync());
    public static string GetOrAddSetting(this IBrokerStore s, string key, string value) => Wait(s.GetOrAddSettingAsync(key, value));
    public static long CatalogVersion(this IBrokerStore s) => Wait(s.CatalogVersionAsync());
    public static IReadOnlyList<UserRecord> Users(this IBrokerStore s) => Wait(s.UsersAsync());
    public static UserRecord? User(this IBrokerStore s, string username) => Wait(s.UserAsync(username));
    public static bool AddUser(this IBrokerStore s, UserRecord u) => Wait(s.AddUserAsync(u));
    public static bool UpdateUser(this IBrokerStore s, UserRecord u) => Wait(s.UpdateUserAsync(u));
    public static IReadOnlyList<CapabilityRecord> Capabilities(this IBrokerStore s) => Wait(s.CapabilitiesAsync());

    public static (long Id, long[] Deactivated) AddCapability(this IBrokerStore s, string quantity, string method, string spec, string resultOutput)
    {
        var added = Wait(s.AddCapabilityAsync(quantity, method, spec, resultOutput));
        return (added.Id, added.Deactivated.ToArray());
    }

    public static bool SetCapabilityActive(this IBrokerStore s, long id, bool active) => Wait(s.SetCapabilityActiveAsync(id, active));
    public static IReadOnlyList<TenantRecord> Tenants(this IBrokerStore s) => Wait(s.TenantsAsync());
    public static bool AddTenant(this IBrokerStore s, TenantRecord t) => Wait(s.AddTenantAsync(t));
    public static bool SetTenantActive(this IBrokerStore s, Guid uuid, bool active) => Wait(s.SetTenantActiveAsync(uuid, active));
    public static bool SetTenantLimitations(this IBrokerStore s, Guid uuid, string limitationsJson) => Wait(s.SetTenantLimitationsAsync(uuid, limitationsJson));

    /// <summary>A lifecycle command given as the core's union (callers that still build it).</summary>
    public static Task<AggregateState> ExecuteAsync(this IBrokerStore s, Guid requestId, UserRecord user, Guid? actingTenant, Command command, string message) =>
        s.ExecuteAsync(requestId, user, actingTenant, LifecycleCommand.OfCore(command), message);

    public static void SetResultStatus(this IBrokerStore s, Guid resultId, UserRecord user, ResultStatus status, string message) =>
        s.SetResultStatusAsync(resultId, user, StoreShapes.resultStatus(status), message).GetAwaiter().GetResult();

    public static int ExpireLeases(this IBrokerStore s, bool force = false) => Wait(s.ExpireLeasesAsync(force));

    public static RequestRow? Request(this IBrokerStore s, Guid id) => Wait(s.RequestAsync(id));
    public static RequestCapability? QuantityAndMethods(this IBrokerStore s, Guid id) => Wait(s.QuantityAndMethodsAsync(id));
    public static ResultRow? Result(this IBrokerStore s, Guid id) => Wait(s.ResultAsync(id));
    public static ResultRow? CurrentResult(this IBrokerStore s, Guid requestId) => Wait(s.CurrentResultAsync(requestId));
    public static IReadOnlyList<ResultRow> ResultsOf(this IBrokerStore s, Guid requestId) => Wait(s.ResultsOfAsync(requestId));
    public static long? RequestSeq(this IBrokerStore s, Guid id) => Wait(s.RequestSeqAsync(id));
    public static long? ResultSeq(this IBrokerStore s, Guid id) => Wait(s.ResultSeqAsync(id));
    public static IReadOnlyList<HistoryEntry> History(this IBrokerStore s, Guid requestId, Guid? resultId = null) => Wait(s.HistoryAsync(requestId, resultId));
    public static Guid? RequestOfResult(this IBrokerStore s, Guid resultId) => Wait(s.RequestOfResultAsync(resultId));
    public static RequestFamily Family(this IBrokerStore s, Guid requestId) => Wait(s.FamilyAsync(requestId));
    public static IReadOnlyDictionary<string, long> StatusCounts(this IBrokerStore s) => Wait(s.StatusCountsAsync());

    // The SQL stores stream synchronously here: blocking on their asynchronous streams would hold this thread while
    // each row's read completes on another thread-pool thread.
    public static IEnumerable<RequestRow> StreamPending(this IBrokerStore s, string? quantity, string? method, long afterSeq, int? limit) =>
        s is SqlBrokerStore sql
            ? sql.StreamPendingBlocking(quantity, method, afterSeq, limit)
            : s.StreamPendingAsync(quantity, method, afterSeq, limit).ToBlockingEnumerable();

    public static IEnumerable<RequestRow> StreamAllRequests(this IBrokerStore s, long afterSeq, int? limit) =>
        s is SqlBrokerStore sql ? sql.StreamAllRequestsBlocking(afterSeq, limit) : s.StreamAllRequestsAsync(afterSeq, limit).ToBlockingEnumerable();

    public static IEnumerable<ResultRow> StreamResults(this IBrokerStore s, string? quantity, string? method, double? minRating, long afterSeq, int? limit) =>
        s is SqlBrokerStore sql
            ? sql.StreamResultsBlocking(quantity, method, minRating, afterSeq, limit)
            : s.StreamResultsAsync(quantity, method, minRating, afterSeq, limit).ToBlockingEnumerable();

    public static IReadOnlyList<RequestRow> AllRequests(this IBrokerStore s) => s.StreamAllRequests(0, null).ToList();
    public static IReadOnlyList<string> Audit(this IBrokerStore s) => Wait(s.AuditAsync());
    public static IReadOnlyDictionary<string, object> Dump(this IBrokerStore s) => Wait(s.DumpAsync());
    public static long BackupTo(this IBrokerStore s, string path) => Wait(s.BackupToAsync(path));
}
