using System.Runtime.CompilerServices;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.DependencyInjection;

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
        services.AddAuthentication(o =>
        {
            o.DefaultScheme = BrokerAuthentication.SchemeName;
            o.AddScheme<BrokerAuthentication>(BrokerAuthentication.SchemeName, null);
        });
        // Resolved from the container (a plain transient), not built by reflection on every request.
        services.AddTransient<BrokerAuthentication>();
        services.AddSingleton<IAuthorizationHandler, RolesHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, DetailAuthorizationResults>();
        services.AddTransient<PolicyEvaluator>();
        services.AddSingleton<IPolicyEvaluator, BrokerPolicyEvaluator>();
        services.AddAuthorizationBuilder()
            .AddPolicy(User, p => p.RequireAuthenticatedUser())
            .AddPolicy(Tenant, p => p.RequireAuthenticatedUser().AddRequirements(new RolesRequirement(["tenant", "admin"], "this needs role tenant or admin")))
            .AddPolicy(Admin, p => p.RequireAuthenticatedUser().AddRequirements(new RolesRequirement(["admin"], null)))
            .AddPolicy(ObserverOrAdmin, p => p.RequireAuthenticatedUser().AddRequirements(new RolesRequirement(["admin", "observer"], "/metrics needs role admin or observer")));
        return services;
    }

    /// <summary>One of <paramref name="Roles"/> is needed; <paramref name="Need"/> says so in the 403 (null: "is not an admin").</summary>
    private sealed record RolesRequirement(string[] Roles, string? Need) : IAuthorizationRequirement
    {
        /// <summary>Null when the user holds one of the roles, else the 403's detail.</summary>
        public string? Refusal(UserRecord user)
        {
            // A loop rather than LINQ: this runs on every authorized request.
            foreach (var role in Roles)
                if (user.Roles.Contains(role)) return null;
            return Need is null ? $"user {user.Username} is not an admin" : $"user {user.Username} has roles [{string.Join(", ", user.Roles)}]; {Need}";
        }
    }

    /// <summary>Checks a <see cref="RolesRequirement"/> against the caller's stored roles; the failure reason is the 403's detail.</summary>
    private sealed class RolesHandler : AuthorizationHandler<RolesRequirement>
    {
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, RolesRequirement requirement)
        {
            if (context.Resource is not HttpContext ctx || BrokerAuthentication.UserOf(ctx) is not { } user) return Task.CompletedTask;
            if (requirement.Refusal(user) is { } why) context.Fail(new AuthorizationFailureReason(this, why));
            else context.Succeed(requirement);
            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// Evaluates the broker's own policies (an authenticated user, and at most one <see cref="RolesRequirement"/>) directly
    /// from the user record the authentication handler stored, with the answers the general evaluator gives them: no
    /// user is a challenge (401), a missing role a forbid (403) carrying <see cref="RolesRequirement.Refusal"/>. Any other
    /// policy goes to ASP.NET's <see cref="PolicyEvaluator"/> (and its authorization service), as before. This runs on every
    /// request; the general path allocates a context, a ticket and a handler pass per requirement.
    /// </summary>
    private sealed class BrokerPolicyEvaluator(PolicyEvaluator general) : IPolicyEvaluator
    {
        private static readonly Task<PolicyAuthorizationResult> Succeeded = Task.FromResult(PolicyAuthorizationResult.Success());
        private static readonly Task<PolicyAuthorizationResult> Challenged = Task.FromResult(PolicyAuthorizationResult.Challenge());

        public Task<AuthenticateResult> AuthenticateAsync(AuthorizationPolicy policy, HttpContext context) =>
            // The authentication middleware's result for the default scheme, which is what the general evaluator rebuilds
            // from context.User when a policy names no scheme.
            policy.AuthenticationSchemes.Count == 0 && context.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult is { } done
                ? Task.FromResult(done.Succeeded ? done : AuthenticateResult.NoResult())
                : general.AuthenticateAsync(policy, context);

        public Task<PolicyAuthorizationResult> AuthorizeAsync(AuthorizationPolicy policy, AuthenticateResult authenticationResult, HttpContext context, object? resource)
        {
            if (!IsBrokers(policy, out var roles)) return general.AuthorizeAsync(policy, authenticationResult, context, resource);
            if (!authenticationResult.Succeeded || BrokerAuthentication.UserOf(context) is not { } user) return Challenged;
            if (roles?.Refusal(user) is { } why)
                return Task.FromResult(PolicyAuthorizationResult.Forbid(AuthorizationFailure.Failed([new AuthorizationFailureReason(Reasons, why)])));
            return Succeeded;
        }

        /// <summary>An authenticated-user requirement, optionally followed by one roles requirement, and nothing else.</summary>
        private static bool IsBrokers(AuthorizationPolicy policy, out RolesRequirement? roles)
        {
            roles = null;
            var r = policy.Requirements;
            if (policy.AuthenticationSchemes.Count != 0 || r.Count is 0 or > 2 || r[0] is not DenyAnonymousAuthorizationRequirement) return false;
            if (r.Count == 1) return true;
            roles = r[1] as RolesRequirement;
            return roles is not null;
        }

        // The handler a failure reason names (ASP.NET's type needs one); only its message is read.
        private static readonly RolesHandler Reasons = new();
    }

    /// <summary>401 and 403 in the FINALES2 <c>detail</c> shape (through <see cref="ApiResults.Detail(int, object)"/>), with the reason.</summary>
    private sealed class DetailAuthorizationResults : IAuthorizationMiddlewareResultHandler
    {
        private readonly AuthorizationMiddlewareResultHandler _default = new();

        public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
        {
            if (result.Challenged)
                return BrokerAuthentication.Challenge(context);
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
/// reasons (no user enumeration). A plain <see cref="IAuthenticationHandler"/> resolved from the container: it has no
/// options, events or logger of its own, which ASP.NET's <c>AuthenticationHandler</c> base would set up per request.
/// </summary>
public sealed class BrokerAuthentication(BrokerService broker) : IAuthenticationHandler
{
    public const string SchemeName = "FinalesBearer";
    public const string UserItem = "finales.user";
    public const string FailureItem = "finales.auth-failure";
    private const string Refused = "Authentication failed. Wrong username or password.";

    // The principal of each stored user record, built once: the token, its expiry and the user's state and token version
    // are still checked on every request (against the catalog snapshot's current record), and a changed user is a new
    // record, so it gets a new principal. Weak keys: records of an older snapshot go with it.
    private static readonly ConditionalWeakTable<UserRecord, AuthenticationTicket> Tickets = new();

    private static readonly Task<AuthenticateResult> NoBearer = Task.FromResult(AuthenticateResult.NoResult());
    private static readonly Task<AuthenticateResult> Failed = Task.FromResult(AuthenticateResult.Fail(Refused));

    private HttpContext? _context;
    private Task<AuthenticateResult>? _result;

    /// <summary>The user this request authenticated as, or null.</summary>
    public static UserRecord? UserOf(HttpContext ctx) => ctx.Items.TryGetValue(UserItem, out var item) ? item as UserRecord : null;

    public Task InitializeAsync(AuthenticationScheme scheme, HttpContext context)
    {
        _context = context;
        return Task.CompletedTask;
    }

    /// <summary>Decided once per request, however often it is asked.</summary>
    public Task<AuthenticateResult> AuthenticateAsync() => _result ??= Authenticate(Context);

    private Task<AuthenticateResult> Authenticate(HttpContext ctx)
    {
        var header = ctx.Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header) || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return NoBearer;
        var token = broker.Tokens.Validate(header.AsSpan(7).Trim(), broker.UtcNow);
        if (token is not { } t || !broker.Current.Users.TryGetValue(t.Username, out var user) || !user.IsActive || user.TokenVersion != t.Version)
        {
            ctx.Items[FailureItem] = Refused;
            return Failed;
        }
        ctx.Items[UserItem] = user;
        var ticket = Tickets.GetValue(user, static u => new AuthenticationTicket(
            new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, u.Username), .. u.Roles.Select(r => new Claim(ClaimTypes.Role, r))], SchemeName)),
            SchemeName));
        return Task.FromResult(AuthenticateResult.Success(ticket));
    }

    /// <summary>The 401 in the FINALES2 detail shape: why the token was refused, or that none was sent.</summary>
    public static Task Challenge(HttpContext ctx) =>
        ApiResults.Detail(401, ctx.Items.TryGetValue(FailureItem, out var why) && why is string s ? s : "Not authenticated").ExecuteAsync(ctx);

    /// <summary>The same 401 (the authorization middleware answers through its own result handler, which calls <see cref="Challenge"/>).</summary>
    public Task ChallengeAsync(AuthenticationProperties? properties) => Challenge(Context);

    /// <summary>403 in the FINALES2 detail shape.</summary>
    public Task ForbidAsync(AuthenticationProperties? properties) => ApiResults.Detail(403, "forbidden").ExecuteAsync(Context);

    private HttpContext Context => _context ?? throw new InvalidOperationException("the authentication handler is used before InitializeAsync");
}
