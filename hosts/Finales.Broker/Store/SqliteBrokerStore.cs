using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Finales.Broker;

/// <summary>
/// The store on one SQLite file in WAL mode: pooled read connections that keep their prepared statements, one
/// group-committing writer (<see cref="SqliteWriteQueue"/>) and a background checkpointer (<see cref="WalCheckpointer"/>).
/// </summary>
public sealed class SqliteBrokerStore : SqlBrokerStore
{
    private readonly string _connectionString;
    private readonly string _path;
    // A bag: a thread mostly gets back the reader it returned, whose SQLite page cache is still warm (a queue rotating
    // through all of them made the broker re-read pages from the file: ~12 us more CPU per bench cycle). Its size is
    // counted here, since a bag's Count takes every per-thread lock.
    private readonly ConcurrentBag<PooledReader> _readers = new();
    private int _pooledReaders;
    private const int MaxPooledReaders = 64;
    private volatile bool _closed;

    /// <summary>The group-commit writer (a hosted service; started on the first write).</summary>
    public SqliteWriteQueue Writer { get; }

    /// <summary>The background WAL checkpointer (a hosted service; started with the writer).</summary>
    public WalCheckpointer Checkpointer { get; }

    private SqliteBrokerStore(string path, string connectionString, TimeProvider? clock) : base($"SQLite {path}", clock)
    {
        _path = path;
        _connectionString = connectionString;
        Writer = new SqliteWriteQueue(this, connectionString);
        Checkpointer = new WalCheckpointer(Writer, connectionString);
    }

