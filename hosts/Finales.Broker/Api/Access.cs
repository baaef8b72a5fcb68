using Finales.Core;

namespace Finales.Broker;

/// <summary>Who may do what: the caller, the roles a route needs, and acting for a tenant (fix 10).</summary>
public static class Access
{
    /// <summary>
    /// The authenticated user of a route that requires one (a <see cref="Policies"/> policy): the
    /// <see cref="BrokerAuthentication"/> handler put it there.
    /// </summary>
    public static UserRecord Caller(HttpContext ctx) =>
        BrokerAuthentication.UserOf(ctx) ??
            throw new InvalidOperationException($"{ctx.GetEndpoint()?.DisplayName} reads the caller but requires no authorization policy");

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
    public static void CheckMayReserve(BrokerService svc, UserRecord user, Guid? tenant, string quantity, IEnumerable<string> methods) =>
        CheckMayReserve(svc.Current.Catalog, user, tenant, quantity, methods);

    /// <summary>As above, against a catalog taken before (so the check reads nothing, e.g. inside a store write).</summary>
    public static void CheckMayReserve(Catalog catalog, UserRecord user, Guid? tenant, string quantity, IEnumerable<string> methods)
    {
        if (!BrokerApiCore.MayReserve(catalog, user.IsAdmin, tenant, quantity, methods, out var refusal))
            throw new ApiError(403, refusal);
    }
}
