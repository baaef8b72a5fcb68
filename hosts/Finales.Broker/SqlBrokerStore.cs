using System.Data;
using System.Data.Common;
using System.Text.Json;
using Finales.Core;
using Microsoft.Data.Sqlite;
using Microsoft.FSharp.Core;
using Npgsql;

namespace Finales.Broker;

/// <summary>
/// The append-only store on SQLite (one file, WAL) or PostgreSQL. Requests, results and events are
/// only ever inserted; <c>request_state</c> and <c>result_state</c> are projections of the event log,
/// updated in the same transaction as the event they fold, so the log always replays to them.
/// Every write decides through the pure <see cref="Lifecycle"/> state machine under a row lock.
/// </summary>
public sealed class SqlBrokerStore : IDisposable
{
    private readonly bool _pg;
    private readonly string _sqliteConnectionString = "";
    private readonly NpgsqlDataSource? _dataSource;
    private SqliteConnection? _writer;

    public string Description { get; }
    public bool IsPostgres => _pg;

    private string _sqlitePath = "";

    private SqlBrokerStore(bool pg, string description, string sqlite, NpgsqlDataSource? ds)
    {
        _pg = pg;
        if (!pg) _sqlitePath = new SqliteConnectionStringBuilder(sqlite).DataSource;
        Description = description;
        _sqliteConnectionString = sqlite;
        _dataSource = ds;
    }

    /// <summary>Opens (creating if needed) a SQLite store file.</summary>
    public static SqlBrokerStore OpenSqlite(string path)
    {
        var full = Path.GetFullPath(path);
        SqlBrokerStore? store = null;
        try
        {
            var dir = Path.GetDirectoryName(full);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            if (Directory.Exists(full)) throw new StoreUnavailableException($"{full} is a directory, not a database file");
            var cs = new SqliteConnectionStringBuilder { DataSource = full, Pooling = true, DefaultTimeout = 30 }.ToString();
            store = new SqlBrokerStore(false, $"SQLite {full}", cs, null);
            store.Initialise();
            return store;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException || Unavailable(e) is not null)
        {
            store?.Dispose();
            var why = e is StoreUnavailableException ? e.Message : Unavailable(e) ?? e.Message;
            throw new StoreUnavailableException($"cannot open the SQLite store {full}: {why}", e);
        }
    }

