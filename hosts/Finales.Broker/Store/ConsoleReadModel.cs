using Finales.Core;

namespace Finales.Broker;

/// <summary>A filter of the console's queue page; null members do not filter.</summary>
public sealed record QueueFilter(string? Quantity, string? Status, Guid? Tenant, string? From, string? To, string? Text, IReadOnlyList<Guid>? VisibleTenants);

/// <summary>One row of the console's queue: enough to list it, without the body.</summary>
public sealed record QueueRow(long Seq, Guid Uuid, string Ctime, string Status, string Quantity, string Methods, Guid Requester, Guid? Holder);

/// <summary>Requests of one capability in one status.</summary>
public sealed record StatusCount(string Quantity, string Status, long Count);

/// <summary>What a tenant did lately: its last event within the window, requests it holds, results it posted within the window.</summary>
public sealed record TenantActivity(Guid Tenant, string? LastSeen, long Held, long ResolvedInWindow);

/// <summary>A request's lifecycle columns the console needs besides its row: requester and holder.</summary>
public sealed record RequestHolder(Guid Requester, Guid? Holder, string? HolderUser);

/// <summary>A current result of one capability with its request (bodies as stored), for the campaign view.</summary>
public sealed record CampaignRow(long ResultSeq, Guid Request, long RequestSeq, Guid Requester, string RequestBody, string ResultBody);

/// <summary>
/// The console's reads (issue 13): keyset-paged queue, counts, tenant activity. Every query is bounded: the queue walks
/// the requests' primary key backwards from a cursor, the activity reads only the events of the window (found by a
/// binary search over the event sequence, whose times grow with it).
/// </summary>
public interface IConsoleReadModel
{
    /// <summary>At most <paramref name="limit"/> requests matching <paramref name="filter"/>, newest first, with sequence below <paramref name="beforeSeq"/>.</summary>
    Task<IReadOnlyList<QueueRow>> QueueAsync(QueueFilter filter, long beforeSeq, int limit, CancellationToken ct = default);
    /// <summary>Requests per capability and status, of the given requesting tenants only (null: all).</summary>
    Task<IReadOnlyList<StatusCount>> StatusCountsByCapabilityAsync(IReadOnlyList<Guid>? requesters, CancellationToken ct = default);
    /// <summary>Per tenant seen since <paramref name="since"/> or holding requests: last event, held requests, results posted since.</summary>
    Task<IReadOnlyList<TenantActivity>> TenantActivityAsync(DateTime since, CancellationToken ct = default);
    /// <summary>The requester and holder of a request, or null when unknown.</summary>
    Task<RequestHolder?> HolderAsync(Guid id, CancellationToken ct = default);
    /// <summary>
    /// The current results of one capability, newest first: at most <paramref name="limit"/> of the newest
    /// <paramref name="scan"/> results of that capability, only those of requests the given tenants requested, hold or
    /// answered (null: all), with their requests.
    /// </summary>
    Task<IReadOnlyList<CampaignRow>> CampaignResultsAsync(string quantity, string method, IReadOnlyList<Guid>? visibleTenants, int limit, int scan, CancellationToken ct = default);
}

