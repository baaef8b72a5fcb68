using System.Text.Json;

namespace Finales.Broker.WebConsole;

/// <summary>
/// The gate of every console route but sign-in and the static files: a page needs a signed-in, active user (else a
/// redirect to sign-in); a form post also needs a valid antiforgery token and the role the action needs. Refusals of
/// the broker (its <see cref="ApiError"/>s and lifecycle refusals) become a page saying why, with the same status.
/// </summary>
public static class ConsoleGuard
{
    public static async Task<IResult> Page(HttpContext ctx, Func<ConsoleSession, BrokerService, Task<IResult>> page)
    {
        var svc = Svc(ctx);
        var user = ConsoleAuth.SignedIn(ctx, svc);
        if (user is null) return SignInFirst(ctx);
        var session = new ConsoleSession(user, ConsoleAuth.Csrf(ctx, user));
        ctx.Response.Headers.CacheControl = "no-store";
        try
        {
            return await page(session, svc);
        }
        catch (ApiError e)
        {
            return await Refused(ctx, session, e);
        }
    }

    public static Task<IResult> AdminPage(HttpContext ctx, Func<ConsoleSession, BrokerService, Task<IResult>> page) =>
        Page(ctx, (session, svc) => session.IsAdmin ? page(session, svc) : Refused(ctx, session, new ApiError(403, $"user {session.User.Username} is not an admin")));

    /// <summary>What a form post may need beyond a session.</summary>
    public enum Need { Session, Write, Admin }

    public static async Task<IResult> Form(HttpContext ctx, Need need, Func<ConsoleSession, BrokerService, IFormCollection, Task<IResult>> action)
    {
        var svc = Svc(ctx);
        var user = ConsoleAuth.SignedIn(ctx, svc);
        if (user is null)
            return await ConsoleRender.Page<MessagePage>(ctx, new { Session = (ConsoleSession?)null, Title = "Signed out", Message = "Your session has ended; sign in again at /ui/signin." }, 401);
        if (!await TokenValid(ctx, user))
            return await ConsoleRender.Page<MessagePage>(ctx, new { Session = (ConsoleSession?)null, Title = "Form refused", Message = CsrfRefusal }, 400);
        var session = new ConsoleSession(user, ConsoleAuth.Csrf(ctx, user));
        if (need == Need.Admin && !user.IsAdmin)
            return await Refused(ctx, session, new ApiError(403, $"user {user.Username} is not an admin"));
        if (need == Need.Write && !user.CanWrite)
            return await Refused(ctx, session, new ApiError(403, $"user {user.Username} has roles [{string.Join(", ", user.Roles)}]; this needs role tenant or admin"));
        var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
        try
        {
            return await action(session, svc, form);
        }
        catch (ApiError e)
        {
            return await Refused(ctx, session, e);
        }
        catch (LifecycleRejectedException e)
        {
            return await Refused(ctx, session, ApiError.FromLifecycle(e));
        }
    }

    public const string CsrfRefusal = "The form's CSRF token (__RequestVerificationToken) is missing or invalid; reload the page and send the form again.";

    /// <summary>The antiforgery check; an unreadable form counts as a failed check (a 400, never a 500).</summary>
    public static async Task<bool> TokenValid(HttpContext ctx, UserRecord? user)
    {
        if (!ctx.Request.HasFormContentType) return false;
        try
        {
            return await ConsoleAuth.FormTokenValid(ctx, user);
        }
        catch (Exception e) when (e is InvalidDataException or IOException && !ctx.RequestAborted.IsCancellationRequested)
        {
            return false;
        }
    }

    public static Task<IResult> Refused(HttpContext ctx, ConsoleSession session, ApiError e) =>
        ConsoleRender.Page<MessagePage>(ctx, new { Session = (ConsoleSession?)session, Title = e.Status switch { 403 => "Not allowed", 404 => "Not found", _ => "Refused" }, Message = Describe(e) }, e.Status);

    /// <summary>An <see cref="ApiError"/>'s detail as one line: the message, or every "field: problem" of a 422.</summary>
    public static string Describe(ApiError e) => e.Detail switch
    {
        string s => s,
        IEnumerable<Dictionary<string, object>> issues => string.Join("; ", issues.Select(i =>
            (i.TryGetValue("loc", out var loc) && loc is IEnumerable<string> path ? string.Join(".", path.Where(p => p != "body")) + ": " : "") + i["msg"])),
        var other => JsonSerializer.Serialize(other),
    };

    private static IResult SignInFirst(HttpContext ctx)
    {
        var next = ctx.Request.Path + ctx.Request.QueryString;
        return Results.Redirect("/ui/signin?next=" + Uri.EscapeDataString(next));
    }

    /// <summary>A local console address to go to after sign-in; anything else (another site, a scheme) is the overview.</summary>
    public static string SafeNext(string? next) =>
        next is not null && next.StartsWith("/ui/", StringComparison.Ordinal) && !next.StartsWith("/ui//", StringComparison.Ordinal) && !next.Contains('\\') ? next : "/ui/overview";
}

/// <summary>Maps console handlers that take only the context and return an <see cref="IResult"/> (written to the response).</summary>
public static class ConsoleRoutes
{
    public static RouteHandlerBuilder MapPage(this RouteGroupBuilder group, string pattern, Func<HttpContext, Task<IResult>> handler) => group.MapGet(pattern, handler);

    public static RouteHandlerBuilder MapForm(this RouteGroupBuilder group, string pattern, Func<HttpContext, Task<IResult>> handler) => group.MapPost(pattern, handler);
}