    /// <summary>Opens a PostgreSQL store (the schema is created if missing).</summary>
    public static SqlBrokerStore OpenPostgres(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        if (b.MaxPoolSize < 32) b.MaxPoolSize = 32;
        if (b.MaxAutoPrepare == 0) b.MaxAutoPrepare = 64;
        var ds = NpgsqlDataSource.Create(b.ConnectionString);
        var store = new SqlBrokerStore(true, $"PostgreSQL {b.Host}:{b.Port}/{b.Database}", "", ds);
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

    public void Dispose()
    {
        lock (_queue) { _closed = true; Monitor.Pulse(_queue); }
        _writerThread?.Join(TimeSpan.FromSeconds(10));
        _stopCheckpoints.Set();
        _checkpointThread?.Join(TimeSpan.FromSeconds(10));
        _writer?.Dispose();
        while (_readers.TryTake(out var r)) r.Dispose();
        _dataSource?.Dispose();
    }

    // ---------------------------------------------------------------- health

    /// <summary>
    /// Why <paramref name="e"/> (or an exception inside it) means the store itself failed (disk full, read-only,
    /// not a database, unreachable server...), or null when it is something else (a refusal, a bug).
    /// </summary>
    public static string? Unavailable(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case StoreUnavailableException su: return su.Message;
                case SqliteException se:
                    var why = (se.SqliteErrorCode & 0xFF) switch
                    {
                        13 => "disk full",
                        8 => "the database is read-only (file or file system not writable)",
                        10 => "I/O error",
                        14 => "the database file cannot be opened",
                        26 => "the file is not a database",
                        11 => "the database file is corrupt",
                        5 or 6 => "the database is locked by another process",
                        23 => "access to the database file denied",
                        _ => null,
                    };
                    if (why is not null) return $"{why} ({se.Message})";
                    break;
                case PostgresException pe:
                    if (pe.SqlState.StartsWith("53", StringComparison.Ordinal) || pe.SqlState.StartsWith("57", StringComparison.Ordinal)
                        || pe.SqlState.StartsWith("58", StringComparison.Ordinal) || pe.SqlState.StartsWith("08", StringComparison.Ordinal)
                        || pe.SqlState.StartsWith("3D", StringComparison.Ordinal) || pe.SqlState.StartsWith("28", StringComparison.Ordinal))
                        return pe.SqlState == "53100" ? $"disk full ({pe.MessageText})" : $"PostgreSQL {pe.SqlState}: {pe.MessageText}";
                    break;
                case NpgsqlException ne: return $"PostgreSQL unreachable ({ne.Message})";
            }
        }
        return null;
    }

    private long? FreeBytes()
    {
        try { return new DriveInfo(Path.GetDirectoryName(_sqlitePath)!).AvailableFreeSpace; }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { return null; }
    }

    // The last write that failed because of the store (null after a successful commit).
    private volatile string? _lastWriteFailure;

    private void NoteWrite(Exception? failure)
    {
        if (failure is null) _lastWriteFailure = null;
        else if (Unavailable(failure) is { } why) _lastWriteFailure = $"{why} (at {WireFormat.ctime(DateTime.UtcNow)})";
    }

    /// <summary>
    /// The store's health for /healthz: a cheap read probe, and, when the last write failed, a tiny write probe (so a
    /// store that recovered, e.g. after space was freed, reports healthy again). Null when healthy, else why not.
    /// </summary>
    public string? Health()
    {
        try
        {
            using (var c = OpenRead())
                Scalar(c, null, "SELECT COUNT(*) FROM settings");
            // A tiny write may still fit in a full file system (reused WAL frames) while a request does not: below
            // 1 MiB free, the SQLite store reports itself full.
            if (!_pg && FreeBytes() is { } free && free < 1 << 20)
                return $"writes fail: disk full ({free} bytes free next to {_sqlitePath})";
            if (_lastWriteFailure is { } failed)
            {
                try
                {
                    Write((c, tx) => Exec(c, tx, "INSERT INTO settings (key, value) VALUES ('health_probe', @p0) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        WireFormat.ctime(DateTime.UtcNow)));
                }
                catch (Exception e) when (Unavailable(e) is not null) { return "writes fail: " + (_lastWriteFailure ?? failed); }
            }
            return null;
        }
        catch (Exception e) when (Unavailable(e) is { } why)
        {
            return "reads fail: " + why;
        }
    }

    // ---------------------------------------------------------------- plumbing

    private DbConnection OpenRead()
    {
        if (_pg) return _dataSource!.OpenConnection();
        if (_readers.TryTake(out var pooled)) return pooled;
        var c = new PooledReader(this, _sqliteConnectionString);
        c.Open();
        Pragmas(c, "PRAGMA busy_timeout=30000;");
        return c;
    }

    // No PRAGMA mmap_size: the file grows with every checkpoint and each connection then remaps it (munmap, TLB
    // shootdowns on every core); measured, memory-mapped reads cost a third of the broker's throughput.

    private static void Pragmas(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private readonly System.Collections.Concurrent.ConcurrentBag<PooledReader> _readers = new();
    private const int MaxPooledReaders = 64;

    /// <summary>
    /// A SQLite read connection that stays open and keeps its prepared statements (SQLite re-parses every new
    /// command otherwise); disposing it hands it back to the store's pool.
    /// </summary>
    private sealed class PooledReader(SqlBrokerStore owner, string connectionString) : SqliteConnection(connectionString)
    {
        public readonly Dictionary<string, SqliteCommand> Statements = new();

        protected override void Dispose(bool disposing)
        {
            if (disposing && !owner._closed && State == ConnectionState.Open && owner._readers.Count < MaxPooledReaders)
            {
                owner._readers.Add(this);
                return;
            }
            foreach (var cmd in Statements.Values) cmd.Dispose();
            Statements.Clear();
            base.Dispose(disposing);
        }
    }

    // Prepared statements of the SQLite writer connection, reused across transactions (SQLite re-prepares
    // every new command otherwise). Only used under the write lock, so no synchronisation is needed.
    private readonly Dictionary<string, SqliteCommand> _writerStatements = new();

    private DbCommand Cmd(DbConnection c, DbTransaction? tx, string sql, object?[] args, out bool cached)
    {
        cached = false;
        // The writer's statements are only used by the writer thread, a pooled reader's only by its current borrower.
        var cache = _pg ? null : ReferenceEquals(c, _writer) ? _writerStatements : (c as PooledReader)?.Statements;
        if (cache is not null)
        {
            var sc = (SqliteConnection)c;
            if (!cache.TryGetValue(sql, out var prepared))
            {
                prepared = sc.CreateCommand();
                prepared.CommandText = sql;
                for (var i = 0; i < args.Length; i++) prepared.Parameters.Add(new SqliteParameter("@p" + i, null));
                cache[sql] = prepared;
            }
            prepared.Transaction = (SqliteTransaction?)tx;
            for (var i = 0; i < args.Length; i++) prepared.Parameters[i].Value = args[i] ?? DBNull.Value;
            cached = true;
            return prepared;
        }
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        for (var i = 0; i < args.Length; i++)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = "@p" + i;
            p.Value = args[i] ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }
        return cmd;
    }

    private int Exec(DbConnection c, DbTransaction? tx, string sql, params object?[] args)
    {
        var cmd = Cmd(c, tx, sql, args, out var cached);
        try { return cmd.ExecuteNonQuery(); }
        finally { if (!cached) cmd.Dispose(); }
    }

    private object? Scalar(DbConnection c, DbTransaction? tx, string sql, params object?[] args)
    {
        var cmd = Cmd(c, tx, sql, args, out var cached);
        try
        {
            var v = cmd.ExecuteScalar();
            return v is DBNull ? null : v;
        }
        finally { if (!cached) cmd.Dispose(); }
    }

    private List<T> Query<T>(DbConnection c, DbTransaction? tx, string sql, Func<DbDataReader, T> map, params object?[] args)
    {
        var cmd = Cmd(c, tx, sql, args, out var cached);
        try
        {
            using var r = cmd.ExecuteReader();
            var list = new List<T>();
            while (r.Read()) list.Add(map(r));
            return list;
        }
        finally { if (!cached) cmd.Dispose(); }
    }

    /// <summary>Runs <paramref name="work"/> in one write transaction; the result is committed before return.</summary>
    private T Write<T>(Func<DbConnection, DbTransaction, T> work) => WriteAsync(work).GetAwaiter().GetResult();

    /// <summary>
    /// Runs <paramref name="work"/> in a write transaction and completes once it is committed. PostgreSQL: one
    /// transaction per call on a pooled connection. SQLite (one writer): a dedicated writer thread takes every
    /// queued job, runs each inside its own savepoint of one shared transaction and commits once (group commit);
    /// a job that throws is rolled back to its savepoint and only its caller sees the error.
    /// </summary>
    private Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, T> work)
    {
        if (_pg)
        {
            var pending = new List<(string, IReadOnlyList<string>)>();
            using var c = OpenWriteConnection();
            using var tx = c.BeginTransaction(IsolationLevel.ReadCommitted);
            t_becamePending = pending;
            T result;
            try
            {
                result = work(c, tx);
                tx.Commit();
            }
            catch (Exception e)
            {
                NoteWrite(e);
                throw;
            }
            finally { t_becamePending = null; }
            NoteWrite(null);
            SignalCommitted(pending);
            return Task.FromResult(result);
        }
        EnsureWriterThread();
        var job = new WriteJob((c, tx) => work(c, tx));
        lock (_queue)
        {
            if (_closed) throw new ObjectDisposedException(nameof(SqlBrokerStore));
            _queue.Enqueue(job);
            if (_writerWaiting) Monitor.Pulse(_queue);
        }
        return Completion<T>(job.Done.Task);
    }

    private static async Task<T> Completion<T>(Task<object?> done) => (T)(await done)!;

    private DbConnection OpenWriteConnection()
    {
        try { return _dataSource!.OpenConnection(); }
        catch (Exception e) { NoteWrite(e); throw; }
    }

    private sealed class WriteJob(Func<DbConnection, DbTransaction, object?> work)
    {
        public Func<DbConnection, DbTransaction, object?> Work { get; } = work;
        public TaskCompletionSource<object?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        /// <summary>Requests this job made pending: signalled to waiters once the batch is committed.</summary>
        public List<(string Quantity, IReadOnlyList<string> Methods)> BecamePending { get; } = [];
    }

    /// <summary>Long-polling waiters of the pending queue, woken by committed writes that make a matching request pending.</summary>
    public PendingSignals Signals { get; } = new();

    // The requests the running write job made pending (set around each job's work on the thread running it).
    [ThreadStatic] private static List<(string Quantity, IReadOnlyList<string> Methods)>? t_becamePending;

    private static void BecamePending(string quantity, IReadOnlyList<string> methods) => t_becamePending?.Add((quantity, methods));

    private void SignalCommitted(List<(string Quantity, IReadOnlyList<string> Methods)> becamePending)
    {
        foreach (var (q, ms) in becamePending) Signals.Signal(q, ms);
    }

    // The writer's queue. A plain monitor rather than a BlockingCollection: its semaphore spins (sched_yield) before
    // it sleeps, which on a 2-core machine takes the CPU from the request threads the writer is waiting for.
    private readonly Queue<WriteJob> _queue = new();
    private bool _writerWaiting;
    private volatile bool _closed;
    private Thread? _writerThread;
    private readonly object _threadGate = new();

    private void EnsureWriterThread()
    {
        if (_writerThread is not null) return;
        lock (_threadGate)
        {
            if (_writerThread is not null) return;
            _writer = new SqliteConnection(_sqliteConnectionString);
            _writer.Open();
            using (var pragma = _writer.CreateCommand())
            {
                // Checkpoints run on their own thread (CheckpointLoop), so a commit never waits for pages being copied
                // back and fsynced; the writer's own automatic checkpoint stays only as a backstop for a huge WAL, and
                // a WAL file that grew past 64 MB is cut back when it starts over.
                pragma.CommandText = "PRAGMA busy_timeout=30000; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=20000; PRAGMA journal_size_limit=67108864;";
                pragma.ExecuteNonQuery();
            }
            _writerThread = new Thread(WriterLoop) { IsBackground = true, Name = "finales-sqlite-writer" };
            _writerThread.Start();
            _checkpointThread = new Thread(CheckpointLoop) { IsBackground = true, Name = "finales-sqlite-checkpoint" };
            _checkpointThread.Start();
        }
    }

    private Thread? _checkpointThread;
    private readonly ManualResetEventSlim _stopCheckpoints = new(false);
    private long _commits;
    private long _jobs;
    private long _checkpoints;

    /// <summary>SQLite write activity since the store was opened: group commits, the write jobs they carried,
    /// background checkpoints (all zero on PostgreSQL, which commits per call and checkpoints itself).</summary>
    public (long Commits, long Jobs, long Checkpoints) WriteStats =>
        (Interlocked.Read(ref _commits), Interlocked.Read(ref _jobs), Interlocked.Read(ref _checkpoints));

    /// <summary>
    /// Copies committed WAL pages back into the database file five times a second when anything was committed, with a
    /// PASSIVE checkpoint: it never blocks the writer or readers, and the writer restarts the WAL from its beginning
    /// once everything in it has been copied.
    /// </summary>
    private void CheckpointLoop()
    {
        using var c = new SqliteConnection(_sqliteConnectionString);
        c.Open();
        Pragmas(c, "PRAGMA busy_timeout=30000;");
        long seen = 0;
        while (!_stopCheckpoints.Wait(200))
        {
            var now = Interlocked.Read(ref _commits);
            if (now == seen) continue;
            seen = now;
            try
            {
                Pragmas(c, "PRAGMA wal_checkpoint(PASSIVE);");
                Interlocked.Increment(ref _checkpoints);
                // The writer copies the few pages committed meanwhile between two batches, so the whole WAL is in
                // the database and the next write transaction starts the WAL over instead of growing it.
                Volatile.Write(ref _checkpointTail, true);
            }
            catch (SqliteException) { /* busy or closing: the next round (or the writer's backstop) catches up */ }
        }
    }

    private bool _checkpointTail;

    private void WriterLoop()
    {
        var batch = new List<WriteJob>(64);
        while (true)
        {
            batch.Clear();
            lock (_queue)
            {
                while (_queue.Count == 0)
                {
                    if (_closed) return;
                    _writerWaiting = true;
                    Monitor.Wait(_queue);
                    _writerWaiting = false;
                }
                while (batch.Count < 64 && _queue.TryDequeue(out var job)) batch.Add(job);
            }
            var results = new object?[batch.Count];
            var errors = new Exception?[batch.Count];
            try
            {
                using var tx = _writer!.BeginTransaction(deferred: false);
                for (var i = 0; i < batch.Count; i++)
                {
                    tx.Save("job");
                    t_becamePending = batch[i].BecamePending;
                    try
                    {
                        results[i] = batch[i].Work(_writer, tx);
                        tx.Release("job");
                    }
                    catch (Exception e)
                    {
                        tx.Rollback("job");
                        tx.Release("job");
                        errors[i] = e;
                        batch[i].BecamePending.Clear();
                        NoteWrite(e);
                    }
                    finally { t_becamePending = null; }
                }
                tx.Commit();
                if (errors.All(x => x is null || Unavailable(x) is null)) NoteWrite(null);
                Interlocked.Increment(ref _commits);
                Interlocked.Add(ref _jobs, batch.Count);
            }
            catch (Exception e)
            {
                NoteWrite(e);
                // The commit (or the transaction itself) failed: nothing of this batch is durable.
                for (var i = 0; i < batch.Count; i++) errors[i] ??= e;
                for (var i = 0; i < batch.Count; i++) if (errors[i] is null) errors[i] = e;
                for (var i = 0; i < batch.Count; i++) results[i] = null;
                for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetException(errors[i]!);
                continue;
            }
            for (var i = 0; i < batch.Count; i++)
            {
                SignalCommitted(batch[i].BecamePending);
                if (errors[i] is { } err) batch[i].Done.TrySetException(err);
                else batch[i].Done.TrySetResult(results[i]);
            }
            if (Volatile.Read(ref _checkpointTail))
            {
                Volatile.Write(ref _checkpointTail, false);
                try { Pragmas(_writer!, "PRAGMA wal_checkpoint(PASSIVE);"); }
                catch (SqliteException) { /* a reader's lock: the next round catches up */ }
            }
        }
    }

    private string Serial => _pg ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT";
    private string ForUpdate => _pg ? " FOR UPDATE" : "";

    private void Initialise()
    {
        if (!_pg)
        {
            using var c = new SqliteConnection(_sqliteConnectionString);
            c.Open();
            Exec(c, null, "PRAGMA journal_mode=WAL;");
        }
        Write((c, tx) =>
        {
            if (_pg) Exec(c, tx, "SELECT pg_advisory_xact_lock(727272)");
            var ddl = new[]
            {
                "CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                "CREATE TABLE IF NOT EXISTS users (username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, roles TEXT NOT NULL, tenants TEXT NOT NULL, is_active INTEGER NOT NULL)",
                $"CREATE TABLE IF NOT EXISTS capabilities (id {Serial}, quantity TEXT NOT NULL, method TEXT NOT NULL, spec TEXT NOT NULL, result_output TEXT NOT NULL, is_active INTEGER NOT NULL, created TEXT NOT NULL)",
                "CREATE TABLE IF NOT EXISTS tenants (uuid TEXT PRIMARY KEY, name TEXT NOT NULL, limitations TEXT NOT NULL, contact_person TEXT NOT NULL, is_active INTEGER NOT NULL)",
                $"CREATE TABLE IF NOT EXISTS requests (seq {Serial}, uuid TEXT NOT NULL UNIQUE, ctime TEXT NOT NULL, quantity TEXT NOT NULL, methods TEXT NOT NULL, body TEXT NOT NULL, tenant_uuid TEXT NOT NULL, parent TEXT)",
                "CREATE TABLE IF NOT EXISTS request_state (uuid TEXT PRIMARY KEY, seq BIGINT NOT NULL, quantity TEXT NOT NULL, methods TEXT NOT NULL, requester TEXT NOT NULL, status TEXT NOT NULL, holder_tenant TEXT, holder_user TEXT, lease_until BIGINT, version INTEGER NOT NULL)",
                "CREATE INDEX IF NOT EXISTS request_state_pending ON request_state (quantity, seq) WHERE status = 'pending'",
                "CREATE INDEX IF NOT EXISTS request_state_reserved ON request_state (lease_until) WHERE status = 'reserved'",
                $"CREATE TABLE IF NOT EXISTS results (seq {Serial}, uuid TEXT NOT NULL UNIQUE, ctime TEXT NOT NULL, request_uuid TEXT NOT NULL, quantity TEXT NOT NULL, method TEXT NOT NULL, body TEXT NOT NULL, tenant_uuid TEXT NOT NULL, rating DOUBLE PRECISION)",
                "CREATE INDEX IF NOT EXISTS results_request ON results (request_uuid)",
                "CREATE INDEX IF NOT EXISTS results_quantity ON results (quantity, method)",
                "CREATE TABLE IF NOT EXISTS result_state (uuid TEXT PRIMARY KEY, seq BIGINT NOT NULL, request_uuid TEXT NOT NULL, tenant_uuid TEXT NOT NULL, status TEXT NOT NULL)",
                "CREATE UNIQUE INDEX IF NOT EXISTS result_state_one_current ON result_state (request_uuid) WHERE status = 'original'",
                "CREATE INDEX IF NOT EXISTS result_state_request ON result_state (request_uuid, seq)",
                $"CREATE TABLE IF NOT EXISTS events (seq {Serial}, request_uuid TEXT NOT NULL, result_uuid TEXT, kind TEXT NOT NULL, status TEXT NOT NULL, time TEXT NOT NULL, actor TEXT NOT NULL, tenant_uuid TEXT, message TEXT NOT NULL, lease_until BIGINT, holder_tenant TEXT, holder_user TEXT, requester TEXT)",
                "CREATE INDEX IF NOT EXISTS events_request ON events (request_uuid, seq)",
                "CREATE INDEX IF NOT EXISTS requests_parent ON requests (parent) WHERE parent IS NOT NULL",
                // One row per (request, method), flagged while the request is pending: a claim or a pending listing by
                // (quantity, method) is one probe of this partial index, whatever other requests lie before the match.
                "CREATE TABLE IF NOT EXISTS request_methods (uuid TEXT NOT NULL, method TEXT NOT NULL, quantity TEXT NOT NULL, seq BIGINT NOT NULL, pending INTEGER NOT NULL, PRIMARY KEY (uuid, method))",
                "CREATE INDEX IF NOT EXISTS request_methods_pending ON request_methods (quantity, method, seq) WHERE pending = 1",
                "CREATE INDEX IF NOT EXISTS request_methods_pending_method ON request_methods (method, seq) WHERE pending = 1",
            };
            foreach (var s in ddl) Exec(c, tx, s);
            // Migration: the per-user token version (tokens carry it; raising it revokes older tokens).
            if (_pg) Exec(c, tx, "ALTER TABLE users ADD COLUMN IF NOT EXISTS token_version BIGINT NOT NULL DEFAULT 0");
            else if (Convert.ToInt64(Scalar(c, tx, "SELECT COUNT(*) FROM pragma_table_info('users') WHERE name = 'token_version'")) == 0)
                Exec(c, tx, "ALTER TABLE users ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0");
            MigrateRequestMethods(c, tx);
            // A real write at startup: a store that opens but cannot be written (read-only file or file system) stops
            // the broker here, with one line, instead of failing every write later.
            Exec(c, tx, "INSERT INTO settings (key, value) VALUES ('last_opened', @p0) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                WireFormat.ctime(DateTime.UtcNow));
            return 0;
        });
    }

    /// <summary>
    /// Stores written before <c>request_methods</c> existed: fills it once from <c>request_state</c> (under the schema
    /// lock on PostgreSQL, in the writer's transaction on SQLite), then records that it is done.
    /// </summary>
    private void MigrateRequestMethods(DbConnection c, DbTransaction tx)
    {
        if (Scalar(c, tx, "SELECT value FROM settings WHERE key = 'schema_request_methods'") is not null) return;
        var rows = Query(c, tx, "SELECT uuid, seq, quantity, methods, status FROM request_state WHERE NOT EXISTS (SELECT 1 FROM request_methods m WHERE m.uuid = request_state.uuid)",
            r => (Id: r.GetString(0), Seq: Convert.ToInt64(r.GetValue(1)), Quantity: r.GetString(2), Methods: r.GetString(3), Status: r.GetString(4)));
        foreach (var row in rows)
            InsertMethods(c, tx, row.Id, row.Quantity, MethodsOf(row.Methods), row.Seq, row.Status == "pending");
        Exec(c, tx, "INSERT INTO settings (key, value) VALUES ('schema_request_methods', '1')");
    }

    private void InsertMethods(DbConnection c, DbTransaction tx, string id, string quantity, IEnumerable<string> methods, long seq, bool pending)
    {
        foreach (var m in methods)
            Exec(c, tx, _pg ? "INSERT INTO request_methods (uuid, method, quantity, seq, pending) VALUES (@p0, @p1, @p2, @p3, @p4) ON CONFLICT DO NOTHING"
                            : "INSERT OR IGNORE INTO request_methods (uuid, method, quantity, seq, pending) VALUES (@p0, @p1, @p2, @p3, @p4)",
                id, m, quantity, seq, pending ? 1 : 0);
    }

    // ---------------------------------------------------------------- settings, users, catalog

    public string? GetSetting(string key)
    {
        using var c = OpenRead();
        return Scalar(c, null, "SELECT value FROM settings WHERE key = @p0", key) as string;
    }

    /// <summary>Returns the stored value, storing <paramref name="value"/> first if the key is new (first writer wins).</summary>
    public string GetOrAddSetting(string key, string value) => Write((c, tx) =>
    {
        var existing = Scalar(c, tx, "SELECT value FROM settings WHERE key = @p0" + ForUpdate, key) as string;
        if (existing is not null) return existing;
        Exec(c, tx, _pg ? "INSERT INTO settings (key, value) VALUES (@p0, @p1) ON CONFLICT (key) DO NOTHING"
                        : "INSERT OR IGNORE INTO settings (key, value) VALUES (@p0, @p1)", key, value);
        return (string)Scalar(c, tx, "SELECT value FROM settings WHERE key = @p0", key)!;
    });

    private void BumpCatalogVersion(DbConnection c, DbTransaction tx)
    {
        // An upsert: two first bumps at once (e.g. two replicas creating their first admin) cannot both insert.
        Exec(c, tx, "INSERT INTO settings (key, value) VALUES ('catalog_version', '1') ON CONFLICT (key) DO UPDATE SET value = "
                    + (_pg ? "(settings.value::bigint + 1)::text" : "CAST(CAST(settings.value AS INTEGER) + 1 AS TEXT)"));
    }

    /// <summary>Changes whenever users, capabilities or tenants change (also from another process).</summary>
    public long CatalogVersion()
    {
        using var c = OpenRead();
        return Scalar(c, null, "SELECT value FROM settings WHERE key = 'catalog_version'") is string s ? long.Parse(s) : 0;
    }

    private static UserRecord ReadUser(DbDataReader r) => new(
        r.GetString(0), r.GetString(1),
        JsonSerializer.Deserialize<string[]>(r.GetString(2)) ?? [],
        (JsonSerializer.Deserialize<string[]>(r.GetString(3)) ?? []).Select(Guid.Parse).ToArray(),
        Convert.ToInt64(r.GetValue(4)) != 0,
        Convert.ToInt64(r.GetValue(5)));

    public IReadOnlyList<UserRecord> Users()
    {
        using var c = OpenRead();
        return Query(c, null, "SELECT username, password_hash, roles, tenants, is_active, token_version FROM users ORDER BY username", ReadUser);
    }

    public UserRecord? User(string username)
    {
        using var c = OpenRead();
        return Query(c, null, "SELECT username, password_hash, roles, tenants, is_active, token_version FROM users WHERE username = @p0", ReadUser, username).FirstOrDefault();
    }

    /// <summary>Inserts a user; false when the name is taken.</summary>
    public bool AddUser(UserRecord u) => Write((c, tx) =>
    {
        // One statement decides: of concurrent identical creates (also from several processes) exactly one inserts.
        if (Exec(c, tx, "INSERT INTO users (username, password_hash, roles, tenants, is_active) VALUES (@p0, @p1, @p2, @p3, @p4) ON CONFLICT (username) DO NOTHING",
                u.Username, u.PasswordHash, JsonSerializer.Serialize(u.Roles), JsonSerializer.Serialize(u.Tenants.Select(t => t.ToString("D"))), u.IsActive ? 1 : 0) == 0)
            return false;
        BumpCatalogVersion(c, tx);
        return true;
    });

    /// <summary>
    /// Replaces a user's password hash, roles, tenants and activity; false when unknown. A new password hash or a
    /// deactivation raises the token version, which revokes every token issued before.
    /// </summary>
    public bool UpdateUser(UserRecord u) => Write((c, tx) =>
    {
        var n = Exec(c, tx, "UPDATE users SET token_version = CASE WHEN password_hash <> @p1 OR (is_active <> 0 AND @p4 = 0) THEN token_version + 1 ELSE token_version END, "
                            + "password_hash = @p1, roles = @p2, tenants = @p3, is_active = @p4 WHERE username = @p0",
            u.Username, u.PasswordHash, JsonSerializer.Serialize(u.Roles), JsonSerializer.Serialize(u.Tenants.Select(t => t.ToString("D"))), u.IsActive ? 1 : 0);
        BumpCatalogVersion(c, tx);
        return n > 0;
    });

    private static CapabilityRecord ReadCapability(DbDataReader r) => new(
        Convert.ToInt64(r.GetValue(0)), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), Convert.ToInt64(r.GetValue(5)) != 0, r.GetString(6));

    public IReadOnlyList<CapabilityRecord> Capabilities()
    {
        using var c = OpenRead();
        return Query(c, null, "SELECT id, quantity, method, spec, result_output, is_active, created FROM capabilities ORDER BY id", ReadCapability);
    }

    /// <summary>Adds a capability version, active; the previous active version of (quantity, method) is deactivated. Returns (id, deactivated ids).</summary>
    public (long Id, long[] Deactivated) AddCapability(string quantity, string method, string spec, string resultOutput) => Write((c, tx) =>
    {
        if (_pg) Exec(c, tx, "SELECT pg_advisory_xact_lock(727273)");
        var old = Query(c, tx, "SELECT id FROM capabilities WHERE quantity = @p0 AND method = @p1 AND is_active = 1", r => Convert.ToInt64(r.GetValue(0)), quantity, method).ToArray();
        Exec(c, tx, "UPDATE capabilities SET is_active = 0 WHERE quantity = @p0 AND method = @p1 AND is_active = 1", quantity, method);
        var id = Convert.ToInt64(Scalar(c, tx, "INSERT INTO capabilities (quantity, method, spec, result_output, is_active, created) VALUES (@p0, @p1, @p2, @p3, 1, @p4) RETURNING id",
            quantity, method, spec, resultOutput, WireFormat.ctime(DateTime.UtcNow)));
        BumpCatalogVersion(c, tx);
        return (id, old);
    });

    /// <summary>Activates (deactivating other versions of the same quantity/method) or deactivates a capability version.</summary>
    public bool SetCapabilityActive(long id, bool active) => Write((c, tx) =>
    {
        var row = Query(c, tx, "SELECT quantity, method FROM capabilities WHERE id = @p0", r => (r.GetString(0), r.GetString(1)), id).FirstOrDefault();
        if (row == default) return false;
        if (active) Exec(c, tx, "UPDATE capabilities SET is_active = 0 WHERE quantity = @p0 AND method = @p1", row.Item1, row.Item2);
        Exec(c, tx, "UPDATE capabilities SET is_active = @p1 WHERE id = @p0", id, active ? 1 : 0);
        BumpCatalogVersion(c, tx);
        return true;
    });

    private static TenantRecord ReadTenant(DbDataReader r) => new(Guid.Parse(r.GetString(0)), r.GetString(1), r.GetString(2), r.GetString(3), Convert.ToInt64(r.GetValue(4)) != 0);

    public IReadOnlyList<TenantRecord> Tenants()
    {
        using var c = OpenRead();
        return Query(c, null, "SELECT uuid, name, limitations, contact_person, is_active FROM tenants ORDER BY name, uuid", ReadTenant);
    }

    /// <summary>Inserts a tenant; false when the uuid exists.</summary>
    public bool AddTenant(TenantRecord t) => Write((c, tx) =>
    {
        if (Exec(c, tx, "INSERT INTO tenants (uuid, name, limitations, contact_person, is_active) VALUES (@p0, @p1, @p2, @p3, @p4) ON CONFLICT (uuid) DO NOTHING",
                t.Uuid.ToString("D"), t.Name, t.LimitationsJson, t.ContactPerson, t.IsActive ? 1 : 0) == 0)
            return false;
        BumpCatalogVersion(c, tx);
        return true;
    });

    public bool SetTenantActive(Guid uuid, bool active) => Write((c, tx) =>
    {
        var n = Exec(c, tx, "UPDATE tenants SET is_active = @p1 WHERE uuid = @p0", uuid.ToString("D"), active ? 1 : 0);
        BumpCatalogVersion(c, tx);
        return n > 0;
    });

    public bool SetTenantLimitations(Guid uuid, string limitationsJson) => Write((c, tx) =>
    {
        var n = Exec(c, tx, "UPDATE tenants SET limitations = @p1 WHERE uuid = @p0", uuid.ToString("D"), limitationsJson);
        BumpCatalogVersion(c, tx);
        return n > 0;
    });

    // ---------------------------------------------------------------- the lifecycle

    private static readonly DateTime Epoch = DateTime.UnixEpoch;
    /// <summary>
    /// Ids of new requests and results: time-ordered UUIDs (version 7), so every index keyed by them grows at its right
    /// edge instead of touching a random page per insert (fewer pages written per commit, warm caches at any store size).
    /// </summary>
    private static Guid NewId() => Guid.CreateVersion7();

    private static long Ticks(DateTime t) => t.ToUniversalTime().Ticks;
    private static DateTime FromTicks(long t) => new(t, DateTimeKind.Utc);

    private RequestAggregate? LoadAggregate(DbConnection c, DbTransaction tx, Guid id)
    {
        var row = Query(c, tx,
            "SELECT requester, status, holder_tenant, holder_user, lease_until, version FROM request_state WHERE uuid = @p0" + ForUpdate,
            r => (Requester: r.GetString(0), Status: r.GetString(1), HT: r.IsDBNull(2) ? null : r.GetString(2), HU: r.IsDBNull(3) ? null : r.GetString(3),
                  Lease: r.IsDBNull(4) ? (long?)null : Convert.ToInt64(r.GetValue(4)), Version: Convert.ToInt32(r.GetValue(5))),
            id.ToString("D")).FirstOrDefault();
        if (row.Requester is null) return null;
        var results = Query(c, tx, "SELECT uuid, tenant_uuid, status FROM result_state WHERE request_uuid = @p0 ORDER BY seq",
            r => new ResultEntry(Guid.Parse(r.GetString(0)), Guid.Parse(r.GetString(1)), ResultStatusModule.tryParse(r.GetString(2))!.Value), id.ToString("D"));
        var holder = row.HU is null ? null
            : new Holder(row.HT is null ? FSharpOption<Guid>.None : FSharpOption<Guid>.Some(Guid.Parse(row.HT)), row.HU);
        return new RequestAggregate(id, Guid.Parse(row.Requester), RequestStatusModule.tryParse(row.Status)!.Value,
            holder is null ? FSharpOption<Holder>.None : FSharpOption<Holder>.Some(holder),
            row.Lease is null ? FSharpOption<DateTime>.None : FSharpOption<DateTime>.Some(FromTicks(row.Lease.Value)),
            Microsoft.FSharp.Collections.ListModule.OfSeq(results), row.Version);
    }

    /// <summary>Decides <paramref name="command"/> on the locked aggregate, appends its event and updates the projections.</summary>
    private (RequestAggregate State, LifecycleEvent Event) Apply(DbConnection c, DbTransaction tx, Guid id, Actor actor, Guid? actingTenant, Command command, string message, DateTime now)
    {
        // A new request has no state yet (its id was generated here), so creation skips the lookup.
        var state = command.IsCreate ? null : LoadAggregate(c, tx, id);
        var opt = state is null ? FSharpOption<RequestAggregate>.None : FSharpOption<RequestAggregate>.Some(state);
        var decision = Lifecycle.decide(now, actor, opt, command);
        if (decision.IsError) throw ApiError.FromLifecycle(decision.ErrorValue);
        var ev = new LifecycleEvent(id, now, actor.User,
            actingTenant is null ? FSharpOption<Guid>.None : FSharpOption<Guid>.Some(actingTenant.Value), message, decision.ResultValue);
        var next = Lifecycle.evolve(opt, ev);
        AppendEvent(c, tx, ev, next);
        Project(c, tx, state, next, ev);
        return (next, ev);
    }

    private void AppendEvent(DbConnection c, DbTransaction tx, LifecycleEvent ev, RequestAggregate next)
    {
        string? resultId = null;
        var status = RequestStatusModule.name(next.Status);
        long? lease = null;
        string? hTenant = null, hUser = null, requester = null;
        switch (ev.Kind)
        {
            case EventKind.ResultPosted rp: resultId = rp.resultId.ToString("D"); break;
            case EventKind.ResultStatusChanged rs: resultId = rs.resultId.ToString("D"); status = ResultStatusModule.name(rs.status); break;
            case EventKind.ReservationMade rm:
                lease = Ticks(rm.leaseUntil); hUser = rm.holder.User;
                hTenant = FSharpOption<Guid>.get_IsSome(rm.holder.Tenant) ? rm.holder.Tenant!.Value.ToString("D") : null; break;
            case EventKind.LeaseExtended le: lease = Ticks(le.leaseUntil); break;
            case EventKind.Created cr: requester = cr.requester.ToString("D"); break;
        }
        Exec(c, tx, "INSERT INTO events (request_uuid, result_uuid, kind, status, time, actor, tenant_uuid, message, lease_until, holder_tenant, holder_user, requester) VALUES (@p0,@p1,@p2,@p3,@p4,@p5,@p6,@p7,@p8,@p9,@p10,@p11)",
            ev.RequestId.ToString("D"), resultId, Lifecycle.kindName(ev.Kind), status, WireFormat.ctime(ev.Time), ev.Actor,
            FSharpOption<Guid>.get_IsSome(ev.Tenant) ? ev.Tenant!.Value.ToString("D") : null, ev.Message, lease, hTenant, hUser, requester);
    }

    private void Project(DbConnection c, DbTransaction tx, RequestAggregate? before, RequestAggregate next, LifecycleEvent ev)
    {
        var holder = FSharpOption<Holder>.get_IsSome(next.Holder) ? next.Holder!.Value : null;
        var hTenant = holder is not null && FSharpOption<Guid>.get_IsSome(holder.Tenant) ? holder.Tenant!.Value.ToString("D") : null;
        var lease = FSharpOption<DateTime>.get_IsSome(next.LeaseUntil) ? Ticks(next.LeaseUntil!.Value) : (long?)null;
        if (before is not null)
        {
            Exec(c, tx, "UPDATE request_state SET status = @p1, holder_tenant = @p2, holder_user = @p3, lease_until = @p4, version = @p5 WHERE uuid = @p0",
                next.Id.ToString("D"), RequestStatusModule.name(next.Status), hTenant, holder?.User, lease, next.Version);
            if (before.Status.IsPending != next.Status.IsPending)
            {
                Exec(c, tx, "UPDATE request_methods SET pending = @p1 WHERE uuid = @p0", next.Id.ToString("D"), next.Status.IsPending ? 1 : 0);
                if (next.Status.IsPending)
                {
                    var rows = Query(c, tx, "SELECT quantity, method FROM request_methods WHERE uuid = @p0", r => (Q: r.GetString(0), M: r.GetString(1)), next.Id.ToString("D"));
                    if (rows.Count > 0) BecamePending(rows[0].Q, rows.Select(x => x.M).ToList());
                }
            }
        }
        switch (ev.Kind)
        {
            case EventKind.ResultPosted rp:
                Exec(c, tx, "INSERT INTO result_state (uuid, seq, request_uuid, tenant_uuid, status) VALUES (@p0, @p1, @p2, @p3, 'original')",
                    rp.resultId.ToString("D"), next.Version, next.Id.ToString("D"), rp.tenant.ToString("D"));
                break;
            case EventKind.ResultStatusChanged rs:
                Exec(c, tx, "UPDATE result_state SET status = @p1 WHERE uuid = @p0", rs.resultId.ToString("D"), ResultStatusModule.name(rs.status));
                break;
        }
    }

    private static Actor AsActor(UserRecord u) =>
        new(u.Username, Microsoft.FSharp.Collections.ListModule.OfSeq(u.Tenants), u.IsAdmin);

    private static string Methods(IEnumerable<string> ms) => "|" + string.Join("|", ms) + "|";

    /// <summary>The methods of a stored methods column (the inverse of <see cref="Methods"/>).</summary>
    private static string[] MethodsOf(string column) => column.Split('|', StringSplitOptions.RemoveEmptyEntries);

    private void InsertRequest(DbConnection c, DbTransaction tx, Guid id, RequestBody body, string json, UserRecord user, bool unsolicited, DateTime now)
    {
        var methods = Methods(body.Methods);
        var seq = Convert.ToInt64(Scalar(c, tx,
            "INSERT INTO requests (uuid, ctime, quantity, methods, body, tenant_uuid, parent) VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6) RETURNING seq",
            id.ToString("D"), WireFormat.ctime(now), body.Quantity, methods, json, body.TenantUuid.ToString("D"),
            FSharpOption<Guid>.get_IsSome(body.ParentRequest) ? body.ParentRequest!.Value.ToString("D") : null));
        var (state, _) = Apply(c, tx, id, AsActor(user), body.TenantUuid, Command.NewCreate(body.TenantUuid, unsolicited), "", now);
        Exec(c, tx, "INSERT INTO request_state (uuid, seq, quantity, methods, requester, status, version) VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6)",
            id.ToString("D"), seq, body.Quantity, methods, body.TenantUuid.ToString("D"), RequestStatusModule.name(state.Status), state.Version);
        InsertMethods(c, tx, id.ToString("D"), body.Quantity, body.Methods, seq, state.Status.IsPending);
        if (state.Status.IsPending) BecamePending(body.Quantity, body.Methods.ToList());
    }

    /// <summary>Stores a new request (validated by the caller) and its creation event.</summary>
    public Guid PostRequest(RequestBody body, UserRecord user) => PostRequestAsync(body, user).GetAwaiter().GetResult();

    public async Task<Guid> PostRequestAsync(RequestBody body, UserRecord user)
    {
        var id = NewId();
        var json = Wire.encodeRequest(body);
        await WriteAsync((c, tx) => { InsertRequest(c, tx, id, body, json, user, false, DateTime.UtcNow); return 0; });
        return id;
    }

    private static double? Rating(ResultBody r)
    {
        // data.<quantity>.meta.rating, or any data.*.meta.rating: the broker's quality filter (min_rating).
        double? best = null;
        foreach (var p in r.Data.EnumerateObject())
        {
            if (p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("meta", out var meta) && meta.ValueKind == JsonValueKind.Object
                && meta.TryGetProperty("rating", out var rating) && rating.ValueKind == JsonValueKind.Number)
            {
                var v = rating.GetDouble();
                if (p.Name == r.Quantity) return v;
                best ??= v;
            }
        }
        return best;
    }

    private void InsertResult(DbConnection c, DbTransaction tx, Guid resultId, Guid requestId, ResultBody body, string json, DateTime now) =>
        Exec(c, tx, "INSERT INTO results (uuid, ctime, request_uuid, quantity, method, body, tenant_uuid, rating) VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7)",
            resultId.ToString("D"), WireFormat.ctime(now), requestId.ToString("D"), body.Quantity, body.Method.Head, json, body.TenantUuid.ToString("D"), Rating(body));

    /// <summary>Stores a result and resolves its request in one transaction. <paramref name="check"/> sees the stored request body.</summary>
    public Guid PostResult(Guid requestId, ResultBody body, UserRecord user, Action<string?> check) =>
        PostResultAsync(requestId, body, user, check).GetAwaiter().GetResult();

    public async Task<Guid> PostResultAsync(Guid requestId, ResultBody body, UserRecord user, Action<string?> check)
    {
        var resultId = NewId();
        var json = Wire.encodeResult(body, requestId);
        // A request's body never changes once stored, so the (costly) check of the result against it runs before the
        // write, off the single writer; the write then decides the lifecycle on the locked state.
        string? requestBody;
        using (var rc = OpenRead())
            requestBody = Scalar(rc, null, "SELECT body FROM requests WHERE uuid = @p0", requestId.ToString("D")) as string;
        check(requestBody);
        await WriteAsync((c, tx) =>
        {
            var now = DateTime.UtcNow;
            Apply(c, tx, requestId, AsActor(user), body.TenantUuid, Command.NewPostResult(resultId, body.TenantUuid), "", now);
            InsertResult(c, tx, resultId, requestId, body, json, now);
            return 0;
        });
        return resultId;
    }

    /// <summary>Creates an `unsolicited` request for the result and stores the result, in one transaction.</summary>
    public Guid PostUnsolicited(ResultBody body, UserRecord user) => PostUnsolicitedAsync(body, user).GetAwaiter().GetResult();

    public async Task<Guid> PostUnsolicitedAsync(ResultBody body, UserRecord user)
    {
        var requestId = NewId();
        var resultId = NewId();
        var request = new RequestBody(body.Quantity, body.Method, body.Parameters, body.TenantUuid, FSharpOption<Guid>.None);
        var requestJson = Wire.encodeRequest(request);
        var json = Wire.encodeResult(body, requestId);
        await WriteAsync((c, tx) =>
        {
            var now = DateTime.UtcNow;
            InsertRequest(c, tx, requestId, request, requestJson, user, true, now);
            Apply(c, tx, requestId, AsActor(user), body.TenantUuid, Command.NewPostResult(resultId, body.TenantUuid), "unsolicited result", now);
            InsertResult(c, tx, resultId, requestId, body, json, now);
            return 0;
        });
        return resultId;
    }

    /// <summary>Runs one lifecycle command on a request (reserve, release, retract, resolve, heartbeat).</summary>
    public RequestAggregate Execute(Guid requestId, UserRecord user, Guid? actingTenant, Command command, string message) =>
        ExecuteAsync(requestId, user, actingTenant, command, message).GetAwaiter().GetResult();

    public Task<RequestAggregate> ExecuteAsync(Guid requestId, UserRecord user, Guid? actingTenant, Command command, string message) =>
        WriteAsync((c, tx) => Apply(c, tx, requestId, AsActor(user), actingTenant, command, message, DateTime.UtcNow).State);

    /// <summary>Changes a result's status (deleted, amended).</summary>
    public void SetResultStatus(Guid resultId, UserRecord user, ResultStatus status, string message) => Write((c, tx) =>
    {
        var requestId = Scalar(c, tx, "SELECT request_uuid FROM result_state WHERE uuid = @p0", resultId.ToString("D")) as string
            ?? throw new ApiError(404, $"result {resultId:D} not found");
        Apply(c, tx, Guid.Parse(requestId), AsActor(user), null, Command.NewSetResultStatus(resultId, status), message, DateTime.UtcNow);
        return 0;
    });

    /// <summary>Atomically reserves the oldest pending request of (quantity, method) for the caller; null when none.</summary>
    public RequestRow? Claim(string? quantity, string? method, UserRecord user, Guid? tenant, double leaseSeconds) =>
        ClaimAsync(quantity, method, user, tenant, leaseSeconds).GetAwaiter().GetResult();

    public async Task<RequestRow?> ClaimAsync(string? quantity, string? method, UserRecord user, Guid? tenant, double leaseSeconds)
    {
        ExpireLeases();
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var claimed = await WriteAsync<RequestRow?>((c, tx) =>
            {
                // One indexed query finds the oldest match whatever lies before it (PostgreSQL: skipping requests
                // another claimer holds locked; the status is re-checked on the locked row).
                var sql = PendingIdsSql(quantity, method) + " LIMIT 1" + (_pg ? " FOR UPDATE OF s SKIP LOCKED" : "");
                var found = Scalar(c, tx, sql, quantity ?? "", method ?? "") as string;
                if (found is null) return null;
                var id = Guid.Parse(found);
                var tenantOpt = tenant is null ? FSharpOption<Guid>.None : FSharpOption<Guid>.Some(tenant.Value);
                Apply(c, tx, id, AsActor(user), tenant, Command.NewReserve(tenantOpt, leaseSeconds), "claimed", DateTime.UtcNow);
                return ReadRequest(c, tx, id);
            });
            if (claimed is not null) return claimed;
            if (!_pg) return null;
            // PostgreSQL: all candidates may have been locked by other claimers; look again.
            if (!HasPending(quantity, method)) return null;
        }
        return null;
    }

    private bool HasPending(string? quantity, string? method)
    {
        using var c = OpenRead();
        return Scalar(c, null, PendingIdsSql(quantity, method) + " LIMIT 1", quantity ?? "", method ?? "") is not null;
    }

    /// <summary>
    /// The ids of pending requests for an optional quantity (@p0) and method (@p1), oldest first, as one indexed query:
    /// by method through the pending rows of <c>request_methods</c>, otherwise through the pending index of
    /// <c>request_state</c>. Selects <c>s.uuid</c> from <c>request_state s</c>, so callers can join or lock it.
    /// </summary>
    private static string PendingIdsSql(string? quantity, string? method) =>
        method is null
            ? "SELECT s.uuid FROM request_state s WHERE s.status = 'pending'" + (quantity is null ? "" : " AND s.quantity = @p0") + " ORDER BY s.seq"
            : "SELECT s.uuid FROM request_methods m JOIN request_state s ON s.uuid = m.uuid WHERE m.pending = 1 AND m.method = @p1"
              + (quantity is null ? "" : " AND m.quantity = @p0") + " AND s.status = 'pending' ORDER BY m.seq";

    private long _nextSweep;

    /// <summary>Returns requests whose lease has run out to pending (one `lease_expired` event each). Cheap when nothing expired.</summary>
    public int ExpireLeases(bool force = false)
    {
        var nowTicks = DateTime.UtcNow.Ticks;
        if (!force && Interlocked.Read(ref _nextSweep) > nowTicks) return 0;
        Interlocked.Exchange(ref _nextSweep, nowTicks + TimeSpan.TicksPerMillisecond * 200);
        List<string> due;
        using (var c = OpenRead())
            due = Query(c, null, "SELECT uuid FROM request_state WHERE status = 'reserved' AND lease_until <= @p0 LIMIT 500", r => r.GetString(0), nowTicks);
        var n = 0;
        var broker = new Actor("broker", Microsoft.FSharp.Collections.FSharpList<Guid>.Empty, true);
        foreach (var id in due)
        {
            try
            {
                Write((c, tx) => Apply(c, tx, Guid.Parse(id), broker, null, Command.ExpireLease, "lease expired; back to pending", DateTime.UtcNow));
                n++;
            }
            catch (ApiError) { /* renewed or taken meanwhile: nothing to expire */ }
        }
        return n;
    }

    /// <summary>
    /// SQLite: a consistent copy of the whole store into a new file <paramref name="path"/>, taken with SQLite's online
    /// backup while the broker keeps serving (readers and the writer are not stopped). Returns the copy's size in bytes.
    /// </summary>
    public long BackupTo(string path)
    {
        if (_pg) throw new InvalidOperationException("backup copies a SQLite store; for PostgreSQL use pg_dump");
        var full = Path.GetFullPath(path);
        if (File.Exists(full)) throw new IOException($"{full} exists; a backup never overwrites a file");
        var dir = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using (var source = new SqliteConnection(_sqliteConnectionString))
        using (var target = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = full, Pooling = false }.ToString()))
        {
            source.Open();
            target.Open();
            source.BackupDatabase(target);
            // The copy is one self-contained file: fold its WAL in and close it.
            Pragmas(target, "PRAGMA wal_checkpoint(TRUNCATE);");
        }
        return new FileInfo(full).Length;
    }

    /// <summary>
    /// Benchmark support: appends <paramref name="count"/> resolved requests with one result each, exactly as the
    /// lifecycle would (rows, events and projections), in large transactions. <paramref name="progress"/> sees the count done.
    /// </summary>
    public void Preload(int count, string requestJson, string resultJsonTemplate, Guid tenant, string quantity, string method, Action<int> progress)
    {
        const int batch = 5000;
        var methods = Methods([method]);
        for (var done = 0; done < count;)
        {
            var n = Math.Min(batch, count - done);
            Write((c, tx) =>
            {
                var ctime = WireFormat.ctime(DateTime.UtcNow);
                for (var i = 0; i < n; i++)
                {
                    var id = NewId();
                    var rid = NewId();
                    var seq = Convert.ToInt64(Scalar(c, tx, "INSERT INTO requests (uuid, ctime, quantity, methods, body, tenant_uuid) VALUES (@p0, @p1, @p2, @p3, @p4, @p5) RETURNING seq",
                        id.ToString("D"), ctime, quantity, methods, requestJson, tenant.ToString("D")));
                    Exec(c, tx, "INSERT INTO request_state (uuid, seq, quantity, methods, requester, status, version) VALUES (@p0, @p1, @p2, @p3, @p4, 'resolved', 2)",
                        id.ToString("D"), seq, quantity, methods, tenant.ToString("D"));
                    InsertMethods(c, tx, id.ToString("D"), quantity, [method], seq, false);
                    Exec(c, tx, "INSERT INTO events (request_uuid, kind, status, time, actor, tenant_uuid, message, requester) VALUES (@p0, 'created', 'pending', @p1, 'preload', @p2, '', @p2)",
                        id.ToString("D"), ctime, tenant.ToString("D"));
                    Exec(c, tx, "INSERT INTO events (request_uuid, result_uuid, kind, status, time, actor, tenant_uuid, message) VALUES (@p0, @p1, 'result_posted', 'resolved', @p2, 'preload', @p3, '')",
                        id.ToString("D"), rid.ToString("D"), ctime, tenant.ToString("D"));
                    Exec(c, tx, "INSERT INTO results (uuid, ctime, request_uuid, quantity, method, body, tenant_uuid, rating) VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, 2)",
                        rid.ToString("D"), ctime, id.ToString("D"), quantity, method, resultJsonTemplate.Replace("REQUEST_UUID", id.ToString("D")), tenant.ToString("D"));
                    Exec(c, tx, "INSERT INTO result_state (uuid, seq, request_uuid, tenant_uuid, status) VALUES (@p0, 2, @p1, @p2, 'original')",
                        rid.ToString("D"), id.ToString("D"), tenant.ToString("D"));
                }
                return 0;
            });
            done += n;
            progress(done);
        }
    }

    // ---------------------------------------------------------------- queries

    private const string RequestSelect = "SELECT r.uuid, r.ctime, s.status, r.body FROM requests r JOIN request_state s ON s.uuid = r.uuid";
    private const string ResultSelect = "SELECT r.uuid, r.ctime, s.status, r.body, r.request_uuid FROM results r JOIN result_state s ON s.uuid = r.uuid";

    private static RequestRow MapRequest(DbDataReader r) => new(Guid.Parse(r.GetString(0)), r.GetString(1), r.GetString(2), r.GetString(3));
    private static ResultRow MapResult(DbDataReader r) => new(Guid.Parse(r.GetString(0)), r.GetString(1), r.GetString(2), r.GetString(3), Guid.Parse(r.GetString(4)));

    private RequestRow? ReadRequest(DbConnection c, DbTransaction? tx, Guid id) =>
        Query(c, tx, RequestSelect + " WHERE r.uuid = @p0", MapRequest, id.ToString("D")).FirstOrDefault();

    public RequestRow? Request(Guid id)
    {
        using var c = OpenRead();
        return ReadRequest(c, null, id);
    }

    /// <summary>The quantity and methods of a request (they never change), or null when unknown.</summary>
    public (string Quantity, IReadOnlyList<string> Methods)? QuantityAndMethods(Guid id)
    {
        using var c = OpenRead();
        return Query(c, null, "SELECT quantity, methods FROM request_state WHERE uuid = @p0",
            r => ((string Quantity, IReadOnlyList<string> Methods)?)(r.GetString(0), MethodsOf(r.GetString(1))), id.ToString("D")).FirstOrDefault();
    }

    public ResultRow? Result(Guid id)
    {
        using var c = OpenRead();
        return Query(c, null, ResultSelect + " WHERE r.uuid = @p0", MapResult, id.ToString("D")).FirstOrDefault();
    }

    public IReadOnlyList<RequestRow> Pending(string? quantity, string? method) => StreamPending(quantity, method, 0, null).ToList();

    public IReadOnlyList<RequestRow> AllRequests() => StreamAllRequests(0, null).ToList();

    /// <summary>
    /// Pending requests of an optional quantity and method, oldest first, after the request with sequence number
    /// <paramref name="afterSeq"/> (0: from the start), at most <paramref name="limit"/>: read lazily, row by row, from
    /// one indexed query (the connection is held until the enumeration ends).
    /// </summary>
    public IEnumerable<RequestRow> StreamPending(string? quantity, string? method, long afterSeq, int? limit)
    {
        ExpireLeases();
        var ids = PendingIdsSql(quantity, method);
        var sql = "SELECT r.uuid, r.ctime, s.status, r.body FROM (" + ids.Replace(" ORDER BY ", " AND s.seq > @p2 ORDER BY ", StringComparison.Ordinal)
                  + Limit(limit, 3) + ") p JOIN request_state s ON s.uuid = p.uuid JOIN requests r ON r.uuid = p.uuid ORDER BY s.seq";
        return Stream(sql, MapRequest, quantity ?? "", method ?? "", afterSeq, (long?)limit ?? long.MaxValue);
    }

    /// <summary>Every request, oldest first, after <paramref name="afterSeq"/>, at most <paramref name="limit"/>; read lazily.</summary>
    public IEnumerable<RequestRow> StreamAllRequests(long afterSeq, int? limit) =>
        Stream(RequestSelect + " WHERE r.seq > @p0 ORDER BY r.seq" + Limit(limit, 1), MapRequest, afterSeq, (long?)limit ?? long.MaxValue);

    /// <summary>
    /// The LIMIT clause of a list query whose limit is bound as parameter @p<paramref name="param"/>. SQLite (3.47 on)
    /// plans with a bound LIMIT's value and so re-prepares the statement whenever it is bound again, i.e. on every
    /// call; there the usual limits (none, or 1 for the long poll's probe) are written as literals (-1: no limit) and
    /// only other limits are bound. The bound value is the limit (or long.MaxValue) either way.
    /// </summary>
    private string Limit(int? limit, int param) =>
        _pg ? " LIMIT @p" + param
        : limit is null ? " LIMIT -1"
        : limit == 1 ? " LIMIT 1"
        : " LIMIT @p" + param;

    /// <summary>The sequence number of a request (the paging cursor of request lists), or null when unknown.</summary>
    public long? RequestSeq(Guid id)
    {
        using var c = OpenRead();
        return Scalar(c, null, "SELECT seq FROM requests WHERE uuid = @p0", id.ToString("D")) is { } v ? Convert.ToInt64(v) : null;
    }

    /// <summary>The sequence number of a result (the paging cursor of result lists), or null when unknown.</summary>
    public long? ResultSeq(Guid id)
    {
        using var c = OpenRead();
        return Scalar(c, null, "SELECT seq FROM results WHERE uuid = @p0", id.ToString("D")) is { } v ? Convert.ToInt64(v) : null;
    }

    /// <summary>Rows of one query, mapped as the reader reaches them: memory stays bounded whatever the result size.</summary>
    private IEnumerable<T> Stream<T>(string sql, Func<DbDataReader, T> map, params object?[] args)
    {
        using var c = OpenRead();
        var cmd = Cmd(c, null, sql, args, out var cached);
        try
        {
            using var r = cmd.ExecuteReader();
            while (r.Read()) yield return map(r);
        }
        finally { if (!cached) cmd.Dispose(); }
    }

    /// <summary>The current (original) result of a request, or null.</summary>
    public ResultRow? CurrentResult(Guid requestId)
    {
        using var c = OpenRead();
        // Both conditions on result_state, so the lookup is one probe of its unique index of current results (a
        // condition on results.request_uuid let PostgreSQL's generic plan walk every current result instead).
        return Query(c, null, ResultSelect + " WHERE s.request_uuid = @p0 AND s.status = 'original'", MapResult, requestId.ToString("D")).FirstOrDefault();
    }

    public IReadOnlyList<ResultRow> ResultsOf(Guid requestId)
    {
        using var c = OpenRead();
        return Query(c, null, ResultSelect + " WHERE r.request_uuid = @p0 ORDER BY r.seq", MapResult, requestId.ToString("D"));
    }

    public IReadOnlyList<ResultRow> Results(string? quantity, string? method, double? minRating) => StreamResults(quantity, method, minRating, 0, null).ToList();

    /// <summary>Results (all statuses) with optional filters, oldest first, after result <paramref name="afterSeq"/>, at most <paramref name="limit"/>; read lazily.</summary>
    public IEnumerable<ResultRow> StreamResults(string? quantity, string? method, double? minRating, long afterSeq, int? limit)
    {
        var where = new List<string> { "r.seq > @p3" };
        if (quantity is not null) where.Add("r.quantity = @p0");
        if (method is not null) where.Add("r.method = @p1");
        if (minRating is not null) where.Add("r.rating >= @p2");
        var sql = ResultSelect + " WHERE " + string.Join(" AND ", where) + " ORDER BY r.seq" + Limit(limit, 4);
        return Stream(sql, MapResult, quantity ?? "", method ?? "", minRating ?? 0.0, afterSeq, (long?)limit ?? long.MaxValue);
    }

    /// <summary>The status events of a request (result events included), oldest first.</summary>
    public IReadOnlyList<HistoryEntry> History(Guid requestId, Guid? resultId = null)
    {
        using var c = OpenRead();
        var sql = "SELECT status, time, actor, tenant_uuid, message, kind, result_uuid FROM events WHERE request_uuid = @p0"
                  + (resultId is null ? "" : " AND result_uuid = @p1") + " ORDER BY seq";
        return Query(c, null, sql, r => new HistoryEntry(r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
            r.GetString(4), r.GetString(5), r.IsDBNull(6) ? null : Guid.Parse(r.GetString(6))), requestId.ToString("D"), resultId?.ToString("D") ?? "");
    }

    public Guid? RequestOfResult(Guid resultId)
    {
        using var c = OpenRead();
        return Scalar(c, null, "SELECT request_uuid FROM results WHERE uuid = @p0", resultId.ToString("D")) is string s ? Guid.Parse(s) : null;
    }

    public (Guid? Parent, IReadOnlyList<Guid> Children) Family(Guid requestId)
    {
        using var c = OpenRead();
        var parent = Scalar(c, null, "SELECT parent FROM requests WHERE uuid = @p0", requestId.ToString("D")) as string;
        var children = Query(c, null, "SELECT uuid FROM requests WHERE parent = @p0 ORDER BY seq", r => Guid.Parse(r.GetString(0)), requestId.ToString("D"));
        return (parent is null ? null : Guid.Parse(parent), children);
    }

    /// <summary>Counts per request status (for metrics and the demo's live view).</summary>
    public IReadOnlyDictionary<string, long> StatusCounts()
    {
        using var c = OpenRead();
        return Query(c, null, "SELECT status, COUNT(*) FROM request_state GROUP BY status", r => (r.GetString(0), Convert.ToInt64(r.GetValue(1))))
            .ToDictionary(x => x.Item1, x => x.Item2);
    }

    /// <summary>
    /// The audit: replays every request's event log through the pure state machine and compares it with the
    /// stored projections; also checks that no request has more than one current result. Returns the problems found.
    /// </summary>
    public IReadOnlyList<string> Audit()
    {
        using var c = OpenRead();
        // One snapshot for every query: writes committed meanwhile (the lease sweeper, tenants) must not make the
        // log and the projections look inconsistent.
        using var tx = _pg ? c.BeginTransaction(IsolationLevel.RepeatableRead) : ((SqliteConnection)c).BeginTransaction(deferred: true);
        var problems = new List<string>();
        var events = Query(c, tx,
            "SELECT request_uuid, result_uuid, kind, time, actor, tenant_uuid, message, lease_until, holder_tenant, holder_user, requester FROM events ORDER BY seq",
            r => (Req: r.GetString(0), Res: r.IsDBNull(1) ? null : r.GetString(1), Kind: r.GetString(2), Time: r.GetString(3), Actor: r.GetString(4),
                  Tenant: r.IsDBNull(5) ? null : r.GetString(5), Msg: r.GetString(6), Lease: r.IsDBNull(7) ? (long?)null : Convert.ToInt64(r.GetValue(7)),
                  HT: r.IsDBNull(8) ? null : r.GetString(8), HU: r.IsDBNull(9) ? null : r.GetString(9), Requester: r.IsDBNull(10) ? null : r.GetString(10)));
        var states = new Dictionary<string, FSharpOption<RequestAggregate>>();
        foreach (var e in events)
        {
            EventKind kind;
            switch (e.Kind)
            {
                case "created": kind = EventKind.NewCreated(Guid.Parse(e.Requester!), false); break;
                case "created_unsolicited": kind = EventKind.NewCreated(Guid.Parse(e.Requester!), true); break;
                case "reserved":
                    kind = EventKind.NewReservationMade(new Holder(e.HT is null ? FSharpOption<Guid>.None : FSharpOption<Guid>.Some(Guid.Parse(e.HT)), e.HU ?? ""), FromTicks(e.Lease!.Value));
                    break;
                case "lease_extended": kind = EventKind.NewLeaseExtended(FromTicks(e.Lease!.Value)); break;
                case "released": kind = EventKind.Released; break;
                case "lease_expired": kind = EventKind.LeaseExpired; break;
                case "retracted": kind = EventKind.Retracted; break;
                case "resolved": kind = EventKind.ResolvedByHand; break;
                case "result_posted": kind = EventKind.NewResultPosted(Guid.Parse(e.Res!), Guid.Parse(e.Tenant!)); break;
                case "result_deleted": kind = EventKind.NewResultStatusChanged(Guid.Parse(e.Res!), ResultStatus.Deleted); break;
                case "result_amended": kind = EventKind.NewResultStatusChanged(Guid.Parse(e.Res!), ResultStatus.Amended); break;
                default: problems.Add($"event of unknown kind {e.Kind} on request {e.Req}"); continue;
            }
            var ev = new LifecycleEvent(Guid.Parse(e.Req), DateTime.Parse(e.Time, null, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal),
                e.Actor, e.Tenant is null ? FSharpOption<Guid>.None : FSharpOption<Guid>.Some(Guid.Parse(e.Tenant)), e.Msg, kind);
            states.TryGetValue(e.Req, out var s);
            states[e.Req] = FSharpOption<RequestAggregate>.Some(Lifecycle.evolve(s ?? FSharpOption<RequestAggregate>.None, ev));
        }
        var projection = Query(c, tx, "SELECT uuid, status, version FROM request_state",
            r => (Id: r.GetString(0), Status: r.GetString(1), Version: Convert.ToInt32(r.GetValue(2))));
        foreach (var p in projection)
        {
            if (!states.TryGetValue(p.Id, out var s) || s is null) { problems.Add($"request {p.Id} has no events"); continue; }
            var a = s.Value;
            if (RequestStatusModule.name(a.Status) != p.Status) problems.Add($"request {p.Id}: stored status {p.Status}, replayed {RequestStatusModule.name(a.Status)}");
            if (a.Version != p.Version) problems.Add($"request {p.Id}: stored version {p.Version}, replayed {a.Version}");
            var current = a.Results.Count(r => r.Status.IsOriginal);
            if (current > 1) problems.Add($"request {p.Id} has {current} current results");
        }
        if (projection.Count != states.Count) problems.Add($"{states.Count} requests in the log, {projection.Count} in the projection");
        var results = Query(c, tx, "SELECT uuid, request_uuid, status FROM result_state", r => (Id: r.GetString(0), Req: r.GetString(1), Status: r.GetString(2)));
        foreach (var r in results)
        {
            if (!states.TryGetValue(r.Req, out var s) || s is null) { problems.Add($"result {r.Id} belongs to unknown request {r.Req}"); continue; }
            var entry = s.Value.Results.FirstOrDefault(x => x.Id.ToString("D") == r.Id);
            if (entry is null) problems.Add($"result {r.Id} is not in the log");
            else if (ResultStatusModule.name(entry.Status) != r.Status) problems.Add($"result {r.Id}: stored status {r.Status}, replayed {ResultStatusModule.name(entry.Status)}");
        }
        var orphanResults = Convert.ToInt64(Scalar(c, tx, "SELECT COUNT(*) FROM results r WHERE NOT EXISTS (SELECT 1 FROM result_state s WHERE s.uuid = r.uuid)"));
        if (orphanResults > 0) problems.Add($"{orphanResults} results without state (half-written)");
        var orphanRequests = Convert.ToInt64(Scalar(c, tx, "SELECT COUNT(*) FROM requests r WHERE NOT EXISTS (SELECT 1 FROM request_state s WHERE s.uuid = r.uuid)"));
        if (orphanRequests > 0) problems.Add($"{orphanRequests} requests without state (half-written)");
        return problems;
    }

    /// <summary>Every table as JSON-ready rows (the database dump route).</summary>
    public Dictionary<string, object> Dump()
    {
        using var c = OpenRead();
        var result = new Dictionary<string, object>();
        foreach (var table in new[] { "capabilities", "tenants", "requests", "request_state", "results", "result_state", "events" })
        {
            result[table] = Query(c, null, $"SELECT * FROM {table}", r =>
            {
                var row = new Dictionary<string, object?>();
                for (var i = 0; i < r.FieldCount; i++) row[r.GetName(i)] = r.IsDBNull(i) ? null : r.GetValue(i);
                return row;
            });
        }
        result["users"] = Users().Select(u => new { username = u.Username, roles = u.Roles, tenants = u.Tenants, is_active = u.IsActive }).ToList();
        return result;
    }
}
