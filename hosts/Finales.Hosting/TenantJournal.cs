using Finales.Storage;

namespace Finales.Hosting;

/// <summary>States of a journaled request. Open states are <see cref="Claimed"/>, <see cref="Working"/> and
/// <see cref="ResultReady"/>; the others are final and kept for the record.</summary>
public static class JournalState
{
    public const string Claimed = "claimed";
    public const string Working = "working";
    /// <summary>The result body is stored; it only remains to post it.</summary>
    public const string ResultReady = "result-ready";
    public const string Posted = "posted";
    /// <summary>Given back to the queue (status set to pending) by this tenant.</summary>
    public const string Released = "released";
    /// <summary>No longer ours (lease lost, resolved or retracted by others); nothing was posted by us.</summary>
    public const string Abandoned = "abandoned";

    public static bool IsOpen(string state) => state is Claimed or Working or ResultReady;
}

/// <summary>One journal row.</summary>
public sealed record JournalEntry(
    Guid RequestId, Guid TenantUuid, string Quantity, string Method, string State,
    string RequestJson, string? ResultJson, Guid? ResultId, int Attempts, string Message, DateTime Updated);

/// <summary>
/// The local write-ahead record of the work a tenant holds, in one SQLite file (WAL, synchronous FULL):
/// a row per request moving claimed -> working -> result-ready (with the result body) -> posted, or to
/// released / abandoned. Written before each step is taken, so a restarted tenant knows what it held.
/// Thread-safe (one connection behind a lock).
/// </summary>
public sealed class TenantJournal : IDisposable
{
    private readonly DurableSqlite _db;

    public string Path => _db.Path;

    public TenantJournal(string path) =>
        _db = new DurableSqlite(path,
            "CREATE TABLE IF NOT EXISTS work (request_uuid TEXT PRIMARY KEY, tenant_uuid TEXT NOT NULL, quantity TEXT NOT NULL, method TEXT NOT NULL, " +
            "state TEXT NOT NULL, request_json TEXT NOT NULL, result_json TEXT, result_uuid TEXT, attempts INTEGER NOT NULL DEFAULT 0, " +
            "message TEXT NOT NULL DEFAULT '', updated TEXT NOT NULL)");

    private void Exec(string sql, params object?[] args) => _db.Execute(sql, args);

    private static string Now() => DateTime.UtcNow.ToString("O");

    /// <summary>Records a freshly reserved request (a new attempt if the row exists, e.g. claimed again after a release).</summary>
    public void Claimed(Guid requestId, Guid tenant, TenantCapability capability, string requestJson) =>
        Exec("INSERT INTO work (request_uuid, tenant_uuid, quantity, method, state, request_json, attempts, updated) VALUES (@p0,@p1,@p2,@p3,@p4,@p5,1,@p6) " +
             "ON CONFLICT(request_uuid) DO UPDATE SET state = excluded.state, request_json = excluded.request_json, result_json = NULL, result_uuid = NULL, " +
             "attempts = work.attempts + 1, message = '', updated = excluded.updated",
            requestId.ToString("D"), tenant.ToString("D"), capability.Quantity, capability.Method, JournalState.Claimed, requestJson, Now());

    public void Working(Guid requestId) => SetState(requestId, JournalState.Working, "");

    public void ResultReady(Guid requestId, string resultJson, string message) =>
        Exec("UPDATE work SET state = @p1, result_json = @p2, message = @p3, updated = @p4 WHERE request_uuid = @p0",
            requestId.ToString("D"), JournalState.ResultReady, resultJson, message, Now());

    public void Posted(Guid requestId, Guid resultId, string message) =>
        Exec("UPDATE work SET state = @p1, result_uuid = @p2, message = @p3, updated = @p4 WHERE request_uuid = @p0",
            requestId.ToString("D"), JournalState.Posted, resultId.ToString("D"), message, Now());

    public void Released(Guid requestId, string message) => SetState(requestId, JournalState.Released, message);
    public void Abandoned(Guid requestId, string message) => SetState(requestId, JournalState.Abandoned, message);

    private void SetState(Guid requestId, string state, string message) =>
        Exec("UPDATE work SET state = @p1, message = @p2, updated = @p3 WHERE request_uuid = @p0", requestId.ToString("D"), state, message, Now());

    public JournalEntry? Get(Guid requestId) => Query("WHERE request_uuid = @p0", requestId.ToString("D")).FirstOrDefault();

    /// <summary>Entries still in an open state for this tenant, oldest first.</summary>
    public IReadOnlyList<JournalEntry> Open(Guid tenant) =>
        Query("WHERE tenant_uuid = @p0 AND state IN (@p1, @p2, @p3) ORDER BY updated", tenant.ToString("D"),
            JournalState.Claimed, JournalState.Working, JournalState.ResultReady);

    public IReadOnlyList<JournalEntry> All() => Query("ORDER BY updated");

    private List<JournalEntry> Query(string where, params object?[] args) =>
        _db.Query("SELECT request_uuid, tenant_uuid, quantity, method, state, request_json, result_json, result_uuid, attempts, message, updated FROM work " + where,
            r => new JournalEntry(Guid.Parse(r.GetString(0)), Guid.Parse(r.GetString(1)), r.GetString(2), r.GetString(3), r.GetString(4),
                r.GetString(5), r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : Guid.Parse(r.GetString(7)),
                r.GetInt32(8), r.GetString(9), DateTime.Parse(r.GetString(10), null, System.Globalization.DateTimeStyles.RoundtripKind)),
            args);

    public void Dispose() => _db.Dispose();
}
