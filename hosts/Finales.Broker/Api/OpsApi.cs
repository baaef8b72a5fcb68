using Microsoft.Extensions.DependencyInjection;

namespace Finales.Broker;

/// <summary>The operations routes: the greeting, health, Prometheus metrics and the API documentation.</summary>
public static class OpsApi
{
    public static IEndpointRouteBuilder MapOpsApi(this IEndpointRouteBuilder app)
    {
        app.MapRoute("", "GET", "/", "Liveness greeting.", null, "misc", _ => ApiResults.String("Hello! This is FINALES2."));

        app.MapRoute("", "GET", "/healthz", "Liveness and the store's health (read probe, last write failure); 503 when the store is unhealthy.", null, "misc", async ctx =>
        {
            var store = Svc(ctx).Store;
            var problem = await store.HealthAsync(ctx.RequestAborted);
            return problem is null
                ? ApiResults.Json(new Dictionary<string, string> { ["status"] = "ok", ["store"] = store.Description })
                : ApiResults.Json(new Dictionary<string, string> { ["status"] = "unhealthy", ["store"] = store.Description, ["detail"] = "store unavailable: " + problem }, 503);
        });

        app.MapRoute("", "GET", "/metrics", "Prometheus text metrics (roles admin or observer).", Policies.ObserverOrAdmin, "misc", async ctx =>
        {
            var text = await ctx.RequestServices.GetRequiredService<BrokerMetrics>().RenderAsync(Svc(ctx).Store, ctx.RequestAborted);
            return TypedResults.Text(text, "text/plain; version=0.0.4");
        });

        // The documentation pages are not themselves documented routes.
        var docs = app.ServiceProvider.GetRequiredService<RouteDocs>();
        app.MapGet("/openapi.json", () => ApiResults.Raw(docs.OpenApi()));
        app.MapGet("/docs", () => TypedResults.Text(docs.Html(), "text/html; charset=utf-8"));
        app.MapGet("/redoc", () => TypedResults.Text(docs.Html(), "text/html; charset=utf-8"));
        return app;
    }
}
