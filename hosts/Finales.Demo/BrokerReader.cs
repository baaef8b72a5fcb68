using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Hosting;

namespace Finales.Demo;

public sealed record StoredRequest(Guid Id, long Seq, string Quantity, string Method, Guid Requester, string Status, JsonNode Body);
public sealed record StoredResult(Guid Id, Guid Request, string Method, Guid Tenant, string Status, JsonNode Body);
public sealed record StoredEvent(long Seq, Guid Request, string Kind, DateTime Time, Guid? Tenant, Guid? Holder, Guid? Requester);

/// <summary>Per-tenant counts for the live view.</summary>
public sealed record TenantCounts(Guid Tenant, string Name, long Posted, long Claimed, long Resolved);

/// <summary>
/// What the broker holds at one moment, as its admin export route (GET /database_dump/{key}) returns it: tenants,
/// requests with their state, results with their state, and the event log.
/// </summary>
public sealed class BrokerSnapshot
{
    public required IReadOnlyDictionary<Guid, string> TenantNames { get; init; }
    public required IReadOnlyList<StoredRequest> Requests { get; init; }
    public required IReadOnlyList<StoredResult> Results { get; init; }
    public required IReadOnlyList<StoredEvent> Events { get; init; }

    /// <summary>Requests posted (by requester), claims made and results posted (by tenant), from the event log.</summary>
    public IReadOnlyList<TenantCounts> Live()
    {
        long Count(string kind, Func<StoredEvent, Guid?> who, Guid t) => Events.LongCount(e => e.Kind == kind && who(e) == t);
        return TenantNames.Select(kv => new TenantCounts(kv.Key, kv.Value, Count("created", e => e.Requester, kv.Key), Count("reserved", e => e.Holder, kv.Key),
            Count("result_posted", e => e.Tenant, kv.Key))).ToList();
    }

    public Dictionary<string, long> StatusCounts() => Requests.GroupBy(r => r.Status).ToDictionary(g => g.Key, g => g.LongCount());

    /// <summary>The request <paramref name="tenant"/> holds now (its last claim of a reserved request), or null.</summary>
    public Guid? ReservedBy(Guid tenant) =>
        Requests.Where(r => r.Status == "reserved").Select(r => r.Id)
            .FirstOrDefault(id => Events.LastOrDefault(e => e.Request == id && e.Kind == "reserved")?.Holder == tenant) is var g && g != Guid.Empty ? g : null;

    /// <summary>Parses the export of GET /database_dump/{key}.</summary>
    public static BrokerSnapshot FromDump(JsonNode dump)
    {
        static IEnumerable<JsonObject> Rows(JsonNode dump, string table) =>
            (dump[table] as JsonArray ?? throw new DemoException($"the broker's export has no '{table}' table")).Select(r => r!.AsObject());
        static string S(JsonObject r, string c) => r[c]?.GetValue<string>() ?? throw new DemoException($"the broker's export has no '{c}' in a row");
        static Guid? G(JsonObject r, string c) => r[c] is { } v ? Guid.Parse(v.GetValue<string>()) : null;
        static long L(JsonObject r, string c) => r[c]?.GetValue<long>() ?? throw new DemoException($"the broker's export has no '{c}' in a row");

        var requestState = Rows(dump, "request_state").ToDictionary(r => S(r, "uuid"));
        var resultState = Rows(dump, "result_state").ToDictionary(r => S(r, "uuid"));
        var requests = Rows(dump, "requests").Where(r => requestState.ContainsKey(S(r, "uuid"))).OrderBy(r => L(r, "seq"))
            .Select(r =>
            {
                var state = requestState[S(r, "uuid")];
                return new StoredRequest(Guid.Parse(S(r, "uuid")), L(r, "seq"), S(r, "quantity"), FirstMethod(S(r, "methods")), Guid.Parse(S(state, "requester")),
                    S(state, "status"), JsonNode.Parse(S(r, "body"))!);
            }).ToList();
        var results = Rows(dump, "results").Where(r => resultState.ContainsKey(S(r, "uuid"))).OrderBy(r => L(r, "seq"))
            .Select(r => new StoredResult(Guid.Parse(S(r, "uuid")), Guid.Parse(S(r, "request_uuid")), S(r, "method"), Guid.Parse(S(r, "tenant_uuid")),
                S(resultState[S(r, "uuid")], "status"), JsonNode.Parse(S(r, "body"))!)).ToList();
        var events = Rows(dump, "events").OrderBy(r => L(r, "seq"))
            .Select(r => new StoredEvent(L(r, "seq"), Guid.Parse(S(r, "request_uuid")), S(r, "kind"),
                DateTime.Parse(S(r, "time"), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
                G(r, "tenant_uuid"), G(r, "holder_tenant"), G(r, "requester"))).ToList();
        return new BrokerSnapshot
        {
            TenantNames = Rows(dump, "tenants").ToDictionary(r => Guid.Parse(S(r, "uuid")), r => S(r, "name")),
            Requests = requests,
            Results = results,
            Events = events,
        };
    }

    private static string FirstMethod(string methods) =>
        methods.TrimStart('[').Split(['|', ',', '"', ']', ' '], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? methods;
}

/// <summary>
/// The demo's read side: it sees the platform only through the broker's HTTP API, as an admin. The state comes from
/// the export route (GET /database_dump/{key}; the demo starts its broker with that key), the broker's own audit from
/// GET /admin/audit, and the tenants' journals through the hosting kit's <see cref="TenantJournal"/>.
/// </summary>
public sealed class BrokerReader(DemoHttp admin, string dumpKey)
{
    /// <summary>The broker's state now. Retries while the broker restarts (see <see cref="DemoHttp.Send"/>).</summary>
    public async Task<BrokerSnapshot> Snapshot(CancellationToken ct, TimeSpan? patience = null)
    {
        var (status, body) = await admin.Send(HttpMethod.Get, "/database_dump/" + Uri.EscapeDataString(dumpKey), null, ct, patience);
        if (status != 200) throw new DemoException($"GET /database_dump/ refused: {status} {body}");
        return BrokerSnapshot.FromDump(JsonNode.Parse(body) ?? throw new DemoException("GET /database_dump/ answered null"));
    }

    /// <summary>The broker's own audit (GET /admin/audit): the event log replayed and compared with the stored state.</summary>
    public async Task<IReadOnlyList<string>> Audit(CancellationToken ct)
    {
        var (status, body) = await admin.Send(HttpMethod.Get, "/admin/audit", null, ct);
        if (status != 200) throw new DemoException($"GET /admin/audit refused: {status} {body}");
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("problems").EnumerateArray().Select(p => p.GetString() ?? "").ToList();
    }

    /// <summary>Rows of a tenant journal (request, state, result), read through the hosting kit's journal.</summary>
    public static List<(Guid Request, string State, Guid? Result)> Journal(string journalPath)
    {
        if (!File.Exists(journalPath)) return [];
        using var journal = new TenantJournal(journalPath);
        return journal.All().Select(e => (e.RequestId, e.State, e.ResultId)).ToList();
    }
}
