using System.Text.Json;

namespace Finales.Broker;

/// <summary>The FINALES2 JSON shapes of stored rows, rendered from their stored JSON without re-serializing it.</summary>
public static class WireJson
{
    public static string String(string s) => JsonSerializer.Serialize(s);

    public static string Array(IEnumerable<string> items) => "[" + string.Join(",", items) + "]";

    public static string RequestInfo(RequestRow r) =>
        $"{{\"uuid\":\"{r.Uuid:D}\",\"ctime\":\"{r.Ctime}\",\"status\":\"{r.Status}\",\"request\":{r.Body}}}";

    public static string ResultInfo(ResultRow r) =>
        $"{{\"uuid\":\"{r.Uuid:D}\",\"ctime\":\"{r.Ctime}\",\"status\":\"{r.Status}\",\"result\":{r.Body}}}";

    public static string TenantInfo(TenantRecord t) =>
        $"{{\"tenant_uuid\":\"{t.Uuid:D}\",\"name\":{String(t.Name)},\"limitations\":{t.LimitationsJson},\"contact_person\":{String(t.ContactPerson)},\"is_active\":{(t.IsActive ? "true" : "false")}}}";

    public static Dictionary<string, object?> History(HistoryEntry h) => new()
    {
        ["status"] = h.Status,
        ["time"] = h.Time,
        ["actor"] = h.Actor,
        ["tenant_uuid"] = h.TenantUuid,
        ["message"] = h.Message,
        ["event"] = h.Kind,
        ["result_uuid"] = h.ResultUuid?.ToString("D"),
    };

    /// <summary>A user as the admin routes show it (never its password hash).</summary>
    public static object User(UserRecord u) => new { username = u.Username, roles = u.Roles, tenants = u.Tenants, is_active = u.IsActive };
}
