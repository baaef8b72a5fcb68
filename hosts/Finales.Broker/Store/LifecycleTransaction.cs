using Finales.Core;

namespace Finales.Broker;

/// <summary>A loaded aggregate with its request's quantity, methods and (when asked for, or remembered) stored body.</summary>
internal sealed record LoadedAggregate(AggregateState State, string Quantity, string[] Methods, string? Body);

// The one lifecycle-transaction path of both adapters: load the locked aggregate, let the core decide and evolve,
// append the one event, project the state. Refusals are LifecycleRejectedException (the HTTP layer maps them).
public abstract partial class SqlBrokerStore
{
    /// <summary>
    /// Ids of new requests and results: time-ordered UUIDs (version 7), so every index keyed by them grows at its right
    /// edge instead of touching a random page per insert (fewer pages written per commit, warm caches at any store size).
    /// </summary>
    protected static Guid NewId() => Guid.CreateVersion7();

    protected static long Ticks(DateTime t) => t.ToUniversalTime().Ticks;
    protected static DateTime FromTicks(long t) => new(t, DateTimeKind.Utc);

    private static readonly LifecycleActor Broker = new("broker", [], true);

    private static LifecycleActor AsActor(UserRecord u) => new(u.Username, u.Tenants, u.IsAdmin);

    private static RequestStatusCode ParseRequestStatus(string s) => s switch
    {
        "pending" => RequestStatusCode.Pending,
        "reserved" => RequestStatusCode.Reserved,
        "resolved" => RequestStatusCode.Resolved,
        "retracted" => RequestStatusCode.Retracted,
        "unsolicited" => RequestStatusCode.Unsolicited,
        _ => throw new StoreUnavailableException($"the store holds an unknown request status '{s}'"),
    };

    private static ResultStatusCode ParseResultStatus(string s) => s switch
    {
        "original" => ResultStatusCode.Original,
        "deleted" => ResultStatusCode.Deleted,
        "amended" => ResultStatusCode.Amended,
        _ => throw new StoreUnavailableException($"the store holds an unknown result status '{s}'"),
    };
    protected static string Name(ResultStatusCode s) => s.ToString().ToLowerInvariant();

    /// <summary>Runs <paramref name="work"/> as one lifecycle write transaction; completes once it is committed.</summary>
    protected abstract Task<T> RunLifecycleAsync<T>(Func<LifecycleWrite, ValueTask<T>> work, CancellationToken ct);

    private const string AggregateSql = "SELECT requester, status, holder_tenant, holder_user, lease_until, version, quantity, methods FROM request_state WHERE uuid = @p0";
    private const string ResultsOfAggregateSql = "SELECT uuid, tenant_uuid, status FROM result_state WHERE request_uuid = @p0 ORDER BY seq";
    private const string RequestBodySql = "SELECT body FROM requests WHERE uuid = @p0";

    private async ValueTask<LoadedAggregate?> LoadAggregate(LifecycleWrite w, Guid id, bool withBody)
    {
        if (Recall(w, id, withBody) is { } known) return known;
        var key = id.ToString("D");
        // The aggregate row (locked where the dialect locks), its results and, when asked for, the request's body,
        // read in one go (PostgreSQL: one round trip).
        var read = withBody
            ? await w.ReadAsync((AggregateSql + ForUpdate, [key]), (ResultsOfAggregateSql, [key]), (RequestBodySql, [key]))
            : await w.ReadAsync((AggregateSql + ForUpdate, [key]), (ResultsOfAggregateSql, [key]));
        if (read[0].Count == 0) return null;
        var row = read[0][0];
        static string? Text(object? v) => v is null or DBNull ? null : (string)v;
        var results = read[1].Select(r => new ResultEntryState(Guid.Parse((string)r[0]!), Guid.Parse((string)r[1]!), ParseResultStatus((string)r[2]!))).ToArray();
        var holderTenant = Text(row[2]);
        var state = new AggregateState(id, Guid.Parse((string)row[0]!), ParseRequestStatus((string)row[1]!),
            holderTenant is null ? null : Guid.Parse(holderTenant), Text(row[3]),
            row[4] is null or DBNull ? null : FromTicks(Convert.ToInt64(row[4])), results, Convert.ToInt32(row[5]));
        var body = withBody && read[2].Count > 0 ? Text(read[2][0][0]) : null;
        return new LoadedAggregate(state, (string)row[6]!, MethodsOf((string)row[7]!), body);
    }

