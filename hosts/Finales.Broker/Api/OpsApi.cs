using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static Finales.Broker.Access;
using static Finales.Broker.ApiInput;

namespace Finales.Broker;

/// <summary>The operations routes: the greeting, health, Prometheus metrics and the API documentation.</summary>
public static class OpsApi
{
    public static IEndpointRouteBuilder MapOpsApi(this IEndpointRouteBuilder app)
    {
        app.MapRoute("", "GET", "/", "Liveness greeting.", false, "misc", _ => ApiResults.String("Hello! This is FINALES2."));

        app.MapRoute("", "GET", "/healthz", "Liveness and the store's health (read probe, last write failure); 503 when the store is unhealthy.", false, "misc", ctx =>
        {
            var store = Svc(ctx).Store;
            var problem = store.Health();
            return problem is null
                ? ApiResults.Json(new Dictionary<string, string> { ["status"] = "ok", ["store"] = store.Description })
                : ApiResults.Json(new Dictionary<string, string> { ["status"] = "unhealthy", ["store"] = store.Description, ["detail"] = "store unavailable: " + problem }, 503);
        });

        app.MapRoute("", "GET", "/metrics", "Prometheus text metrics (roles admin or observer).", true, "misc", ctx =>
        {
            var caller = Caller(ctx);
            if (!caller.IsAdmin && !caller.Roles.Contains("observer"))
                throw new ApiError(403, $"user {caller.Username} has roles [{string.Join(", ", caller.Roles)}]; /metrics needs role admin or observer");
            var text = ctx.RequestServices.GetRequiredService<BrokerMetrics>().Render(Svc(ctx).Store);
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
