using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace Finales.Demo;

public sealed record StoredRequest(Guid Id, long Seq, string Quantity, string Method, Guid Requester, string Status, JsonNode Body);
public sealed record StoredResult(Guid Id, Guid Request, string Method, Guid Tenant, string Status, JsonNode Body);
public sealed record StoredEvent(long Seq, Guid Request, string Kind, DateTime Time, Guid? Tenant, Guid? Holder, Guid? Requester);

/// <summary>Per-tenant counts for the live view.</summary>
public sealed record TenantCounts(Guid Tenant, string Name, long Posted, long Claimed, long Resolved);

/// <summary>
/// Read-only view of the broker's SQLite store (the broker child process writes it; WAL lets us read alongside).
/// Used for the live view while the demo runs and for the report and audit afterwards.
/// </summary>
public sealed class DemoStore(string path)
{
    private SqliteConnection Open()
    {
        var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, DefaultTimeout = 5, Pooling = false }.ToString());
        c.Open();
        return c;
    }

    private List<T> Query<T>(string sql, Func<SqliteDataReader, T> map)
    {
        using var c = Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        var list = new List<T>();
        while (r.Read()) list.Add(map(r));
        return list;
    }

    private static Guid? G(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : Guid.Parse(r.GetString(i));

    public Dictionary<Guid, string> TenantNames() => Query("SELECT uuid, name FROM tenants", r => (Guid.Parse(r.GetString(0)), r.GetString(1))).ToDictionary(x => x.Item1, x => x.Item2);

    /// <summary>Requests posted (by requester), claims made and results posted (by tenant), from the event log.</summary>
    public IReadOnlyList<TenantCounts> Live()
    {
        var names = TenantNames();
        var rows = Query("SELECT kind, COALESCE(requester, ''), COALESCE(holder_tenant, ''), COALESCE(tenant_uuid, ''), COUNT(*) FROM events " +
                         "WHERE kind IN ('created', 'reserved', 'result_posted') GROUP BY 1, 2, 3, 4",
            r => (Kind: r.GetString(0), Requester: r.GetString(1), Holder: r.GetString(2), Tenant: r.GetString(3), N: r.GetInt64(4)));
        long Sum(Guid t, string kind, Func<(string Kind, string Requester, string Holder, string Tenant, long N), string> who) =>
            rows.Where(x => x.Kind == kind && who(x) == t.ToString("D")).Sum(x => x.N);
        return names.Select(kv => new TenantCounts(kv.Key, kv.Value, Sum(kv.Key, "created", x => x.Requester), Sum(kv.Key, "reserved", x => x.Holder),
            Sum(kv.Key, "result_posted", x => x.Tenant))).ToList();
    }

    public Dictionary<string, long> StatusCounts() =>
        Query("SELECT status, COUNT(*) FROM request_state GROUP BY status", r => (r.GetString(0), r.GetInt64(1))).ToDictionary(x => x.Item1, x => x.Item2);

    public List<StoredRequest> Requests() =>
        Query("SELECT r.uuid, r.seq, r.quantity, r.methods, s.requester, s.status, r.body FROM requests r JOIN request_state s ON s.uuid = r.uuid ORDER BY r.seq",
            r => new StoredRequest(Guid.Parse(r.GetString(0)), r.GetInt64(1), r.GetString(2), FirstMethod(r.GetString(3)), Guid.Parse(r.GetString(4)), r.GetString(5),
                JsonNode.Parse(r.GetString(6))!));

    private static string FirstMethod(string methods) =>
        methods.TrimStart('[').Split(['|', ',', '"', ']', ' '], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? methods;

    public List<StoredResult> Results() =>
        Query("SELECT r.uuid, r.request_uuid, r.method, r.tenant_uuid, s.status, r.body FROM results r JOIN result_state s ON s.uuid = r.uuid ORDER BY r.seq",
            r => new StoredResult(Guid.Parse(r.GetString(0)), Guid.Parse(r.GetString(1)), r.GetString(2), Guid.Parse(r.GetString(3)), r.GetString(4), JsonNode.Parse(r.GetString(5))!));

    public List<StoredEvent> Events() =>
        Query("SELECT seq, request_uuid, kind, time, tenant_uuid, holder_tenant, requester FROM events ORDER BY seq",
            r => new StoredEvent(r.GetInt64(0), Guid.Parse(r.GetString(1)), r.GetString(2),
                DateTime.Parse(r.GetString(3), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
                G(r, 4), G(r, 5), G(r, 6)));

    /// <summary>Rows of a tenant journal (another SQLite file): request, state, result.</summary>
    public static List<(Guid Request, string State, Guid? Result)> Journal(string journalPath)
    {
        if (!File.Exists(journalPath)) return [];
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = journalPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT request_uuid, state, result_uuid FROM work";
        using var r = cmd.ExecuteReader();
        var list = new List<(Guid, string, Guid?)>();
        while (r.Read()) list.Add((Guid.Parse(r.GetString(0)), r.GetString(1), G(r, 2)));
        return list;
    }
}