    /// <summary>
    /// Decides <paramref name="command"/> on the locked aggregate, appends its event and updates the projections.
    /// <paramref name="inspect"/> (optional) sees the loaded aggregate (null when the request is unknown) before the
    /// decision and may throw to refuse; <paramref name="withBody"/> loads the request's body for it.
    /// </summary>
    private async ValueTask<AggregateState> Apply(LifecycleWrite w, Guid id, LifecycleActor actor, Guid? actingTenant, LifecycleCommand command, string message, DateTime now,
        Action<LoadedAggregate?>? inspect = null, bool withBody = false)
    {
        // A new request has no state yet (its id was generated here), so creation skips the lookup.
        var loaded = command.IsCreate ? null : await LoadAggregate(w, id, withBody);
        inspect?.Invoke(loaded);
        var decision = BrokerCore.Decide(now, actor, id, actingTenant, message, loaded?.State, command);
        if (!decision.Accepted) throw new LifecycleRejectedException(decision.ErrorKind, decision.Message);
        AppendEvent(w, decision.Event);
        Project(w, loaded, decision.Next, decision.Event);
        if (loaded is not null) w.Touched?.Add(loaded with { State = decision.Next });
        return decision.Next;
    }

    private static void AppendEvent(LifecycleWrite w, EventRow e) =>
        w.Write("INSERT INTO events (request_uuid, result_uuid, kind, status, time, actor, tenant_uuid, message, lease_until, holder_tenant, holder_user, requester) VALUES (@p0,@p1,@p2,@p3,@p4,@p5,@p6,@p7,@p8,@p9,@p10,@p11)",
            e.RequestId.ToString("D"), e.ResultId?.ToString("D"), e.Kind, e.Status, WireFormat.ctime(e.Time), e.Actor, e.Tenant?.ToString("D"), e.Message,
            e.LeaseUntil is { } lease ? Ticks(lease) : null, e.HolderTenant?.ToString("D"), e.HolderUser, e.Requester?.ToString("D"));

    private void Project(LifecycleWrite w, LoadedAggregate? before, AggregateState next, EventRow e)
    {
        var key = next.Id.ToString("D");
        if (before is not null)
        {
            // Decided on a remembered aggregate: the row is updated only at the version decided on, else the whole
            // transaction fails as stale and runs again on the row read under its lock (LifecycleRecall).
            w.Write(w.Recalled.Contains(next.Id)
                    ? GuardedStateUpdate
                    : "UPDATE request_state SET status = @p1, holder_tenant = @p2, holder_user = @p3, lease_until = @p4, version = @p5 WHERE uuid = @p0",
                key, next.StatusName, next.HolderTenant?.ToString("D"), next.HolderUser, next.LeaseUntil is { } lease ? Ticks(lease) : null, next.Version,
                before.State.Version);
            var nowPending = next.Status == RequestStatusCode.Pending;
            if ((before.State.Status == RequestStatusCode.Pending) != nowPending)
            {
                w.Write("UPDATE request_methods SET pending = @p1 WHERE uuid = @p0", key, nowPending ? 1 : 0);
                if (nowPending) w.BecamePending(before.Quantity, before.Methods);
            }
        }
        switch (e.Kind)
        {
            case "result_posted":
                w.Write("INSERT INTO result_state (uuid, seq, request_uuid, tenant_uuid, status) VALUES (@p0, @p1, @p2, @p3, 'original')",
                    e.ResultId!.Value.ToString("D"), next.Version, key, e.Tenant!.Value.ToString("D"));
                break;
            case "result_deleted" or "result_amended":
                w.Write("UPDATE result_state SET status = @p1 WHERE uuid = @p0", e.ResultId!.Value.ToString("D"), e.Status);
                break;
        }
    }

