using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Finales.Broker;

/// <summary>The authorization policies of the broker's routes.</summary>
public static class Policies
{
    /// <summary>Any authenticated, active user (reads).</summary>
    public const string User = "user";

    /// <summary>Role tenant or admin (writes).</summary>
    public const string Tenant = "tenant";

    /// <summary>Role admin.</summary>
    public const string Admin = "admin";

    /// <summary>Role admin or observer (/metrics).</summary>
    public const string ObserverOrAdmin = "observer-or-admin";

    /// <summary>Registers the broker's bearer-token authentication, the policies and their FINALES2-shaped 401/403 answers.</summary>
    public static IServiceCollection AddBrokerAuth(this IServiceCollection services)
    {
        services.AddAuthentication(BrokerAuthentication.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, BrokerAuthentication>(BrokerAuthentication.SchemeName, null);
        services.AddSingleton<IAuthorizationHandler, RolesHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, DetailAuthorizationResults>();
        services.AddAuthorizationBuilder()
            .AddPolicy(User, p => p.RequireAuthenticatedUser())
            .AddPolicy(Tenant, p => p.RequireAuthenticatedUser().AddRequirements(new RolesRequirement(["tenant", "admin"], "this needs role tenant or admin")))
            .AddPolicy(Admin, p => p.RequireAuthenticatedUser().AddRequirements(new RolesRequirement(["admin"], null)))
            .AddPolicy(ObserverOrAdmin, p => p.RequireAuthenticatedUser().AddRequirements(new RolesRequirement(["admin", "observer"], "/metrics needs role admin or observer")));
        return services;
    }

    /// <summary>One of <paramref name="Roles"/> is needed; <paramref name="Need"/> says so in the 403 (null: "is not an admin").</summary>
    private sealed record RolesRequirement(string[] Roles, string? Need) : IAuthorizationRequirement;

    /// <summary>Checks a <see cref="RolesRequirement"/> against the caller's stored roles; the failure reason is the 403's detail.</summary>
    private sealed class RolesHandler : AuthorizationHandler<RolesRequirement>
    {
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, RolesRequirement requirement)
        {
            if (context.Resource is not HttpContext ctx || !ctx.Items.TryGetValue(BrokerAuthentication.UserItem, out var item) || item is not UserRecord user)
                return Task.CompletedTask;
            if (HasAnyRole(user, requirement.Roles)) context.Succeed(requirement);
            else
                context.Fail(new AuthorizationFailureReason(this, requirement.Need is null
                    ? $"user {user.Username} is not an admin"
                    : $"user {user.Username} has roles [{string.Join(", ", user.Roles)}]; {requirement.Need}"));
            return Task.CompletedTask;
        }

        // A loop rather than LINQ: this runs on every authorized request.
        private static bool HasAnyRole(UserRecord user, string[] roles)
        {
            foreach (var role in roles)
                if (user.Roles.Contains(role)) return true;
            return false;
        }
    }

    /// <summary>401 and 403 in the FINALES2 <c>detail</c> shape (through <see cref="ApiResults.Detail(int, object)"/>), with the reason.</summary>
    private sealed class DetailAuthorizationResults : IAuthorizationMiddlewareResultHandler
    {
        private readonly AuthorizationMiddlewareResultHandler _default = new();

        public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
        {
            if (result.Challenged)
                return ApiResults.Detail(401, context.Items.TryGetValue(BrokerAuthentication.FailureItem, out var why) && why is string s ? s : "Not authenticated").ExecuteAsync(context);
            if (result.Forbidden)
                return ApiResults.Detail(403, result.AuthorizationFailure?.FailureReasons.FirstOrDefault()?.Message ?? "forbidden").ExecuteAsync(context);
            return _default.HandleAsync(next, context, policy, result);
        }
    }
}

/// <summary>
/// Authenticates the broker's HS256 bearer tokens (<see cref="TokenService"/>): the token's user must exist, be active
/// and carry the token's version (a password change or a deactivation revokes every token issued before). The
/// user's stored record goes into the request's items for the handlers; a refused token is one 401 wording for all
/// reasons (no user enumeration).
/// </summary>
public sealed class BrokerAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, BrokerService broker)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "FinalesBearer";
    public const string UserItem = "finales.user";
    public const string FailureItem = "finales.auth-failure";
    private const string Refused = "Authentication failed. Wrong username or password.";

    // The principal of each stored user record, built once: the token, its expiry and the user's state and token version
    // are still checked on every request (against the catalog snapshot's current record), and a changed user is a new
    // record, so it gets a new principal. Weak keys: records of an older snapshot go with it.
    private static readonly ConditionalWeakTable<UserRecord, ClaimsPrincipal> Principals = new();

    private static readonly Task<AuthenticateResult> NoBearer = Task.FromResult(AuthenticateResult.NoResult());

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header) || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return NoBearer;
        var token = broker.Tokens.Validate(header.AsSpan(7).Trim(), broker.UtcNow);
        if (token is not { } t || !broker.Current.Users.TryGetValue(t.Username, out var user) || !user.IsActive || user.TokenVersion != t.Version)
        {
            Context.Items[FailureItem] = Refused;
            return Task.FromResult(AuthenticateResult.Fail(Refused));
        }
        Context.Items[UserItem] = user;
        var principal = Principals.GetValue(user, static u =>
            new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, u.Username), .. u.Roles.Select(r => new Claim(ClaimTypes.Role, r))], SchemeName)));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }
}
