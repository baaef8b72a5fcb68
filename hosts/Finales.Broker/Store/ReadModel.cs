using System.Data.Common;

namespace Finales.Broker;

// The read model: requests, results, their histories and families, paged lists streamed row by row.
public abstract partial class SqlBrokerStore
{
    private const string RequestSelect = "SELECT r.uuid, r.ctime, s.status, r.body FROM requests r JOIN request_state s ON s.uuid = r.uuid";
    private const string ResultSelect = "SELECT r.uuid, r.ctime, s.status, r.body, r.request_uuid FROM results r JOIN result_state s ON s.uuid = r.uuid";

    private static RequestRow MapRequest(DbDataReader r) => new(Guid.Parse(r.GetString(0)), r.GetString(1), r.GetString(2), r.GetString(3));
    private static ResultRow MapResult(DbDataReader r) => new(Guid.Parse(r.GetString(0)), r.GetString(1), r.GetString(2), r.GetString(3), Guid.Parse(r.GetString(4)));

    public async Task<RequestRow?> RequestAsync(Guid id, CancellationToken ct = default) =>
        (await ReadRowsAsync(RequestSelect + " WHERE r.uuid = @p0", MapRequest, [id.ToString("D")], ct)).FirstOrDefault();

    public async Task<RequestCapability?> QuantityAndMethodsAsync(Guid id, CancellationToken ct = default) =>
        (await ReadRowsAsync("SELECT quantity, methods FROM request_state WHERE uuid = @p0",
            r => new RequestCapability(r.GetString(0), MethodsOf(r.GetString(1))), [id.ToString("D")], ct)).FirstOrDefault();

    public async Task<ResultRow?> ResultAsync(Guid id, CancellationToken ct = default) =>
        (await ReadRowsAsync(ResultSelect + " WHERE r.uuid = @p0", MapResult, [id.ToString("D")], ct)).FirstOrDefault();

    public async IAsyncEnumerable<RequestRow> StreamPendingAsync(string? quantity, string? method, long afterSeq, int? limit,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        await ExpireLeasesAsync(false, ct);
        var (sql, args) = PendingQuery(quantity, method, afterSeq, limit);
        await foreach (var row in Stream(sql, MapRequest, args, ct)) yield return row;
    }

    private (string Sql, object?[] Args) PendingQuery(string? quantity, string? method, long afterSeq, int? limit)
    {
        var ids = PendingIdsSql(quantity, method, locking: false);
        // The page starts after @p2 in the rows the listing walks (by method, request_methods' seq, the request's):
        // a condition on request_state's seq would open the plan PendingIdsSql's note warns of.
        var after = method is null ? " AND s.seq > @p2 ORDER BY " : " AND m.seq > @p2 ORDER BY ";
        var sql = "SELECT r.uuid, r.ctime, s.status, r.body FROM (" + ids.Replace(" ORDER BY ", after, StringComparison.Ordinal)
                  + Limit(limit, 3) + ") p JOIN request_state s ON s.uuid = p.uuid JOIN requests r ON r.uuid = p.uuid ORDER BY s.seq";
        return (sql, [quantity ?? "", method ?? "", afterSeq, (long?)limit ?? long.MaxValue]);
    }

    public IAsyncEnumerable<RequestRow> StreamAllRequestsAsync(long afterSeq, int? limit, CancellationToken ct = default) =>
        Stream(AllRequestsSql(limit), MapRequest, [afterSeq, (long?)limit ?? long.MaxValue], ct);

    private string AllRequestsSql(int? limit) => RequestSelect + " WHERE r.seq > @p0 ORDER BY r.seq" + Limit(limit, 1);

    public async Task<long?> RequestSeqAsync(Guid id, CancellationToken ct = default) =>
        await ReadScalarAsync("SELECT seq FROM requests WHERE uuid = @p0", [id.ToString("D")], ct) is { } v ? Convert.ToInt64(v) : null;

    public async Task<long?> ResultSeqAsync(Guid id, CancellationToken ct = default) =>
        await ReadScalarAsync("SELECT seq FROM results WHERE uuid = @p0", [id.ToString("D")], ct) is { } v ? Convert.ToInt64(v) : null;

    // Both conditions on result_state, so the lookup is one probe of its unique index of current results (a
    // condition on results.request_uuid let PostgreSQL's generic plan walk every current result instead).
    public async Task<ResultRow?> CurrentResultAsync(Guid requestId, CancellationToken ct = default) =>
        (await ReadRowsAsync(ResultSelect + " WHERE s.request_uuid = @p0 AND s.status = 'original'", MapResult, [requestId.ToString("D")], ct)).FirstOrDefault();

    public async Task<IReadOnlyList<ResultRow>> ResultsOfAsync(Guid requestId, CancellationToken ct = default) =>
        await ReadRowsAsync(ResultSelect + " WHERE r.request_uuid = @p0 ORDER BY r.seq", MapResult, [requestId.ToString("D")], ct);

    public IAsyncEnumerable<ResultRow> StreamResultsAsync(string? quantity, string? method, double? minRating, long afterSeq, int? limit, CancellationToken ct = default)
    {
        var (sql, args) = ResultsQuery(quantity, method, minRating, afterSeq, limit);
        return Stream(sql, MapResult, args, ct);
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

    public async Task<IReadOnlyList<HistoryEntry>> HistoryAsync(Guid requestId, Guid? resultId = null, CancellationToken ct = default)
    {
        var sql = "SELECT status, time, actor, tenant_uuid, message, kind, result_uuid FROM events WHERE request_uuid = @p0"
                  + (resultId is null ? "" : " AND result_uuid = @p1") + " ORDER BY seq";
        return await ReadRowsAsync(sql, r => new HistoryEntry(r.GetString(0), r.GetString(1), r.GetString(2),
            r.IsDBNull(3) ? null : r.GetString(3), r.GetString(4), r.GetString(5), r.IsDBNull(6) ? null : Guid.Parse(r.GetString(6))),
            [requestId.ToString("D"), resultId?.ToString("D") ?? ""], ct);
    }

    public async Task<Guid?> RequestOfResultAsync(Guid resultId, CancellationToken ct = default) =>
        await ReadScalarAsync("SELECT request_uuid FROM results WHERE uuid = @p0", [resultId.ToString("D")], ct) is string s ? Guid.Parse(s) : null;

    public Task<RequestFamily> FamilyAsync(Guid requestId, CancellationToken ct = default) => Task.FromResult(Read(c =>
    {
        var parent = Scalar(c, null, "SELECT parent FROM requests WHERE uuid = @p0", requestId.ToString("D")) as string;
        var children = Query(c, null, "SELECT uuid FROM requests WHERE parent = @p0 ORDER BY seq", r => Guid.Parse(r.GetString(0)), requestId.ToString("D"));
        return new RequestFamily(parent is null ? null : Guid.Parse(parent), children);
    }));

    public async Task<IReadOnlyDictionary<string, long>> StatusCountsAsync(CancellationToken ct = default) =>
        (await ReadRowsAsync("SELECT status, COUNT(*) FROM request_state GROUP BY status", r => (r.GetString(0), Convert.ToInt64(r.GetValue(1))), [], ct))
            .ToDictionary(x => x.Item1, x => x.Item2);
}