    // ---------------------------------------------------------------- pending signals

    // The requests the running write job made pending (set around each job's work on the thread running it).
    [ThreadStatic] private static List<(string Quantity, IReadOnlyList<string> Methods)>? t_becamePending;

    /// <summary>Notes a request the write running on this thread made pending.</summary>
    protected static void NoteBecamePending(string quantity, IReadOnlyList<string> methods) => t_becamePending?.Add((quantity, methods));

    /// <summary>Collects, on this thread, the requests the write about to run makes pending (null: stop collecting).</summary>
    protected internal static void CollectBecamePending(List<(string Quantity, IReadOnlyList<string> Methods)>? sink) => t_becamePending = sink;

    /// <summary>Wakes the long-polling waiters of requests a committed write made pending.</summary>
    protected internal void SignalCommitted(List<(string Quantity, IReadOnlyList<string> Methods)> becamePending)
    {
        foreach (var (q, ms) in becamePending) Signals.Signal(q, ms);
    }

    // ---------------------------------------------------------------- the writes

    // The request's sequence number, read back in the statement that needs it (so the insert needs no round trip).
    private const string SeqOfRequest = "(SELECT seq FROM requests WHERE uuid = @p0)";

    private async ValueTask<int> InsertRequest(LifecycleWrite w, Guid id, RequestColumns body, UserRecord user, bool unsolicited, DateTime now)
    {
        var methods = Methods(body.Methods);
        var key = id.ToString("D");
        w.Write("INSERT INTO requests (uuid, ctime, quantity, methods, body, tenant_uuid, parent) VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6)",
            key, WireFormat.ctime(now), body.Quantity, methods, body.Json, body.TenantUuid.ToString("D"), body.Parent?.ToString("D"));
        var state = await Apply(w, id, AsActor(user), body.TenantUuid, LifecycleCommand.Create(body.TenantUuid, unsolicited), "", now);
        var pending = state.Status == RequestStatusCode.Pending;
        w.Write($"INSERT INTO request_state (uuid, seq, quantity, methods, requester, status, version) VALUES (@p0, {SeqOfRequest}, @p1, @p2, @p3, @p4, @p5)",
            key, body.Quantity, methods, body.TenantUuid.ToString("D"), state.StatusName, state.Version);
        var insertMethod = InsertOrIgnore("request_methods", "uuid, method, quantity, seq, pending", $"@p0, @p1, @p2, {SeqOfRequest}, @p3");
        foreach (var m in body.Methods) w.Write(insertMethod, key, m, body.Quantity, pending ? 1 : 0);
        if (pending) w.BecamePending(body.Quantity, body.Methods);
        w.Touched?.Add(new LoadedAggregate(state, body.Quantity, [.. body.Methods], body.Json));
        return 0;
    }

    public async Task<Guid> PostRequestAsync(RequestBody body, UserRecord user, CancellationToken ct = default)
    {
        var id = NewId();
        var columns = BrokerCore.RequestColumns(body);
        await WriteLifecycleAsync(w => InsertRequest(w, id, columns, user, false, UtcNow), ct);
        return id;
    }

    private static void InsertResult(LifecycleWrite w, Guid resultId, Guid requestId, ResultColumns body, DateTime now) =>
        w.Write("INSERT INTO results (uuid, ctime, request_uuid, quantity, method, body, tenant_uuid, rating) VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7)",
            resultId.ToString("D"), WireFormat.ctime(now), requestId.ToString("D"), body.Quantity, body.Method, body.Json, body.TenantUuid.ToString("D"), body.Rating);

