using System.Data.Common;

namespace Finales.Broker;

// The read model: requests, results, their histories and families, paged lists streamed row by row.
public abstract partial class SqlBrokerStore
{
    private const string RequestSelect = "SELECT r.uuid, r.ctime, s.status, r.body FROM requests r JOIN request_state s ON s.uuid = r.uuid";
    private const string ResultSelect = "SELECT r.uuid, r.ctime, s.status, r.body, r.request_uuid FROM results r JOIN result_state s ON s.uuid = r.uuid";

    private static RequestRow MapRequest(DbDataReader r) => new(Guid.Parse(r.GetString(0)), r.GetString(1), r.GetString(2), r.GetString(3));
    private static ResultRow MapResult(DbDataReader r) => new(Guid.Parse(r.GetString(0)), r.GetString(1), r.GetString(2), r.GetString(3), Guid.Parse(r.GetString(4)));

    private RequestRow? ReadRequest(DbConnection c, DbTransaction? tx, Guid id) =>
        Query(c, tx, RequestSelect + " WHERE r.uuid = @p0", MapRequest, id.ToString("D")).FirstOrDefault();

    public Task<RequestRow?> RequestAsync(Guid id, CancellationToken ct = default) => Task.FromResult(Read(c => ReadRequest(c, null, id)));

    public Task<RequestCapability?> QuantityAndMethodsAsync(Guid id, CancellationToken ct = default) => Task.FromResult(Read(c =>
        Query(c, null, "SELECT quantity, methods FROM request_state WHERE uuid = @p0",
            r => new RequestCapability(r.GetString(0), MethodsOf(r.GetString(1))), id.ToString("D")).FirstOrDefault()));

    public Task<ResultRow?> ResultAsync(Guid id, CancellationToken ct = default) =>
        Task.FromResult(Read(c => Query(c, null, ResultSelect + " WHERE r.uuid = @p0", MapResult, id.ToString("D")).FirstOrDefault()));

    public async IAsyncEnumerable<RequestRow> StreamPendingAsync(string? quantity, string? method, long afterSeq, int? limit,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        await ExpireLeasesAsync(false, ct);
        var (sql, args) = PendingQuery(quantity, method, afterSeq, limit);
        await foreach (var row in Stream(sql, MapRequest, args, ct)) yield return row;
    }

    /// <summary><see cref="StreamPendingAsync"/> for a synchronous caller: every read on the caller's thread.</summary>
    internal IEnumerable<RequestRow> StreamPendingBlocking(string? quantity, string? method, long afterSeq, int? limit)
    {
        // The sweep reads synchronously and completes at once unless a lease is due (at most every 200 ms).
        ExpireLeasesAsync(false).GetAwaiter().GetResult();
        var (sql, args) = PendingQuery(quantity, method, afterSeq, limit);
        return StreamBlocking(sql, MapRequest, args);
    }

    private (string Sql, object?[] Args) PendingQuery(string? quantity, string? method, long afterSeq, int? limit)
    {
        var ids = PendingIdsSql(quantity, method);
        var sql = "SELECT r.uuid, r.ctime, s.status, r.body FROM (" + ids.Replace(" ORDER BY ", " AND s.seq > @p2 ORDER BY ", StringComparison.Ordinal)
                  + Limit(limit, 3) + ") p JOIN request_state s ON s.uuid = p.uuid JOIN requests r ON r.uuid = p.uuid ORDER BY s.seq";
        return (sql, [quantity ?? "", method ?? "", afterSeq, (long?)limit ?? long.MaxValue]);
    }

    public IAsyncEnumerable<RequestRow> StreamAllRequestsAsync(long afterSeq, int? limit, CancellationToken ct = default) =>
        Stream(AllRequestsSql(limit), MapRequest, [afterSeq, (long?)limit ?? long.MaxValue], ct);

    /// <summary><see cref="StreamAllRequestsAsync"/> for a synchronous caller.</summary>
    internal IEnumerable<RequestRow> StreamAllRequestsBlocking(long afterSeq, int? limit) =>
        StreamBlocking(AllRequestsSql(limit), MapRequest, [afterSeq, (long?)limit ?? long.MaxValue]);

    private string AllRequestsSql(int? limit) => RequestSelect + " WHERE r.seq > @p0 ORDER BY r.seq" + Limit(limit, 1);

    public Task<long?> RequestSeqAsync(Guid id, CancellationToken ct = default) => Task.FromResult(Read(c =>
        Scalar(c, null, "SELECT seq FROM requests WHERE uuid = @p0", id.ToString("D")) is { } v ? Convert.ToInt64(v) : (long?)null));

