using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.DependencyInjection;

namespace Finales.Broker.WebConsole;

/// <summary>The signed-in person of a console page and the antiforgery token its forms carry.</summary>
public sealed record ConsoleSession(UserRecord User, string Csrf)
{
    public bool CanWrite => User.CanWrite;
    public bool IsAdmin => User.IsAdmin;
    /// <summary>Admins and observers see every tenant's data (the core's <c>ConsoleRules.seesEverything</c>).</summary>
    public bool SeesEverything => ConsoleCore.SeesEverything(User.Roles, User.Tenants);
}

/// <summary>
/// The console's session: the broker's own JWT (issued at sign-in by <see cref="TokenService"/>) in an HttpOnly,
/// SameSite=Strict cookie scoped to /ui. It is checked like a bearer token on every page: the user must exist, be
/// active and carry the token's version, so a deactivation or a password reset ends the session at once.
/// </summary>
public static class ConsoleAuth
{
    public const string CookieName = "finales_console";
    private const string UserItem = "finales.console-user";

    /// <summary>The active user of the request's session cookie, or null.</summary>
    public static UserRecord? SignedIn(HttpContext ctx, BrokerService svc)
    {
        if (!ctx.Request.Cookies.TryGetValue(CookieName, out var token) || string.IsNullOrEmpty(token)) return null;
        if (svc.Tokens.Validate(token, svc.UtcNow) is not { } t) return null;
        return svc.Current.Users.TryGetValue(t.Username, out var user) && user.IsActive && user.TokenVersion == t.Version ? user : null;
    }

    /// <summary>Sets the session cookie for <paramref name="user"/>.</summary>
    public static void Issue(HttpContext ctx, BrokerService svc, UserRecord user) =>
        ctx.Response.Cookies.Append(CookieName, svc.Tokens.Issue(user.Username, user.TokenVersion, svc.UtcNow), new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = ctx.Request.IsHttps,
            Path = "/ui",
            MaxAge = svc.Tokens.Lifetime,
        });

    public static void End(HttpContext ctx) => ctx.Response.Cookies.Delete(CookieName, new CookieOptions { Path = "/ui" });

    /// <summary>
    /// Makes <paramref name="user"/> the request's principal (antiforgery binds its tokens to it) and returns the page's
    /// session with a fresh form token; null user: the anonymous sign-in page.
    /// </summary>
    public static string Csrf(HttpContext ctx, UserRecord? user)
    {
        if (user is not null) Become(ctx, user);
        var tokens = ctx.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(ctx);
        return tokens.RequestToken ?? throw new InvalidOperationException("antiforgery produced no request token");
    }

    /// <summary>True when the posted form carries a valid antiforgery token for the request's principal.</summary>
    public static async Task<bool> FormTokenValid(HttpContext ctx, UserRecord? user)
    {
        if (user is not null) Become(ctx, user);
        return await ctx.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(ctx);
    }

    private static void Become(HttpContext ctx, UserRecord user)
    {
        ctx.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, user.Username)], "FinalesConsole"));
        ctx.Items[UserItem] = user;
    }
}