    public async Task<Guid> PostResultAsync(Guid requestId, ResultBody body, UserRecord user, Action<string?> check, CancellationToken ct = default)
    {
        var resultId = NewId();
        var columns = BrokerCore.ResultColumns(body, requestId);
        // A request's body never changes once stored, so the (costly) check of the result against it may run before
        // the write, off SQLite's single writer; where a read costs a round trip (PostgreSQL), the body comes with the
        // locked aggregate instead and the check runs there. The write decides the lifecycle on the locked state.
        var checkInWrite = ReadsAsync;
        if (!checkInWrite) check(await ReadScalarAsync(RequestBodySql, [requestId.ToString("D")], ct) as string);
        await WriteLifecycleAsync(async w =>
        {
            var now = UtcNow;
            await Apply(w, requestId, AsActor(user), columns.TenantUuid, LifecycleCommand.PostResult(resultId, columns.TenantUuid), "", now,
                checkInWrite ? loaded => check(loaded?.Body) : null, withBody: checkInWrite);
            InsertResult(w, resultId, requestId, columns, now);
            return 0;
        }, ct);
        return resultId;
    }

    public async Task<Guid> PostUnsolicitedAsync(ResultBody body, UserRecord user, CancellationToken ct = default)
    {
        var requestId = NewId();
        var resultId = NewId();
        var request = BrokerCore.RequestColumns(BrokerCore.UnsolicitedRequest(body));
        var columns = BrokerCore.ResultColumns(body, requestId);
        await WriteLifecycleAsync(async w =>
        {
            var now = UtcNow;
            await InsertRequest(w, requestId, request, user, true, now);
            await Apply(w, requestId, AsActor(user), columns.TenantUuid, LifecycleCommand.PostResult(resultId, columns.TenantUuid), "unsolicited result", now);
            InsertResult(w, resultId, requestId, columns, now);
            return 0;
        }, ct);
        return resultId;
    }

    public Task<AggregateState> ExecuteAsync(Guid requestId, UserRecord user, Guid? actingTenant, LifecycleCommand command, string message, CancellationToken ct = default) =>
        WriteLifecycleAsync(w => Apply(w, requestId, AsActor(user), actingTenant, command, message, UtcNow), ct);

    public Task<AggregateState> ExecuteAsync(Guid requestId, UserRecord user, Guid? actingTenant, LifecycleCommand command, string message,
        Action<RequestCapability> check, CancellationToken ct = default) =>
        WriteLifecycleAsync(w => Apply(w, requestId, AsActor(user), actingTenant, command, message, UtcNow,
            loaded => { if (loaded is not null) check(new RequestCapability(loaded.Quantity, loaded.Methods)); }), ct);

    public Task SetResultStatusAsync(Guid resultId, UserRecord user, ResultStatusCode status, string message, CancellationToken ct = default) =>
        WriteLifecycleAsync(async w =>
        {
            var requestId = await w.ScalarAsync("SELECT request_uuid FROM result_state WHERE uuid = @p0", resultId.ToString("D")) as string
                ?? throw new LifecycleRejectedException(LifecycleErrorKind.NotFound, $"result {resultId:D} not found");
            await Apply(w, Guid.Parse(requestId), AsActor(user), null, LifecycleCommand.SetResultStatus(resultId, status), message, UtcNow);
            return 0;
        }, ct);

    /// <summary>How often a claim looks again when every candidate was locked by other claimers (PostgreSQL), else 1.</summary>
    protected virtual int ClaimAttempts => 1;

    /// <summary>Appended to the claim's candidate query (PostgreSQL: skip rows other claimers hold locked).</summary>
    protected virtual string ClaimLock => "";

