using System.Text.Json.Nodes;

namespace Finales.Broker;

/// <summary>The catalog routes: capabilities, their templates, the tenants and their limitations.</summary>
public static class CatalogApi
{
    public static IEndpointRouteBuilder MapCatalogApi(this IEndpointRouteBuilder app)
    {
        var capabilities = app.MapGroup("/capabilities");

        capabilities.MapRoute("/capabilities", "GET", "/", "Capabilities; with currently_available=true (default) only those some active tenant offers.", Policies.User, "capabilities", ctx =>
        {
            var snap = Svc(ctx).Current;
            var caps = AvailableCapabilities(snap, QBool(ctx, "currently_available", true));
            return ApiResults.Raw(WireJson.Array(caps.Select(c =>
                $"{{\"quantity\":{WireJson.String(c.Quantity)},\"method\":{WireJson.String(c.Method)},\"json_schema_specifications\":{c.Specification},\"json_schema_result_output\":{c.ResultOutput}}}")));
        });

        app.MapRoute("", "GET", "/limitations/", "Per capability, the concatenated limitations of the (active) tenants offering it.", Policies.User, "capabilities", ctx =>
        {
            var snap = Svc(ctx).Current;
            var onlyActive = QBool(ctx, "currently_available", true);
            // From the catalog's strictly parsed limitations: an unusable stored entry is not offered, so not listed.
            return ApiResults.Raw(WireJson.Array(BrokerApiCore.LimitationGroups(snap.Catalog, onlyActive).Select(g =>
                $"{{\"quantity\":{WireJson.String(g.Quantity)},\"method\":{WireJson.String(g.Method)},\"limitations\":{WireJson.Array(g.Documents.Select(d => d.GetRawText()))}}}")));
        });

        capabilities.MapRoute("/capabilities", "GET", "/templates/", "Input/output templates of capabilities ('required, float' leaves).", Policies.User, "capabilities", ctx =>
        {
            var snap = Svc(ctx).Current;
            var q = Q(ctx, "quantity");
            var m = Q(ctx, "method");
            var result = new JsonObject();
            foreach (var c in AvailableCapabilities(snap, QBool(ctx, "currently_available", true)))
            {
                if ((q is not null && c.Quantity != q) || (m is not null && c.Method != m)) continue;
                result[$"{c.Quantity}-{c.Method}"] = new JsonObject
                {
                    ["input_template"] = BrokerService.Template(c.Specification),
                    ["output_template"] = BrokerService.Template(c.ResultOutput),
                };
            }
            return ApiResults.Raw(result.ToJsonString());
        });

        var tenants = app.MapGroup("/tenants");

        tenants.MapRoute("/tenants", "GET", "/", "Every registered tenant, inactive ones included.", Policies.User, "tenants", ctx =>
        {
            return ApiResults.Raw(WireJson.Array(Svc(ctx).Current.TenantRecords.Select(WireJson.TenantInfo)));
        });

        tenants.MapRoute("/tenants", "PUT", "/{tenant_uuid}/limitations", "Replace a tenant's limitations (the tenant itself or an admin).", Policies.Tenant, "tenants", async ctx =>
        {
            var user = Caller(ctx);
            var svc = Svc(ctx);
            var id = PathUuid(ctx, "tenant_uuid");
            CheckActsFor(svc, user, id);
            using var doc = await Body(ctx);
            await svc.SetTenantLimitationsAsync(id, doc.RootElement, ctx.RequestAborted);
            return ApiResults.String($"limitations of tenant {id:D} replaced");
        });

        return app;
    }

    private static IEnumerable<CapabilityRecord> AvailableCapabilities(Snapshot snap, bool onlyOffered)
    {
        var active = snap.CapabilityRecords.Where(c => c.IsActive);
        if (!onlyOffered) return active;
        return active.Where(c => BrokerApiCore.IsOffered(snap.Catalog, c.Quantity, c.Method));
    }
}