public abstract partial class SqlBrokerStore : IConsoleReadModel
{
    public Task<IReadOnlyList<QueueRow>> QueueAsync(QueueFilter filter, long beforeSeq, int limit, CancellationToken ct = default)
    {
        var args = new List<object?> { beforeSeq, (long)limit };
        string P(object? v) { args.Add(v); return "@p" + (args.Count - 1); }
        // A status with a partial index of request_state (few rows by nature) drives the query from that index: the
        // status is a literal (a partial index is only used for a literal) and request_state comes first (CROSS JOIN
        // fixes the order on SQLite), so a status matching few rows reads those rows, not every request from the newest.
        var indexed = filter.Status is { } st && IndexedStatuses.Contains(st);
        var where = new List<string> { (indexed ? "s.seq" : "r.seq") + " < @p0" };
        if (filter.Quantity is { } q) where.Add((indexed ? "s.quantity" : "r.quantity") + " = " + P(q));
        if (filter.Status is { } s) where.Add("s.status = " + (indexed ? "'" + s + "'" : P(s)));
        if (filter.Tenant is { } t) where.Add("(r.tenant_uuid = " + P(t.ToString("D")) + " OR s.holder_tenant = " + P(t.ToString("D")) + ")");
        if (filter.From is { } from) where.Add("r.ctime >= " + P(from));
        if (filter.To is { } to) where.Add("r.ctime <= " + P(to));
        if (filter.Text is { } text)
            where.Add(BrokerApiCore.TryParseUuid(text, out var id) ? "r.uuid = " + P(id.ToString("D")) : "r.body LIKE " + P("%" + EscapeLike(text) + "%") + " ESCAPE '\\'");
        if (filter.VisibleTenants is { } visible)
        {
            var list = visible.Count == 0 ? "''" : string.Join(", ", visible.Select(v => P(v.ToString("D"))));
            where.Add($"(r.tenant_uuid IN ({list}) OR s.holder_tenant IN ({list}))");
        }
        var sql = "SELECT r.seq, r.uuid, r.ctime, s.status, r.quantity, r.methods, r.tenant_uuid, s.holder_tenant FROM "
                  + (indexed ? "request_state s CROSS JOIN requests r WHERE r.uuid = s.uuid AND " : "requests r JOIN request_state s ON s.uuid = r.uuid WHERE ")
                  + string.Join(" AND ", where) + (indexed ? " ORDER BY s.seq DESC" : " ORDER BY r.seq DESC") + " LIMIT @p1";
        return Task.FromResult<IReadOnlyList<QueueRow>>(Read(c => Query(c, null, sql, r => new QueueRow(Convert.ToInt64(r.GetValue(0)), Guid.Parse(r.GetString(1)), r.GetString(2),
            r.GetString(3), r.GetString(4), string.Join(", ", MethodsOf(r.GetString(5))), Guid.Parse(r.GetString(6)), r.IsDBNull(7) ? null : Guid.Parse(r.GetString(7))), [.. args])));
    }

    /// <summary>The statuses with a partial index of request_state (see the schema); the only ones written into the SQL as literals.</summary>
    private static readonly HashSet<string> IndexedStatuses = ["pending", "reserved", "retracted"];

    private static string EscapeLike(string text) => text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");

    public Task<IReadOnlyList<StatusCount>> StatusCountsByCapabilityAsync(IReadOnlyList<Guid>? requesters, CancellationToken ct = default)
    {
        var args = requesters?.Select(t => (object?)t.ToString("D")).ToArray() ?? [];
        var where = requesters is null ? "" : " WHERE requester IN (" + (args.Length == 0 ? "''" : string.Join(", ", args.Select((_, i) => "@p" + i))) + ")";
        var sql = "SELECT quantity, status, COUNT(*) FROM request_state" + where + " GROUP BY quantity, status ORDER BY quantity, status";
        return Task.FromResult<IReadOnlyList<StatusCount>>(Read(c => Query(c, null, sql, r => new StatusCount(r.GetString(0), r.GetString(1), Convert.ToInt64(r.GetValue(2))), args)));
    }

    public Task<IReadOnlyList<TenantActivity>> TenantActivityAsync(DateTime since, CancellationToken ct = default) => Task.FromResult<IReadOnlyList<TenantActivity>>(Read(c =>
    {
        var cut = WireFormat.ctime(since);
        var first = FirstEventAtOrAfter(c, cut);
        var seen = Query(c, null, "SELECT tenant_uuid, MAX(time), SUM(CASE WHEN kind = 'result_posted' THEN 1 ELSE 0 END) FROM events WHERE seq >= @p0 AND tenant_uuid IS NOT NULL GROUP BY tenant_uuid",
            r => (Tenant: Guid.Parse(r.GetString(0)), Last: r.GetString(1), Posted: Convert.ToInt64(r.GetValue(2))), first);
        var held = Query(c, null, "SELECT holder_tenant, COUNT(*) FROM request_state WHERE status = 'reserved' AND holder_tenant IS NOT NULL GROUP BY holder_tenant",
            r => (Tenant: Guid.Parse(r.GetString(0)), Held: Convert.ToInt64(r.GetValue(1))));
        var byTenant = seen.ToDictionary(s => s.Tenant, s => new TenantActivity(s.Tenant, s.Last, 0, s.Posted));
        foreach (var h in held)
            byTenant[h.Tenant] = (byTenant.TryGetValue(h.Tenant, out var a) ? a : new TenantActivity(h.Tenant, null, 0, 0)) with { Held = h.Held };
        return byTenant.Values.ToList();
    }));