    /// <summary>Opens (creating if needed) a SQLite store file.</summary>
    public static SqliteBrokerStore Open(string path, TimeProvider? clock = null)
    {
        var full = Path.GetFullPath(path);
        SqliteBrokerStore? store = null;
        try
        {
            var dir = Path.GetDirectoryName(full);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            if (Directory.Exists(full)) throw new StoreUnavailableException($"{full} is a directory, not a database file");
            var cs = new SqliteConnectionStringBuilder { DataSource = full, Pooling = true, DefaultTimeout = 30 }.ToString();
            store = new SqliteBrokerStore(full, cs, clock);
            using (var c = new SqliteConnection(cs))
            {
                c.Open();
                Pragmas(c, "PRAGMA journal_mode=WAL;");
            }
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

    public override bool IsPostgres => false;

    public override IReadOnlyList<StoreCounter> Counters =>
    [
        new("finales_sqlite_commits_total", "Write transactions committed (group commits).", Writer.Commits),
        new("finales_sqlite_write_jobs_total", "Writes carried by those commits (jobs / commits = batch size).", Writer.Jobs),
        new("finales_sqlite_checkpoints_total", "Background WAL checkpoints.", Checkpointer.Checkpoints),
    ];

    public override void Dispose()
    {
        _closed = true;
        Writer.Dispose();
        Checkpointer.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
        Checkpointer.Dispose();
        while (_readers.TryTake(out var r)) r.Dispose();
    }

    internal void OnWriterStarted() => Checkpointer.StartAsync(CancellationToken.None).GetAwaiter().GetResult();

    protected override Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, T> work, CancellationToken ct) => Writer.Enqueue(work);

    // Every statement runs at once on the writer's connection, so the work completes synchronously on the writer thread.
    protected override Task<T> RunLifecycleAsync<T>(Func<LifecycleWrite, ValueTask<T>> work, CancellationToken ct) =>
        Writer.Enqueue((c, tx) =>
        {
            var done = work(new Session(this, c, tx));
            return done.IsCompletedSuccessfully ? done.Result : done.AsTask().GetAwaiter().GetResult();
        });

    /// <summary>A lifecycle write on the writer's connection: every statement runs when it is given.</summary>
    private sealed class Session(SqliteBrokerStore store, DbConnection c, DbTransaction tx) : LifecycleWrite
    {
        public override ValueTask<IReadOnlyList<object?[]>[]> ReadAsync(params (string Sql, object?[] Args)[] queries)
        {
            var results = new IReadOnlyList<object?[]>[queries.Length];
            for (var i = 0; i < queries.Length; i++)
                results[i] = store.Query(c, tx, queries[i].Sql, Row, queries[i].Args);
            return ValueTask.FromResult(results);
        }

        private static object?[] Row(DbDataReader r)
        {
            var row = new object?[r.FieldCount];
            r.GetValues(row!);
            return row;
        }

        public override void Write(string sql, params object?[] args) => store.Exec(c, tx, sql, args);

        public override void BecamePending(string quantity, IReadOnlyList<string> methods) => NoteBecamePending(quantity, methods);
    }

    // No PRAGMA mmap_size: the file grows with every checkpoint and each connection then remaps it (munmap, TLB
    // shootdowns on every core); measured, memory-mapped reads cost a third of the broker's throughput.

    protected override DbConnection OpenRead()
    {
        if (_readers.TryTake(out var pooled))
        {
            Interlocked.Decrement(ref _pooledReaders);
            return pooled;
        }
        var c = new PooledReader(this, _connectionString);
        c.Open();
        Pragmas(c, "PRAGMA busy_timeout=30000;");
        return c;
    }

    protected override Dictionary<string, SqliteCommand>? StatementsOf(DbConnection c) =>
        Writer.IsWriter(c) ? Writer.Statements : (c as PooledReader)?.Statements;

    private static void Pragmas(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>
    /// A SQLite read connection that stays open and keeps its prepared statements (SQLite re-parses every new
    /// command otherwise); disposing it hands it back to the store's pool.
    /// </summary>
    private sealed class PooledReader(SqliteBrokerStore owner, string connectionString) : SqliteConnection(connectionString)
    {
        public readonly Dictionary<string, SqliteCommand> Statements = new();

        protected override void Dispose(bool disposing)
        {
            if (disposing && !owner._closed && State == ConnectionState.Open)
            {
                if (Interlocked.Increment(ref owner._pooledReaders) <= MaxPooledReaders)
                {
                    owner._readers.Add(this);
                    return;
                }
                Interlocked.Decrement(ref owner._pooledReaders);
            }
            foreach (var cmd in Statements.Values) cmd.Dispose();
            Statements.Clear();
            base.Dispose(disposing);
        }
    }

    // ---------------------------------------------------------------- dialect

    protected override string Serial => "INTEGER PRIMARY KEY AUTOINCREMENT";
    protected override string ForUpdate => "";

    protected override string InsertOrIgnore(string table, string columns, string values) =>
        $"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({values})";

    /// <summary>
    /// SQLite (3.47 on) plans with a bound LIMIT's value and so re-prepares the statement whenever it is bound again,
    /// i.e. on every call; the usual limits (none, or 1 for the long poll's probe) are written as literals (-1: no
    /// limit) and only other limits are bound. The bound value is the limit (or long.MaxValue) either way.
    /// </summary>
    protected override string Limit(int? limit, int param) =>
        limit is null ? " LIMIT -1"
        : limit == 1 ? " LIMIT 1"
        : " LIMIT @p" + param;

    protected override void AddTokenVersionColumn(DbConnection c, DbTransaction tx)
    {
        if (Convert.ToInt64(Scalar(c, tx, "SELECT COUNT(*) FROM pragma_table_info('users') WHERE name = 'token_version'")) == 0)
            Exec(c, tx, "ALTER TABLE users ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0");
    }

    protected override void BumpCatalogVersion(DbConnection c, DbTransaction tx) =>
        // An upsert: two first bumps at once (e.g. two replicas creating their first admin) cannot both insert.
        Exec(c, tx, "INSERT INTO settings (key, value) VALUES ('catalog_version', '1') ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(settings.value AS INTEGER) + 1 AS TEXT)");

    protected override DbTransaction BeginSnapshot(DbConnection c) => ((SqliteConnection)c).BeginTransaction(deferred: true);

    // ---------------------------------------------------------------- health and backup

    /// <summary>
    /// A tiny write may still fit in a full file system (reused WAL frames) while a request does not: below 1 MiB
    /// free, the store reports itself full.
    /// </summary>
    protected override string? WriteRisk()
    {
        long? free;
        try { free = new DriveInfo(Path.GetDirectoryName(_path)!).AvailableFreeSpace; }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { free = null; }
        return free is { } f && f < 1 << 20 ? $"writes fail: disk full ({f} bytes free next to {_path})" : null;
    }

    /// <summary>
    /// A consistent copy of the whole store into a new file <paramref name="path"/>, taken with SQLite's online backup
    /// while the broker keeps serving (readers and the writer are not stopped). Returns the copy's size in bytes.
    /// </summary>
    public override Task<long> BackupToAsync(string path, CancellationToken ct = default)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full)) throw new IOException($"{full} exists; a backup never overwrites a file");
        var dir = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using (var source = new SqliteConnection(_connectionString))
        using (var target = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = full, Pooling = false }.ToString()))
        {
            source.Open();
            target.Open();
            source.BackupDatabase(target);
            // The copy is one self-contained file: fold its WAL in and close it.
            Pragmas(target, "PRAGMA wal_checkpoint(TRUNCATE);");
        }
        return Task.FromResult(new FileInfo(full).Length);
    }
}
