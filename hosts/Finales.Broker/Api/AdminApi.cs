using System.Security.Cryptography;
using System.Text;

namespace Finales.Broker;

/// <summary>The admin routes: users, capability versions, tenants, the audit and FINALES2's database dump.</summary>
public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin");

        admin.MapRoute("/admin", "POST", "/users", "Create a user {username, password, roles, tenants}.", Policies.Admin, "admin", async ctx =>
        {
            using var doc = await Body(ctx);
            return ApiResults.Json(WireJson.User(await Svc(ctx).AddUserAsync(doc.RootElement, ctx.RequestAborted)), 201);
        });
        admin.MapRoute("/admin", "GET", "/users", "List users (without password hashes).", Policies.Admin, "admin", async ctx =>
        {
            return ApiResults.Json((await Svc(ctx).Store.UsersAsync(ctx.RequestAborted)).Select(WireJson.User));
        });
        admin.MapRoute("/admin", "POST", "/users/{username}", "Change a user's password, roles, tenants or is_active.", Policies.Admin, "admin", async ctx =>
        {
            using var doc = await Body(ctx);
            return ApiResults.Json(WireJson.User(await Svc(ctx).UpdateUserAsync(PathText(ctx, "username"), doc.RootElement, ctx.RequestAborted)));
        });
        admin.MapRoute("/admin", "POST", "/capabilities", "Register a capability (FINALES2 capability file); deactivates the previous active version.", Policies.Admin, "admin", async ctx =>
        {
            using var doc = await Body(ctx);
            var (id, old) = await Svc(ctx).AddCapabilityAsync(doc.RootElement, ctx.RequestAborted);
            return ApiResults.Json(new { id, deactivated = old }, 201);
        });
        admin.MapRoute("/admin", "GET", "/capabilities", "Every capability version with id and is_active.", Policies.Admin, "admin", async ctx =>
        {
            return ApiResults.Json((await Svc(ctx).Store.CapabilitiesAsync(ctx.RequestAborted)).Select(c => new { id = c.Id, quantity = c.Quantity, method = c.Method, is_active = c.IsActive, created = c.Created }));
        });
        foreach (var (verb, active) in new[] { ("activate", true), ("deactivate", false) })
        {
            admin.MapRoute("/admin", "POST", $"/capabilities/{{id}}/{verb}", $"{verb} a capability version.", Policies.Admin, "admin", async ctx =>
            {
                var raw = ctx.Request.RouteValues["id"]?.ToString();
                if (!long.TryParse(raw, out var id)) throw new ApiError(400, $"capability id must be an integer, got '{raw}'");
                await Svc(ctx).SetCapabilityActiveAsync(id, active, ctx.RequestAborted);
                return ApiResults.String($"capability {id} {verb}d");
            });
            admin.MapRoute("/admin", "POST", $"/tenants/{{tenant_uuid}}/{verb}", $"{verb} a tenant.", Policies.Admin, "admin", async ctx =>
            {
                var id = PathUuid(ctx, "tenant_uuid");
                await Svc(ctx).SetTenantActiveAsync(id, active, ctx.RequestAborted);
                return ApiResults.String($"tenant {id:D} {verb}d");
            });
        }
        admin.MapRoute("/admin", "POST", "/tenants", "Register a tenant (FINALES2 tenant file plus optional uuid and users); returns its uuid.", Policies.Admin, "admin", async ctx =>
        {
            using var doc = await Body(ctx);
            var id = await Svc(ctx).AddTenantAsync(doc.RootElement, ctx.RequestAborted);
            return ApiResults.Raw(WireJson.String(id.ToString("D")), 201);
        });
        admin.MapRoute("/admin", "GET", "/audit", "Replay the event log and compare with the stored state.", Policies.Admin, "admin", async ctx =>
        {
            var problems = await Svc(ctx).Store.AuditAsync(ctx.RequestAborted);
            return ApiResults.Json(new { ok = problems.Count == 0, problems });
        });

        app.MapRoute("", "GET", "/database_dump/{access_key}", "Export of the whole store (admin, and the key must equal the configured dump key).", Policies.Admin, "admin", async ctx =>
        {
            var svc = Svc(ctx);
            var key = ctx.Request.RouteValues["access_key"]?.ToString() ?? "";
            if (string.IsNullOrEmpty(svc.Options.DumpKey)) throw new ApiError(403, "database dump is disabled: no dump key is configured (--dump-key or FINALES_DUMP_KEY)");
            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(svc.Options.DumpKey)))
                throw new ApiError(403, "wrong access key");
            return ApiResults.Json(await svc.Store.DumpAsync(ctx.RequestAborted));
        });

        return app;
    }
}
