using Microsoft.Extensions.DependencyInjection;

namespace Finales.Broker.WebConsole;

/// <summary>
/// The web console at /ui (issue 13): server-rendered pages of the broker process, signed in with the broker's users,
/// every form protected by ASP.NET Core antiforgery, every write through the same services and core decisions as the
/// REST API.
/// </summary>
public static class ConsoleEndpoints
{
    /// <summary>The console's services: antiforgery (its own cookie, no X-Frame-Options: the broker sends DENY itself).</summary>
    public static IServiceCollection AddConsole(this IServiceCollection services)
    {
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "finales_console_csrf";
            o.Cookie.Path = "/ui";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.SuppressXFrameOptionsHeader = true;
        });
        services.AddSingleton<OverviewCache>();
        services.AddSingleton<CampaignCache>();
        return services;
    }

    public static IEndpointRouteBuilder MapConsole(this IEndpointRouteBuilder app)
    {
        var ui = app.MapGroup("/ui").ExcludeFromDescription();
        ui.MapGet("", () => Results.Redirect("/ui/overview"));
        ui.MapGet("/", () => Results.Redirect("/ui/overview"));
        ui.MapGet("/static/{name}", (HttpContext ctx, string name) => ConsoleStatic.Serve(ctx, name));
        ui.MapSignIn();
        ui.MapPage("/overview", (HttpContext ctx) => ConsoleGuard.Page(ctx, async (session, svc) =>
            await ConsoleRender.Page<OverviewPage>(ctx, new { Session = session, Model = await ConsoleReads.Overview(ctx, svc, session) })));
        ui.MapPage("/overview/live", (HttpContext ctx) => ConsoleGuard.Page(ctx, async (session, svc) =>
            Results.Content(await ConsoleRender.Html<LivePanel>(ctx, new { Model = await ConsoleReads.Overview(ctx, svc, session) }), "text/html; charset=utf-8")));
        ui.MapPage("/queue", (HttpContext ctx) => ConsoleGuard.Page(ctx, async (session, svc) =>
            await ConsoleRender.Page<QueuePage>(ctx, new { Session = session, Model = await ConsoleReads.Queue(ctx, svc, session), Error = (string?)null })));
        ui.MapCampaign();
        ui.MapRequestPages();
        ui.MapNewRequest();
        ui.MapAdminPages();
        return app;
    }

    private static void MapSignIn(this RouteGroupBuilder ui)
    {
        ui.MapGet("/signin", (HttpContext ctx, string? next) =>
            ConsoleRender.Page<SignInPage>(ctx, new { Csrf = ConsoleAuth.Csrf(ctx, null), Next = ConsoleGuard.SafeNext(next), Username = (string?)null, Error = (string?)null }));

        ui.MapForm("/signin", async (HttpContext ctx) =>
        {
            if (!await ConsoleGuard.TokenValid(ctx, null))
                return await ConsoleRender.Page<MessagePage>(ctx, new { Session = (ConsoleSession?)null, Title = "Form refused", Message = ConsoleGuard.CsrfRefusal }, 400);
            var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
            var username = form["username"].ToString();
            var password = form["password"].ToString();
            var next = ConsoleGuard.SafeNext(form["next"].ToString());
            var svc = Svc(ctx);
            Task<IResult> Again(string error, int status) =>
                ConsoleRender.Page<SignInPage>(ctx, new { Csrf = ConsoleAuth.Csrf(ctx, null), Next = next, Username = (string?)username, Error = (string?)error }, status);
            if (username.Length == 0) return await Again("username: enter your user name", 422);
            if (password.Length == 0) return await Again("password: enter your password", 422);
            // The REST login's rules: the same throttle, the same work and answer for unknown users and wrong passwords.
            var address = ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            if (svc.Logins.Blocked(address, username) is { } wait)
                return await Again($"Too many failed sign-ins from this address or for this user; retry after {Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))} s.", 429);
            var known = svc.Current.Users.TryGetValue(username, out var user) && user.IsActive;
            if (!Passwords.Verify(known ? user!.PasswordHash : Passwords.Dummy, password) || !known)
            {
                svc.Logins.Failed(address, username);
                return await Again("Wrong user name or password.", 401);
            }
            ConsoleAuth.Issue(ctx, svc, user!);
            return Results.Redirect(next);
        });

        ui.MapForm("/signout", (HttpContext ctx) => ConsoleGuard.Form(ctx, ConsoleGuard.Need.Session, (_, _, _) =>
        {
            ConsoleAuth.End(ctx);
            return Task.FromResult(Results.Redirect("/ui/signin"));
        }));
    }
}
