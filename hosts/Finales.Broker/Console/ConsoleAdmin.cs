using System.Text.Json;

namespace Finales.Broker.WebConsole;

/// <summary>
/// The admin pages: users, tenants, capabilities. Every action calls the same <see cref="BrokerService"/> operation
/// as the admin REST routes (with the JSON body those take), so it is checked and recorded the same way.
/// </summary>
public static class ConsoleAdmin
{
    public static void MapAdminPages(this RouteGroupBuilder ui)
    {
        ui.MapPage("/admin/users", (HttpContext ctx) => ConsoleGuard.AdminPage(ctx, (session, svc) => Users(ctx, svc, session, null, null, 200)));
        ui.MapForm("/admin/users", (HttpContext ctx) => ConsoleGuard.Form(ctx, ConsoleGuard.Need.Admin, async (session, svc, form) =>
        {
            var body = JsonSerializer.SerializeToElement(new Dictionary<string, object>
            {
                ["username"] = form["username"].ToString(),
                ["password"] = form["password"].ToString(),
                ["roles"] = form["roles"].Select(r => r ?? "").ToArray(),
                ["tenants"] = form["tenants"].Select(t => t ?? "").ToArray(),
            });
            try
            {
                var user = await svc.AddUserAsync(body, ctx.RequestAborted);
                return await Users(ctx, svc, session, null, $"Created user {user.Username}.", 200);
            }
            catch (ApiError e) { return await Users(ctx, svc, session, ConsoleGuard.Describe(e), null, e.Status); }
        }));
        ui.MapPost("/admin/users/{name}/active", (HttpContext ctx, string name) => ConsoleGuard.Form(ctx, ConsoleGuard.Need.Admin, async (session, svc, form) =>
        {
            var active = Flag(form, "active");
            await svc.UpdateUserAsync(name, JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["is_active"] = active }), ctx.RequestAborted);
            return await Users(ctx, svc, session, null, $"User {name} is {(active ? "active" : "deactivated")}.", 200);
        }));
        ui.MapPost("/admin/users/{name}/password", (HttpContext ctx, string name) => ConsoleGuard.Form(ctx, ConsoleGuard.Need.Admin, async (session, svc, form) =>
        {
            await svc.UpdateUserAsync(name, JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["password"] = form["password"].ToString() }), ctx.RequestAborted);
            return await Users(ctx, svc, session, null, $"The password of {name} is reset; its sessions have ended.", 200);
        }));

        ui.MapPage("/admin/tenants", (HttpContext ctx) => ConsoleGuard.AdminPage(ctx, (session, svc) => Tenants(ctx, svc, session, null, null, 200)));
        ui.MapPost("/admin/tenants/{id}/active", (HttpContext ctx, string id) => ConsoleGuard.Form(ctx, ConsoleGuard.Need.Admin, async (session, svc, form) =>
        {
            var active = Flag(form, "active");
            await svc.SetTenantActiveAsync(Tenant(id), active, ctx.RequestAborted);
            return await Tenants(ctx, svc, session, null, $"Tenant {id} is {(active ? "active" : "deactivated")}.", 200);
        }));
        ui.MapPost("/admin/tenants/{id}/limitations", (HttpContext ctx, string id) => ConsoleGuard.Form(ctx, ConsoleGuard.Need.Admin, async (session, svc, form) =>
        {
            using var doc = Json(form, "limitations");
            try
            {
                await svc.SetTenantLimitationsAsync(Tenant(id), doc.RootElement, ctx.RequestAborted);
                return await Tenants(ctx, svc, session, null, $"The limitations of tenant {id} are replaced.", 200);
            }
            catch (ApiError e) { return await Tenants(ctx, svc, session, "limitations: " + ConsoleGuard.Describe(e), null, e.Status); }
        }));

        ui.MapPage("/admin/capabilities", (HttpContext ctx) => ConsoleGuard.AdminPage(ctx, (session, svc) => Capabilities(ctx, svc, session, null, null, 200)));
        ui.MapForm("/admin/capabilities", (HttpContext ctx) => ConsoleGuard.Form(ctx, ConsoleGuard.Need.Admin, async (session, svc, form) =>
        {
            using var doc = Json(form, "capability");
            try
            {
                var (id, deactivated) = await svc.AddCapabilityAsync(doc.RootElement, ctx.RequestAborted);
                var replaced = deactivated.Length == 0 ? "" : $"; it replaces version {string.Join(", ", deactivated)}";
                return await Capabilities(ctx, svc, session, null, $"Registered capability version {id}{replaced}.", 200);
            }
            catch (ApiError e) { return await Capabilities(ctx, svc, session, ConsoleGuard.Describe(e), null, e.Status); }
        }));
        ui.MapPost("/admin/capabilities/{id}/active", (HttpContext ctx, string id) => ConsoleGuard.Form(ctx, ConsoleGuard.Need.Admin, async (session, svc, form) =>
        {
            if (!long.TryParse(id, out var capability)) throw new ApiError(400, $"'{ApiError.Echo(id)}' is not a capability version id");
            var active = Flag(form, "active");
            await svc.SetCapabilityActiveAsync(capability, active, ctx.RequestAborted);
            return await Capabilities(ctx, svc, session, null, $"Capability version {capability} is {(active ? "active" : "deactivated")}.", 200);
        }));
    }

    private static bool Flag(IFormCollection form, string field) => form[field].ToString() switch
    {
        "true" => true,
        "false" => false,
        var other => throw ApiError.ValidationOne(["body", field], $"{field} must be true or false, got '{ApiError.Echo(other)}'", "value_error"),
    };

    private static Guid Tenant(string id) =>
        BrokerApiCore.TryParseUuid(id, out var g) ? g : throw new ApiError(400, $"'{ApiError.Echo(id)}' is not a tenant id (a UUID)");

    private static JsonDocument Json(IFormCollection form, string field)
    {
        try
        {
            return JsonDocument.Parse(form[field].ToString());
        }
        catch (JsonException e)
        {
            throw ApiError.ValidationOne(["body", field], $"{field} is not JSON: {e.Message}", "value_error.json");
        }
    }

    private static Task<IResult> Users(HttpContext ctx, BrokerService svc, ConsoleSession session, string? error, string? notice, int status) =>
        ConsoleRender.Page<UsersPage>(ctx, new
        {
            Session = session,
            Users = (IReadOnlyList<UserRecord>)svc.Current.Users.Values.OrderBy(u => u.Username, StringComparer.Ordinal).ToList(),
            Tenants = svc.Current.TenantRecords,
            Error = error,
            Notice = notice,
        }, status);

    private static Task<IResult> Tenants(HttpContext ctx, BrokerService svc, ConsoleSession session, string? error, string? notice, int status) =>
        ConsoleRender.Page<TenantsPage>(ctx, new { Session = session, Tenants = svc.Current.TenantRecords, Error = error, Notice = notice }, status);

    private static Task<IResult> Capabilities(HttpContext ctx, BrokerService svc, ConsoleSession session, string? error, string? notice, int status) =>
        ConsoleRender.Page<CapabilitiesPage>(ctx, new { Session = session, Capabilities = svc.Current.CapabilityRecords, Error = error, Notice = notice }, status);
}
