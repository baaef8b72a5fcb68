using System.Data.Common;
using Finales.Core;

namespace Finales.Broker;

// The schema: tables, indexes and the migrations of stores written by older versions.
public abstract partial class SqlBrokerStore
{
    /// <summary>Creates what is missing and migrates, in one write transaction, then records the opening.</summary>
    protected void Initialise() => WriteAsync((c, tx) =>
    {
        LockSchema(c, tx);
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
            "CREATE INDEX IF NOT EXISTS request_state_retracted ON request_state (seq) WHERE status = 'retracted'",
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
        CreateFunctions(c, tx);
        // Migration: the per-user token version (tokens carry it; raising it revokes older tokens).
        AddTokenVersionColumn(c, tx);
        MigrateRequestMethods(c, tx);
        // A real write at startup: a store that opens but cannot be written (read-only file or file system) stops
        // the broker here, with one line, instead of failing every write later.
        Exec(c, tx, "INSERT INTO settings (key, value) VALUES ('last_opened', @p0) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            WireFormat.ctime(UtcNow));
        return 0;
    }, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>Serialises schema changes of processes opening one database at once (PostgreSQL).</summary>
    protected virtual void LockSchema(DbConnection c, DbTransaction tx) { }

    /// <summary>Creates or replaces the store's server-side routines (PostgreSQL: the version guard of lifecycle writes).</summary>
    protected virtual void CreateFunctions(DbConnection c, DbTransaction tx) { }

    /// <summary>Adds <c>users.token_version</c> to a store written before it existed.</summary>
    protected abstract void AddTokenVersionColumn(DbConnection c, DbTransaction tx);

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

    protected void InsertMethods(DbConnection c, DbTransaction tx, string id, string quantity, IEnumerable<string> methods, long seq, bool pending)
    {
        var sql = InsertOrIgnore("request_methods", "uuid, method, quantity, seq, pending", "@p0, @p1, @p2, @p3, @p4");
        foreach (var m in methods) Exec(c, tx, sql, id, m, quantity, seq, pending ? 1 : 0);
    }

    /// <summary>The stored methods column of a request: every method between bars.</summary>
    protected static string Methods(IEnumerable<string> ms) => "|" + string.Join("|", ms) + "|";

    /// <summary>The methods of a stored methods column (the inverse of <see cref="Methods"/>).</summary>
    protected static string[] MethodsOf(string column) => column.Split('|', StringSplitOptions.RemoveEmptyEntries);
}
