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

    private PostgresBrokerStore(string description, NpgsqlDataSource dataSource, TimeProvider? clock) : base(description, clock) =>
        _dataSource = dataSource;

    /// <summary>Opens a PostgreSQL store (the schema is created if missing).</summary>
    public static PostgresBrokerStore Open(string connectionString, TimeProvider? clock = null)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        if (b.MaxPoolSize < 32) b.MaxPoolSize = 32;
        if (b.MaxAutoPrepare == 0) b.MaxAutoPrepare = 64;
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

    public override void Dispose() => _dataSource.Dispose();

    protected override DbConnection OpenRead() => _dataSource.OpenConnection();

    protected override Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, T> work, CancellationToken ct)
    {
        var pending = new List<(string, IReadOnlyList<string>)>();
        DbConnection c;
        try { c = _dataSource.OpenConnection(); }
        catch (Exception e) { NoteWrite(e); throw; }
        T result;
        using (c)
        using (var tx = c.BeginTransaction(IsolationLevel.ReadCommitted))
        {
            CollectBecamePending(pending);
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
            finally { CollectBecamePending(null); }
        }
        NoteWrite(null);
        SignalCommitted(pending);
        return Task.FromResult(result);
    }

    // ---------------------------------------------------------------- dialect

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