    public async Task<RequestRow?> ClaimAsync(string? quantity, string? method, UserRecord user, Guid? tenant, double leaseSeconds, CancellationToken ct = default)
    {
        await ExpireLeasesAsync(false, ct);
        for (var attempt = 0; attempt < ClaimAttempts; attempt++)
        {
            var claimed = await WriteLifecycleAsync<RequestRow?>(async w =>
            {
                // One indexed query finds the oldest match whatever lies before it (PostgreSQL: skipping requests
                // another claimer holds locked; the status is re-checked on the locked row) and reads its request's
                // creation time and body, which never change, in the same statement: on PostgreSQL the claim's writes
                // then go with the COMMIT (two round trips with a remembered aggregate, not three).
                var found = (await w.ReadAsync(("SELECT r.uuid, r.ctime, r.body FROM requests r WHERE r.uuid = ("
                    + PendingIdsSql(quantity, method, locking: true) + " LIMIT 1" + ClaimLock + ")", [quantity ?? "", method ?? ""])))[0];
                if (found.Count == 0) return null;
                var row = found[0];
                var id = Guid.Parse((string)row[0]!);
                var state = await Apply(w, id, AsActor(user), tenant, LifecycleCommand.Reserve(tenant, leaseSeconds), "claimed", UtcNow);
                return new RequestRow(id, (string)row[1]!, state.StatusName, (string)row[2]!);
            }, ct);
            if (claimed is not null) return claimed;
            if (ClaimAttempts == 1) return null;
            // All candidates may have been locked by other claimers; look again while there are any.
            if (await ReadScalarAsync(PendingIdsSql(quantity, method, locking: false) + " LIMIT 1", [quantity ?? "", method ?? ""], ct) is null) return null;
        }
        return null;
    }

    /// <summary>
    /// The ids of pending requests for an optional quantity (@p0) and method (@p1), oldest first, as one indexed query:
    /// by method through the pending rows of <c>request_methods</c>, otherwise through the pending index of
    /// <c>request_state</c>. Selects <c>s.uuid</c> from <c>request_state s</c>, so callers can join or lock it.
    /// By method, a request_methods row is flagged pending exactly while its request's state is pending (the lifecycle
    /// write that changes the one changes the other; the audit checks it), so a listing (<paramref name="locking"/>
    /// false) joins the state row by its key only. A status condition there would let PostgreSQL's planner, while its
    /// statistics still see small tables, join through a bitmap scan of request_state's whole pending index for every
    /// candidate, a scan that never learns which entries are dead: every listing then visited each request reserved
    /// since the last vacuum (seen: ~11,000 entries, 6-8 ms per listing, a third of the bench's throughput, in most
    /// runs on a fresh database). A claim locks the state row it finds and needs the condition: PostgreSQL re-checks
    /// the locked row's own conditions on its newest version, so a request another process reserved meanwhile is
    /// passed over instead of refused. There it is written <c>s.status || '' = 'pending'</c>, which means the same but
    /// is not the pending index's predicate, so no planner joins through that index (the claim bench fell to ~400
    /// cycles/s in 3 of 4 runs with the plain condition; SQLite documents this form for keeping a term off an index).
    /// </summary>
    protected static string PendingIdsSql(string? quantity, string? method, bool locking) =>
        method is null
            ? "SELECT s.uuid FROM request_state s WHERE s.status = 'pending'" + (quantity is null ? "" : " AND s.quantity = @p0") + " ORDER BY s.seq"
            : "SELECT s.uuid FROM request_methods m JOIN request_state s ON s.uuid = m.uuid WHERE m.pending = 1 AND m.method = @p1"
              + (quantity is null ? "" : " AND m.quantity = @p0") + (locking ? " AND s.status || '' = 'pending'" : "") + " ORDER BY m.seq";

    private long _nextSweep;

    public async Task<int> ExpireLeasesAsync(bool force = false, CancellationToken ct = default)
    {
        var nowTicks = UtcNow.Ticks;
        if (!force && Interlocked.Read(ref _nextSweep) > nowTicks) return 0;
        Interlocked.Exchange(ref _nextSweep, nowTicks + TimeSpan.TicksPerMillisecond * 200);
        var due = await ReadRowsAsync("SELECT uuid FROM request_state WHERE status = 'reserved' AND lease_until <= @p0 LIMIT 500", r => r.GetString(0), [nowTicks], ct);
        var n = 0;
        foreach (var id in due)
        {
            try
            {
                await WriteLifecycleAsync(w => Apply(w, Guid.Parse(id), Broker, null, LifecycleCommand.ExpireLease, "lease expired; back to pending", UtcNow), ct);
                n++;
            }
            catch (LifecycleRejectedException) { /* renewed or taken meanwhile: nothing to expire */ }
        }
        return n;
    }
}
