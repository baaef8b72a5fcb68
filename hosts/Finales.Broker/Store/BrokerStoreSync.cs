using Finales.Core;

namespace Finales.Broker;

/// <summary>
/// Transitional: the store port under synchronous names for the callers that are synchronous themselves: the catalog
/// cache and administration of <see cref="BrokerService"/> (admin routes and the CLI's admin commands, which call it
/// synchronously) and the CLI's listings, backup, audit and bench. No request handler uses it: they await the port
/// with their request's token. Catalog reads are rare (the cache re-reads the catalog version at most every 250 ms).
/// </summary>
public static class BrokerStoreSync
{
    private static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();

    public static string GetOrAddSetting(this IBrokerStore s, string key, string value) => Wait(s.GetOrAddSettingAsync(key, value));
    public static long CatalogVersion(this IBrokerStore s) => Wait(s.CatalogVersionAsync());
    public static IReadOnlyList<UserRecord> Users(this IBrokerStore s) => Wait(s.UsersAsync());
    public static UserRecord? User(this IBrokerStore s, string username) => Wait(s.UserAsync(username));
    public static bool AddUser(this IBrokerStore s, UserRecord u) => Wait(s.AddUserAsync(u));
    public static bool UpdateUser(this IBrokerStore s, UserRecord u) => Wait(s.UpdateUserAsync(u));
    public static IReadOnlyList<CapabilityRecord> Capabilities(this IBrokerStore s) => Wait(s.CapabilitiesAsync());

    public static (long Id, long[] Deactivated) AddCapability(this IBrokerStore s, string quantity, string method, string spec, string resultOutput)
    {
        var added = Wait(s.AddCapabilityAsync(quantity, method, spec, resultOutput));
        return (added.Id, added.Deactivated.ToArray());
    }

    public static bool SetCapabilityActive(this IBrokerStore s, long id, bool active) => Wait(s.SetCapabilityActiveAsync(id, active));
    public static IReadOnlyList<TenantRecord> Tenants(this IBrokerStore s) => Wait(s.TenantsAsync());
    public static bool AddTenant(this IBrokerStore s, TenantRecord t) => Wait(s.AddTenantAsync(t));
    public static bool SetTenantActive(this IBrokerStore s, Guid uuid, bool active) => Wait(s.SetTenantActiveAsync(uuid, active));
    public static bool SetTenantLimitations(this IBrokerStore s, Guid uuid, string limitationsJson) => Wait(s.SetTenantLimitationsAsync(uuid, limitationsJson));
    public static IReadOnlyDictionary<string, long> StatusCounts(this IBrokerStore s) => Wait(s.StatusCountsAsync());
    public static IReadOnlyList<string> Audit(this IBrokerStore s) => Wait(s.AuditAsync());
    public static long BackupTo(this IBrokerStore s, string path) => Wait(s.BackupToAsync(path));
}
