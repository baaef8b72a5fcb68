using System.Data.Common;
using System.Globalization;

namespace Finales.Broker;

// The audit (the event log replays to the stored projections) and the whole-store dump.
public abstract partial class SqlBrokerStore
{
    /// <summary>A read transaction that sees one snapshot for all its queries.</summary>
    protected abstract DbTransaction BeginSnapshot(DbConnection c);

    /// <summary>
    /// The audit: replays every request's event log through the pure state machine and compares it with the
    /// stored projections; also checks that no request has more than one current result and that the pending flags of
    /// request_methods agree with the requests' status. Returns the problems found.
    /// </summary>
    public Task<IReadOnlyList<string>> AuditAsync(CancellationToken ct = default) => Task.FromResult<IReadOnlyList<string>>(Read(c =>
    {
        // One snapshot for every query: writes committed meanwhile (the lease sweeper, tenants) must not make the
        // log and the projections look inconsistent.
        using var tx = BeginSnapshot(c);
        var problems = new List<string>();
        static Guid? Id(DbDataReader r, int i) => r.IsDBNull(i) ? null : Guid.Parse(r.GetString(i));
        var events = Query(c, tx,
            "SELECT request_uuid, result_uuid, kind, time, actor, tenant_uuid, message, lease_until, holder_tenant, holder_user, requester FROM events ORDER BY seq",
            r => new EventRow(Guid.Parse(r.GetString(0)), r.GetString(2), "",
                DateTime.Parse(r.GetString(3), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
                r.GetString(4), Id(r, 5), r.GetString(6), Id(r, 1), r.IsDBNull(7) ? null : FromTicks(Convert.ToInt64(r.GetValue(7))),
                Id(r, 8), r.IsDBNull(9) ? null : r.GetString(9), Id(r, 10)));
        var states = new Dictionary<Guid, AggregateState>();
        foreach (var e in events)
        {
            states.TryGetValue(e.RequestId, out var s);
            if (BrokerCore.TryEvolve(s, e, out var next, out var error)) states[e.RequestId] = next;
            else problems.Add(error);
        }
        var projection = Query(c, tx, "SELECT uuid, status, version FROM request_state",
            r => (Id: r.GetString(0), Status: r.GetString(1), Version: Convert.ToInt32(r.GetValue(2))));
        foreach (var p in projection)
        {
            if (!states.TryGetValue(Guid.Parse(p.Id), out var a)) { problems.Add($"request {p.Id} has no events"); continue; }
            if (a.StatusName != p.Status) problems.Add($"request {p.Id}: stored status {p.Status}, replayed {a.StatusName}");
            if (a.Version != p.Version) problems.Add($"request {p.Id}: stored version {p.Version}, replayed {a.Version}");
            var current = a.Results.Count(r => r.Status == ResultStatusCode.Original);
            if (current > 1) problems.Add($"request {p.Id} has {current} current results");
        }
        if (projection.Count != states.Count) problems.Add($"{states.Count} requests in the log, {projection.Count} in the projection");
        var results = Query(c, tx, "SELECT uuid, request_uuid, status FROM result_state", r => (Id: r.GetString(0), Req: r.GetString(1), Status: r.GetString(2)));
        foreach (var r in results)
        {
            if (!states.TryGetValue(Guid.Parse(r.Req), out var s)) { problems.Add($"result {r.Id} belongs to unknown request {r.Req}"); continue; }
            var entry = s.Results.FirstOrDefault(x => x.Id.ToString("D") == r.Id);
            if (entry is null) problems.Add($"result {r.Id} is not in the log");
            else if (Name(entry.Status) != r.Status) problems.Add($"result {r.Id}: stored status {r.Status}, replayed {Name(entry.Status)}");
        }
        // The pending listings and claims by method walk request_methods' pending flags (PendingIdsSql): each must
        // agree with its request's status.
        var flags = Convert.ToInt64(Scalar(c, tx,
            "SELECT COUNT(*) FROM request_methods m JOIN request_state s ON s.uuid = m.uuid WHERE (m.pending = 1) <> (s.status = 'pending')"));
        if (flags > 0) problems.Add($"{flags} request method rows flagged pending against their request's status");
        var orphanResults = Convert.ToInt64(Scalar(c, tx, "SELECT COUNT(*) FROM results r WHERE NOT EXISTS (SELECT 1 FROM result_state s WHERE s.uuid = r.uuid)"));
        if (orphanResults > 0) problems.Add($"{orphanResults} results without state (half-written)");
        var orphanRequests = Convert.ToInt64(Scalar(c, tx, "SELECT COUNT(*) FROM requests r WHERE NOT EXISTS (SELECT 1 FROM request_state s WHERE s.uuid = r.uuid)"));
        if (orphanRequests > 0) problems.Add($"{orphanRequests} requests without state (half-written)");
        return problems;
    }));

    public async Task<IReadOnlyDictionary<string, object>> DumpAsync(CancellationToken ct = default)
    {
        var result = Read(c =>
        {
            var tables = new Dictionary<string, object>();
            foreach (var table in new[] { "capabilities", "tenants", "requests", "request_state", "results", "result_state", "events" })
            {
                tables[table] = Query(c, null, $"SELECT * FROM {table}", r =>
                {
                    var row = new Dictionary<string, object?>();
                    for (var i = 0; i < r.FieldCount; i++) row[r.GetName(i)] = r.IsDBNull(i) ? null : r.GetValue(i);
                    return row;
                });
            }
            return tables;
        });
        result["users"] = (await UsersAsync(ct)).Select(u => new { username = u.Username, roles = u.Roles, tenants = u.Tenants, is_active = u.IsActive }).ToList();
        return result;
    }
}