    /// <summary>The smallest event sequence whose time is at or after <paramref name="cut"/>: a binary search (times grow with the sequence).</summary>
    private long FirstEventAtOrAfter(System.Data.Common.DbConnection c, string cut)
    {
        var max = Scalar(c, null, "SELECT MAX(seq) FROM events") is { } m ? Convert.ToInt64(m) : 0L;
        long lo = 0, hi = max + 1;
        while (lo < hi)
        {
            var mid = lo + (hi - lo) / 2;
            var time = Scalar(c, null, "SELECT time FROM events WHERE seq >= @p0 ORDER BY seq LIMIT 1", mid) as string;
            if (time is null || string.CompareOrdinal(time, cut) >= 0) hi = mid; else lo = mid + 1;
        }
        return lo;
    }

    public Task<RequestHolder?> HolderAsync(Guid id, CancellationToken ct = default) => Task.FromResult(Read(c =>
        Query(c, null, "SELECT requester, holder_tenant, holder_user FROM request_state WHERE uuid = @p0",
            r => new RequestHolder(Guid.Parse(r.GetString(0)), r.IsDBNull(1) ? null : Guid.Parse(r.GetString(1)), r.IsDBNull(2) ? null : r.GetString(2)), id.ToString("D")).FirstOrDefault()));

    public async Task<IReadOnlyList<CampaignRow>> CampaignResultsAsync(string quantity, string method, IReadOnlyList<Guid>? visibleTenants, int limit, int scan, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        ArgumentOutOfRangeException.ThrowIfLessThan(scan, limit);
        var args = new List<object?> { quantity, method };
        // The newest `scan` results of the capability (the results_quantity index from its right end), then only the
        // current ones the caller may see (the request page's rule: requested, held or answered by one of its tenants).
        var visible = "";
        if (visibleTenants is not null)
        {
            var list = visibleTenants.Count == 0 ? "''" : string.Join(", ", visibleTenants.Select(v => { args.Add(v.ToString("D")); return "@p" + (args.Count - 1); }));
            visible = $" AND (r.tenant_uuid IN ({list}) OR s.holder_tenant IN ({list}) OR EXISTS (SELECT 1 FROM result_state o WHERE o.request_uuid = x.request_uuid AND o.tenant_uuid IN ({list})))";
        }
        var sql = "SELECT x.seq, x.request_uuid, r.seq, r.tenant_uuid, r.body, x.body FROM "
                  + $"(SELECT seq, uuid, request_uuid, body FROM results WHERE quantity = @p0 AND method = @p1 ORDER BY seq DESC LIMIT {scan}) x "
                  + "JOIN result_state rs ON rs.uuid = x.uuid JOIN requests r ON r.uuid = x.request_uuid JOIN request_state s ON s.uuid = x.request_uuid "
                  + "WHERE rs.status = 'original'" + visible + $" ORDER BY x.seq DESC LIMIT {limit}";
        return await ReadRowsAsync(sql, r => new CampaignRow(Convert.ToInt64(r.GetValue(0)), Guid.Parse(r.GetString(1)), Convert.ToInt64(r.GetValue(2)),
            Guid.Parse(r.GetString(3)), r.GetString(4), r.GetString(5)), [.. args], ct);
    }
}
