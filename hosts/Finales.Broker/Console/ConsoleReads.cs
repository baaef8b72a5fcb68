using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Finales.Broker.WebConsole;

/// <summary>The models of the console's read pages, scoped to what the caller may see (the core's <c>ConsoleRules</c>).</summary>
public static class ConsoleReads
{
    public const int PageSize = 50;

    public static IConsoleReadModel Reads(BrokerService svc) =>
        svc.Store as IConsoleReadModel ?? throw new InvalidOperationException($"the store {svc.Store.GetType().Name} has no console read model");

    /// <summary>The tenants the caller may see (all for admins and observers, else its own).</summary>
    public static IReadOnlyList<TenantRecord> VisibleTenants(BrokerService svc, ConsoleSession session) =>
        svc.Current.TenantRecords.Where(t => ConsoleCore.MaySeeTenant(session.User.Roles, session.User.Tenants, t.Uuid)).ToList();

    public static async Task<OverviewModel> Overview(HttpContext ctx, BrokerService svc, ConsoleSession session)
    {
        var numbers = await ctx.RequestServices.GetRequiredService<OverviewCache>().Get(session.SeesEverything ? null : session.User.Tenants);
        var at = numbers.At;
        var tenants = VisibleTenants(svc, session).Select(t =>
        {
            var a = numbers.Activity.GetValueOrDefault(t.Uuid);
            double? age = a?.LastSeen is { } seen && DateTime.TryParse(seen, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time)
                ? Math.Max(0, (at - time).TotalSeconds) : null;
            return new TenantStatusRow(t.Uuid, t.Name, t.IsActive, a?.LastSeen, age, a?.Held ?? 0, a?.ResolvedInWindow ?? 0);
        }).ToList();
        return new OverviewModel(numbers.Counts, tenants, tenants.Sum(t => t.ResultsLastHour), Finales.Core.WireFormat.ctime(at));
    }

    public static async Task<QueueModel> Queue(HttpContext ctx, BrokerService svc, ConsoleSession session)
    {
        string Field(string name) => ctx.Request.Query[name].ToString().Trim();
        var capability = Field("capability");
        var status = Field("status");
        var tenant = Field("tenant");
        var from = Field("from");
        var to = Field("to");
        var text = Field("q");
        Guid? tenantId = null;
        if (tenant.Length > 0)
            tenantId = BrokerApiCore.TryParseUuid(tenant, out var t) ? t : throw ApiError.ValidationOne(["query", "tenant"], $"tenant must be a tenant UUID, got '{ApiError.Echo(tenant)}'", "value_error");
        if (status.Length > 0 && !BrokerApiCore.TryParseRequestState(status, out _))
            throw ApiError.ValidationOne(["query", "status"], $"status must be one of pending, reserved, resolved, retracted, unsolicited; got '{ApiError.Echo(status)}'", "type_error.enum");
        long before = long.MaxValue;
        var beforeText = Field("before");
        if (beforeText.Length > 0 && (!long.TryParse(beforeText, NumberStyles.None, CultureInfo.InvariantCulture, out before) || before <= 0))
            throw ApiError.ValidationOne(["query", "before"], $"before must be a positive whole number (a page cursor), got '{ApiError.Echo(beforeText)}'", "value_error");
        var filter = new QueueFilter(
            capability.Length > 0 ? capability : null, status.Length > 0 ? status : null, tenantId,
            Time(from, "from"), Time(to, "to"), text.Length > 0 ? ApiInput.Text(text, ["query", "q"]) : null,
            session.SeesEverything ? null : session.User.Tenants);
        var rows = await Reads(svc).QueueAsync(filter, before, PageSize + 1);
        var page = rows.Take(PageSize).ToList();
        var capabilities = svc.Current.CapabilityRecords.Select(c => c.Quantity).Distinct().Order(StringComparer.Ordinal).ToList();
        return new QueueModel(capability, status, tenant, from, to, text, capabilities, VisibleTenants(svc, session), page, rows.Count > PageSize ? page[^1].Seq : null);
    }

    /// <summary>A datetime-local value (yyyy-MM-ddTHH:mm[:ss]) as a stored ctime prefix to compare with; a 422 naming the field otherwise.</summary>
    private static string? Time(string value, string field)
    {
        if (value.Length == 0) return null;
        string[] formats = ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd"];
        if (!DateTime.TryParseExact(value, formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var t))
            throw ApiError.ValidationOne(["query", field], $"{field} must be a time like 2026-11-29T14:05, got '{ApiError.Echo(value)}'", "value_error.datetime");
        return t.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
    }

    /// <summary>The request page's model, or null when unknown or not visible to the caller (both a 404: no existence leak).</summary>
    public static async Task<RequestModel?> Request(BrokerService svc, ConsoleSession session, Guid id)
    {
        var store = svc.Store;
        var row = await store.RequestAsync(id);
        var holder = await Reads(svc).HolderAsync(id);
        if (row is null || holder is null) return null;
        var results = await store.ResultsOfAsync(id);
        var resultTenants = results.Select(r => TenantOf(r.Body)).OfType<Guid>().ToList();
        var user = session.User;
        if (!ConsoleCore.MaySeeRequest(user.Roles, user.Tenants, holder.Requester, holder.Holder, resultTenants)) return null;
        var current = results.FirstOrDefault(r => r.Status == "original");
        var buttons = ConsoleCore.Buttons(user.Roles, user.Tenants, row.Status, holder.Requester, current is null ? null : TenantOf(current.Body));
        string Name(Guid t) => svc.Current.TenantRecords.FirstOrDefault(r => r.Uuid == t)?.Name ?? t.ToString("D");
        return new RequestModel(row, holder, Name(holder.Requester), holder.Holder is { } h ? Name(h) : null, Pretty(row.Body),
            await store.HistoryAsync(id), results.Select(r => new ResultView(r, Pretty(r.Body), Rating(r.Body))).ToList(), await store.FamilyAsync(id), buttons);
    }

    private static Guid? TenantOf(string body)
    {
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.TryGetProperty("tenant_uuid", out var t) && t.ValueKind == JsonValueKind.String && Guid.TryParse(t.GetString(), out var g) ? g : null;
    }

    private static string? Rating(string body)
    {
        using var doc = JsonDocument.Parse(body);
        if (!doc.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object) return null;
        foreach (var m in data.EnumerateObject())
            if (m.Value.ValueKind == JsonValueKind.Object && m.Value.TryGetProperty("meta", out var meta) && meta.ValueKind == JsonValueKind.Object && meta.TryGetProperty("rating", out var r))
                return r.GetRawText();
        return null;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Pretty(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return JsonSerializer.Serialize(doc.RootElement, Indented);
    }
}
