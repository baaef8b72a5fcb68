using Microsoft.Extensions.DependencyInjection;

namespace Finales.Broker;

/// <summary>
/// The FINALES2-compatible routes (broker-api.md sections 2 and 4) and our extensions, as endpoint groups in the
/// style of dotnet/eShop: each group maps its routes in its own file, handlers return <see cref="Microsoft.AspNetCore.Http.IResult"/>s
/// (<see cref="ApiResults"/>), and failures become the FINALES2 <c>detail</c> shape in one place.
/// </summary>
public static class BrokerApi
{
    public static IEndpointRouteBuilder MapBrokerApi(this IEndpointRouteBuilder app)
    {
        var log = app.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Finales.Broker");
        app.MapAuthApi();
        app.MapRequestsApi(log);
        app.MapResultsApi(log);
        app.MapCatalogApi();
        app.MapAdminApi();
        app.MapOpsApi();
        return app;
    }
}