    public Task<long?> ResultSeqAsync(Guid id, CancellationToken ct = default) => Task.FromResult(Read(c =>
        Scalar(c, null, "SELECT seq FROM results WHERE uuid = @p0", id.ToString("D")) is { } v ? Convert.ToInt64(v) : (long?)null));

    // Both conditions on result_state, so the lookup is one probe of its unique index of current results (a
    // condition on results.request_uuid let PostgreSQL's generic plan walk every current result instead).
    public Task<ResultRow?> CurrentResultAsync(Guid requestId, CancellationToken ct = default) => Task.FromResult(Read(c =>
        Query(c, null, ResultSelect + " WHERE s.request_uuid = @p0 AND s.status = 'original'", MapResult, requestId.ToString("D")).FirstOrDefault()));

    public Task<IReadOnlyList<ResultRow>> ResultsOfAsync(Guid requestId, CancellationToken ct = default) => Task.FromResult<IReadOnlyList<ResultRow>>(Read(c =>
        Query(c, null, ResultSelect + " WHERE r.request_uuid = @p0 ORDER BY r.seq", MapResult, requestId.ToString("D"))));

    public IAsyncEnumerable<ResultRow> StreamResultsAsync(string? quantity, string? method, double? minRating, long afterSeq, int? limit, CancellationToken ct = default)
    {
        var (sql, args) = ResultsQuery(quantity, method, minRating, afterSeq, limit);
        return Stream(sql, MapResult, args, ct);
    }

    /// <summary><see cref="StreamResultsAsync"/> for a synchronous caller.</summary>
    internal IEnumerable<ResultRow> StreamResultsBlocking(string? quantity, string? method, double? minRating, long afterSeq, int? limit)
    {
        var (sql, args) = ResultsQuery(quantity, method, minRating, afterSeq, limit);
        return StreamBlocking(sql, MapResult, args);
    }

    private (string Sql, object?[] Args) ResultsQuery(string? quantity, string? method, double? minRating, long afterSeq, int? limit)
    {
        var where = new List<string> { "r.seq > @p3" };
        if (quantity is not null) where.Add("r.quantity = @p0");
        if (method is not null) where.Add("r.method = @p1");
        if (minRating is not null) where.Add("r.rating >= @p2");
        var sql = ResultSelect + " WHERE " + string.Join(" AND ", where) + " ORDER BY r.seq" + Limit(limit, 4);
        return (sql, [quantity ?? "", method ?? "", minRating ?? 0.0, afterSeq, (long?)limit ?? long.MaxValue]);
    }

    public Task<IReadOnlyList<HistoryEntry>> HistoryAsync(Guid requestId, Guid? resultId = null, CancellationToken ct = default)
    {
        var sql = "SELECT status, time, actor, tenant_uuid, message, kind, result_uuid FROM events WHERE request_uuid = @p0"
                  + (resultId is null ? "" : " AND result_uuid = @p1") + " ORDER BY seq";
        return Task.FromResult<IReadOnlyList<HistoryEntry>>(Read(c => Query(c, null, sql, r => new HistoryEntry(r.GetString(0), r.GetString(1), r.GetString(2),
            r.IsDBNull(3) ? null : r.GetString(3), r.GetString(4), r.GetString(5), r.IsDBNull(6) ? null : Guid.Parse(r.GetString(6))),
            requestId.ToString("D"), resultId?.ToString("D") ?? "")));
    }

    public Task<Guid?> RequestOfResultAsync(Guid resultId, CancellationToken ct = default) => Task.FromResult(Read(c =>
        Scalar(c, null, "SELECT request_uuid FROM results WHERE uuid = @p0", resultId.ToString("D")) is string s ? Guid.Parse(s) : (Guid?)null));

    public Task<RequestFamily> FamilyAsync(Guid requestId, CancellationToken ct = default) => Task.FromResult(Read(c =>
    {
        var parent = Scalar(c, null, "SELECT parent FROM requests WHERE uuid = @p0", requestId.ToString("D")) as string;
        var children = Query(c, null, "SELECT uuid FROM requests WHERE parent = @p0 ORDER BY seq", r => Guid.Parse(r.GetString(0)), requestId.ToString("D"));
        return new RequestFamily(parent is null ? null : Guid.Parse(parent), children);
    }));

    public Task<IReadOnlyDictionary<string, long>> StatusCountsAsync(CancellationToken ct = default) => Task.FromResult<IReadOnlyDictionary<string, long>>(Read(c =>
        Query(c, null, "SELECT status, COUNT(*) FROM request_state GROUP BY status", r => (r.GetString(0), Convert.ToInt64(r.GetValue(1))))
            .ToDictionary(x => x.Item1, x => x.Item2)));
}
