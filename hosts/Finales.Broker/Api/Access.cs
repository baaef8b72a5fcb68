using Finales.Core.Interop;
using Microsoft.AspNetCore.Http;

namespace Finales.Broker;

/// <summary>Who may do what: the caller, the roles a route needs, and acting for a tenant (fix 10).</summary>
public static class Access
{
    /// <summary>The authenticated user, or a 401 in the FINALES2 wording.</summary>
    public static UserRecord Caller(HttpContext ctx)
    {
        if (ctx.Items.TryGetValue("user", out var cached) && cached is UserRecord u0) return u0;
        var header = ctx.Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header) || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            throw new ApiError(401, "Not authenticated");
        var svc = ApiInput.Svc(ctx);
        var token = svc.Tokens.Validate(header[7..].Trim(), DateTime.UtcNow);
        // A token issued before the user's password changed (or before a deactivation) carries an older version.
        if (token is not { } t || !svc.Current.Users.TryGetValue(t.Username, out var user) || !user.IsActive || user.TokenVersion != t.Version)
            throw new ApiError(401, "Authentication failed. Wrong username or password.");
        ctx.Items["user"] = user;
        return user;
    }

    public static UserRecord Writer(HttpContext ctx)
    {
        var u = Caller(ctx);
        if (!u.CanWrite) throw new ApiError(403, $"user {u.Username} has roles [{string.Join(", ", u.Roles)}]; this needs role tenant or admin");
        return u;
    }

    public static UserRecord Admin(HttpContext ctx)
    {
        var u = Caller(ctx);
        if (!u.IsAdmin) throw new ApiError(403, $"user {u.Username} is not an admin");
        return u;
    }

    /// <summary>
    /// Fix 10: the tenant must be registered, active, and the caller must be allowed to act for it. Every write that
    /// acts for a tenant passes here, so a deactivated tenant can neither post nor reserve, claim or post results
    /// (admins included: reactivate the tenant first); reads stay allowed.
    /// </summary>
    public static void CheckActsFor(BrokerService svc, UserRecord user, Guid tenant)
    {
        var record = svc.Current.TenantRecords.FirstOrDefault(t => t.Uuid == tenant)
            ?? throw new ApiError(403, $"tenant {tenant:D} is not registered with this broker");
        if (!user.IsAdmin && !user.Tenants.Contains(tenant))
            throw new ApiError(403, $"user {user.Username} may not act for tenant {tenant:D}");
        if (!record.IsActive)
            throw new ApiError(403, $"tenant {tenant:D} ({ApiError.Echo(record.Name)}) is deactivated; it may not write until an admin activates it again");
    }

    /// <summary>The tenant a reservation is made for: ?tenant_uuid= if given, else the user's (first) tenant; checked like any write.</summary>
    public static Guid? ActingTenant(HttpContext ctx, BrokerService svc, UserRecord user)
    {
        var given = ApiInput.QueryUuid(ctx, "tenant_uuid");
        if (given is { } g) { CheckActsFor(svc, user, g); return g; }
        if (user.Tenants.Count == 0) return null;
        CheckActsFor(svc, user, user.Tenants[0]);
        return user.Tenants[0];
    }

    /// <summary>The reservation policy of the core (<c>Catalog.mayReserve</c>) as a 403.</summary>
    public static void CheckMayReserve(BrokerService svc, UserRecord user, Guid? tenant, string quantity, IEnumerable<string> methods)
    {
        if (!BrokerCore.MayReserve(svc.Current.Catalog, user.IsAdmin, tenant, quantity, methods, out var refusal))
            throw new ApiError(403, refusal);
    }
}
