using System.Data;
using System.Data.Common;
using Npgsql;

namespace Finales.Broker;

/// <summary>
/// The store on PostgreSQL: one transaction per write on a pooled connection (read committed, the aggregate row
/// locked FOR UPDATE), claims that skip rows other claimers hold locked. Several broker processes may share one
/// database.
/// </summary>
public sealed class PostgresBrokerStore : SqlBrokerStore
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly PostgresWriteGroup _group;

    private PostgresBrokerStore(string description, NpgsqlDataSource dataSource, TimeProvider? clock) : base(description, clock)
    {
        _dataSource = dataSource;
        _group = new PostgresWriteGroup(dataSource);
    }

    /// <summary>Opens a PostgreSQL store (the schema is created if missing).</summary>
    public static PostgresBrokerStore Open(string connectionString, TimeProvider? clock = null)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        if (b.MaxPoolSize < 32) b.MaxPoolSize = 32;
        if (b.MaxAutoPrepare == 0) b.MaxAutoPrepare = 64;
        // The store leaves no session state on a connection (no SET, LISTEN or session-level advisory lock; its locks
        // are transaction-scoped), so a connection handed back to the pool needs no reset: Npgsql would otherwise run
        // six reset statements (RESET ALL, UNLISTEN *, ...) with the next command of every checkout, several per cycle.
        b.NoResetOnClose = true;
        var store = new PostgresBrokerStore($"PostgreSQL {b.Host}:{b.Port}/{b.Database}", NpgsqlDataSource.Create(b.ConnectionString), clock);
        try
        {
            store.Initialise();
            return store;
        }
        catch (Exception e) when (Unavailable(e) is not null)
        {
            store.Dispose();
            throw new StoreUnavailableException($"cannot open the {store.Description} store: {Unavailable(e)}", e);
        }
    }

    public override bool IsPostgres => true;

    /// <summary>What the group commit of lifecycle writes has done so far (<see cref="PostgresWriteGroup"/>).</summary>
    public WriteGroupCounts WriteGroups => _group.Counts;

    public override IReadOnlyList<StoreCounter> Counters
    {
        get
        {
            var c = _group.Counts;
            return
            [
                new("finales_postgres_write_groups_total", "Groups of writes that need no read committed together (group commits).", c.Groups),
                new("finales_postgres_grouped_writes_total", "Writes carried by those groups (writes / groups = group size).", c.Writes),
                new("finales_postgres_write_groups_rolled_back_total", "Groups rolled back because one of their writes failed; their writes then ran one by one.", c.RolledBack),
            ];
        }
    }

    protected override bool ReadsAsync => true;

    public override void Dispose() => _dataSource.Dispose();

    protected override DbConnection OpenRead() => _dataSource.OpenConnection();

    protected override async ValueTask<DbConnection> OpenReadAsync(CancellationToken ct) => await _dataSource.OpenConnectionAsync(ct);

    /// <summary>One transaction on a pooled connection, opened and committed asynchronously; the work itself is synchronous.</summary>
    protected override async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, T> work, CancellationToken ct)
    {
        var pending = new List<(string, IReadOnlyList<string>)>();
        NpgsqlConnection c;
        try { c = await _dataSource.OpenConnectionAsync(ct); }
        catch (Exception e) { NoteWrite(e); throw; }
        T result;
        await using (c)
        await using (var tx = await c.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct))
        {
            CollectBecamePending(pending);
            try
            {
                result = work(c, tx);
            }
            catch (Exception e)
            {
                NoteWrite(e);
                throw;
            }
            finally { CollectBecamePending(null); }
            try { await tx.CommitAsync(ct); }
            catch (Exception e) { NoteWrite(e); throw; }
        }
        NoteWrite(null);
        SignalCommitted(pending);
        return result;
    }

    /// <summary>
    /// A lifecycle write in as few round trips as the work allows: statements whose results are not needed wait and go
    /// with the next read or with the commit, in one batch. A write that needs no read (a request post, and a
    /// reservation or result post deciding on the aggregate this process remembers, its state row updated only at the
    /// version decided on) is committed with the other such writes waiting at the time, in one implicit transaction
    /// (<see cref="PostgresWriteGroup"/>). Read under its lock instead, a reservation or result post is two round trips
    /// on a connection of its own (load, then writes + COMMIT).
    /// </summary>
    protected override async Task<T> RunLifecycleAsync<T>(Func<LifecycleWrite, ValueTask<T>> work, CancellationToken ct)
    {
        await using (var session = new Session(_dataSource, _group, ct))
        {
            T result;
            try
            {
                result = await work(session);
                await session.CommitAsync();
            }
            catch (Exception e)
            {
                NoteWrite(e);
                await session.RollbackAsync();
                throw;
            }
            NoteWrite(null);
            SignalCommitted(session.Pending);
            return result;
        }
    }

    /// <summary>One statement of a batch, in PostgreSQL's positional form.</summary>
    internal static NpgsqlBatchCommand Command(string sql, object?[] args)
    {
        var cmd = new NpgsqlBatchCommand();
        PositionalSql.Bind(sql, args, cmd.Parameters, out var text);
        cmd.CommandText = text;
        return cmd;
    }

    private sealed class Session(NpgsqlDataSource dataSource, PostgresWriteGroup group, CancellationToken ct) : LifecycleWrite, IAsyncDisposable
    {
        private readonly List<(string Sql, object?[] Args)> _writes = [];
        private NpgsqlConnection? _c;
        private bool _begun;

        public List<(string Quantity, IReadOnlyList<string> Methods)> Pending { get; } = [];

        public async ValueTask DisposeAsync()
        {
            if (_c is not null) await _c.DisposeAsync();
        }

        /// <summary>
        /// A batch on this write's own connection (opened at its first read): the transaction opened first, the
        /// waiting writes, then <paramref name="tail"/>.
        /// </summary>
        private async ValueTask<NpgsqlBatch> BatchAsync(IEnumerable<NpgsqlBatchCommand> tail)
        {
            _c ??= await dataSource.OpenConnectionAsync(ct);
            var batch = new NpgsqlBatch(_c);
            if (!_begun)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
                _begun = true;
            }
            foreach (var (sql, args) in _writes) batch.BatchCommands.Add(Command(sql, args));
            _writes.Clear();
            foreach (var t in tail) batch.BatchCommands.Add(t);
            return batch;
        }

        public override async ValueTask<IReadOnlyList<object?[]>[]> ReadAsync(params (string Sql, object?[] Args)[] queries)
        {
            await using var batch = await BatchAsync(queries.Select(q => Command(q.Sql, q.Args)));
            await using var reader = await batch.ExecuteReaderAsync(ct);
            // Only the queries return rows: the reader's result sets are theirs, in order.
            var results = new IReadOnlyList<object?[]>[queries.Length];
            for (var i = 0; i < queries.Length; i++)
            {
                if (i > 0 && !await reader.NextResultAsync(ct)) throw new InvalidOperationException($"query {i} of a batch returned no result set");
                var rows = new List<object?[]>();
                while (await reader.ReadAsync(ct))
                {
                    var row = new object?[reader.FieldCount];
                    reader.GetValues(row!);
                    rows.Add(row);
                }
                results[i] = rows;
            }
            return results;
        }

        public override void Write(string sql, params object?[] args) => _writes.Add((sql, args));

        public override void BecamePending(string quantity, IReadOnlyList<string> methods) => Pending.Add((quantity, methods));

        /// <summary>Sends the waiting writes with the COMMIT (or, when nothing was read, with the write group).</summary>
        public async Task CommitAsync()
        {
            if (!_begun)
            {
                // Ordered by the aggregate whose rows the write locks: the lowest id it touched (a write touches one).
                if (_writes.Count > 0) await group.CommitAsync(Touched is [_, ..] ? Touched.Min(a => a.State.Id) : Guid.Empty, _writes);
                return;
            }
            await using var batch = await BatchAsync([new NpgsqlBatchCommand("COMMIT")]);
            await batch.ExecuteNonQueryAsync(ct);
            _begun = false;
        }

        public async Task RollbackAsync()
        {
            if (!_begun) return;
            _begun = false;
            try
            {
                await using var rollback = new NpgsqlCommand("ROLLBACK", _c);
                await rollback.ExecuteNonQueryAsync(CancellationToken.None);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException) { /* the connection is gone or broken: nothing to roll back */ }
        }
    }

    // ---------------------------------------------------------------- dialect

    /// <summary>The SQLSTATE of a version guard that found another version (class FN: Finales' own).</summary>
    private const string StaleState = "FNS01";

    protected override bool GuardsVersions => true;

    protected override bool IsStaleGuard(Exception e) => e is PostgresException { SqlState: StaleState };

    protected override string GuardedStateUpdate => "CALL finales_update_state(@p0, @p6, @p1, @p2, @p3, @p4, @p5)";

    protected override void CreateFunctions(DbConnection c, DbTransaction tx) =>
        // Updates a request's state row only at the expected version, else fails the transaction. Waiting for another
        // writer's lock, the UPDATE re-reads the row it committed, so a version changed meanwhile is seen. A procedure,
        // so that the check raises (a plain UPDATE of no rows would let the rest of the batch commit) and its CALL
        // returns no rows (a batch's result sets stay those of its queries).
        Exec(c, tx, $$"""
            CREATE OR REPLACE PROCEDURE finales_update_state(request TEXT, expected INTEGER, new_status TEXT, new_holder_tenant TEXT,
                new_holder_user TEXT, new_lease_until BIGINT, new_version INTEGER) LANGUAGE plpgsql AS $fn$
            BEGIN
                UPDATE request_state SET status = new_status, holder_tenant = new_holder_tenant, holder_user = new_holder_user,
                    lease_until = new_lease_until, version = new_version
                WHERE uuid = request AND version = expected;
                IF NOT FOUND THEN
                    RAISE EXCEPTION 'request % is no longer at version %', request, expected USING ERRCODE = '{{StaleState}}';
                END IF;
            END
            $fn$
            """);

    protected override string Serial => "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY";
    protected override string ForUpdate => " FOR UPDATE";
    protected override int ClaimAttempts => 8;
    protected override string ClaimLock => " FOR UPDATE OF s SKIP LOCKED";

    protected override string InsertOrIgnore(string table, string columns, string values) =>
        $"INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT DO NOTHING";

    protected override string Limit(int? limit, int param) => " LIMIT @p" + param;

    protected override void LockSchema(DbConnection c, DbTransaction tx) => Exec(c, tx, "SELECT pg_advisory_xact_lock(727272)");

    protected override void LockCapabilities(DbConnection c, DbTransaction tx) => Exec(c, tx, "SELECT pg_advisory_xact_lock(727273)");

    protected override void AddTokenVersionColumn(DbConnection c, DbTransaction tx) =>
        Exec(c, tx, "ALTER TABLE users ADD COLUMN IF NOT EXISTS token_version BIGINT NOT NULL DEFAULT 0");

    protected override void BumpCatalogVersion(DbConnection c, DbTransaction tx) =>
        // An upsert: two first bumps at once (e.g. two replicas creating their first admin) cannot both insert.
        Exec(c, tx, "INSERT INTO settings (key, value) VALUES ('catalog_version', '1') ON CONFLICT (key) DO UPDATE SET value = (settings.value::bigint + 1)::text");

    protected override DbTransaction BeginSnapshot(DbConnection c) => c.BeginTransaction(IsolationLevel.RepeatableRead);

    public override Task<long> BackupToAsync(string path, CancellationToken ct = default) =>
        throw new InvalidOperationException("backup copies a SQLite store; for PostgreSQL use pg_dump");
}
