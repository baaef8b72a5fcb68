using Microsoft.Extensions.DependencyInjection;

namespace Finales.Broker.WebConsole;

/// <summary>
/// The campaign view (/ui/campaign, every role; a tenant role sees the results of requests its tenants requested, hold
/// or answered): the page, its live panel, the figures' HTML and their drawing script, all from the shared
/// <see cref="CampaignCache"/>.
/// </summary>
public static class CampaignEndpoints
{
    public static void MapCampaign(this RouteGroupBuilder ui)
    {
        ui.MapPage("/campaign", (HttpContext ctx) => ConsoleGuard.Page(ctx, async (session, svc) =>
            await ConsoleRender.Page<CampaignPage>(ctx, new { Session = session, View = await View(ctx, session) })));
        ui.MapPage("/campaign/live", (HttpContext ctx) => ConsoleGuard.Page(ctx, async (session, svc) =>
            Results.Content(await ConsoleRender.Html<CampaignLive>(ctx, new { View = await View(ctx, session) }), "text/html; charset=utf-8")));
        ui.MapPage("/campaign/figures", (HttpContext ctx) => ConsoleGuard.Page(ctx, async (session, svc) =>
            Results.Content(await ConsoleRender.Html<CampaignFigureList>(ctx, new { View = await View(ctx, session) }), "text/html; charset=utf-8")));
        // One figure's drawing script, loaded right after its element (a fragment's script may draw into the element
        // before it, as an inline script would).
        ui.MapPage("/campaign/plots/{name}", (HttpContext ctx) => ConsoleGuard.Page(ctx, async (session, svc) =>
            (await View(ctx, session)).Figures.FirstOrDefault(f => f.Key + ".js" == (string?)ctx.Request.RouteValues["name"]) is { } figure
                ? Results.Text(figure.Script, "text/javascript; charset=utf-8")
                : Results.NotFound()));
    }

    private static Task<CampaignView> View(HttpContext ctx, ConsoleSession session) =>
        ctx.RequestServices.GetRequiredService<CampaignCache>().Get(session.SeesEverything ? null : session.User.Tenants);
}
