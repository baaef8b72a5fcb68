using System.Data.Common;
using System.Text.Json;
using Finales.Core;

namespace Finales.Broker;

// Settings, users, capabilities and tenants: the shared catalog every broker process reloads when its version moves.
public abstract partial class SqlBrokerStore
{
    public Task<string> GetOrAddSettingAsync(string key, string value, CancellationToken ct = default) => WriteAsync((c, tx) =>
    {
        var existing = Scalar(c, tx, "SELECT value FROM settings WHERE key = @p0" + ForUpdate, key) as string;
        if (existing is not null) return existing;
        Exec(c, tx, InsertOrIgnore("settings", "key, value", "@p0, @p1"), key, value);
        return (string)Scalar(c, tx, "SELECT value FROM settings WHERE key = @p0", key)!;
    }, ct);

    /// <summary>Raises the catalog version by one.</summary>
    protected abstract void BumpCatalogVersion(DbConnection c, DbTransaction tx);

    public async Task<long> CatalogVersionAsync(CancellationToken ct = default) =>
        await ReadScalarAsync("SELECT value FROM settings WHERE key = 'catalog_version'", [], ct) is string s ? long.Parse(s) : 0;

    private const string UserColumns = "SELECT username, password_hash, roles, tenants, is_active, token_version FROM users";

    private static UserRecord ReadUser(DbDataReader r) => new(
        r.GetString(0), r.GetString(1),
        JsonSerializer.Deserialize<string[]>(r.GetString(2)) ?? [],
        (JsonSerializer.Deserialize<string[]>(r.GetString(3)) ?? []).Select(Guid.Parse).ToArray(),
        Convert.ToInt64(r.GetValue(4)) != 0,
        Convert.ToInt64(r.GetValue(5)));

    public Task<IReadOnlyList<UserRecord>> UsersAsync(CancellationToken ct = default) =>
        Task.FromResult<IReadOnlyList<UserRecord>>(Read(c => Query(c, null, UserColumns + " ORDER BY username", ReadUser)));

    public Task<UserRecord?> UserAsync(string username, CancellationToken ct = default) =>
        Task.FromResult(Read(c => Query(c, null, UserColumns + " WHERE username = @p0", ReadUser, username).FirstOrDefault()));

    public Task<bool> AddUserAsync(UserRecord u, CancellationToken ct = default) => WriteAsync((c, tx) =>
    {
        // One statement decides: of concurrent identical creates (also from several processes) exactly one inserts.
        if (Exec(c, tx, "INSERT INTO users (username, password_hash, roles, tenants, is_active) VALUES (@p0, @p1, @p2, @p3, @p4) ON CONFLICT (username) DO NOTHING",
                u.Username, u.PasswordHash, JsonSerializer.Serialize(u.Roles), JsonSerializer.Serialize(u.Tenants.Select(t => t.ToString("D"))), u.IsActive ? 1 : 0) == 0)
            return false;
        BumpCatalogVersion(c, tx);
        return true;
    }, ct);

    /// <summary>
    /// Replaces a user's password hash, roles, tenants and activity; false when unknown. A new password hash or a
    /// deactivation raises the token version, which revokes every token issued before.
    /// </summary>
    public Task<bool> UpdateUserAsync(UserRecord u, CancellationToken ct = default) => WriteAsync((c, tx) =>
    {
        var n = Exec(c, tx, "UPDATE users SET token_version = CASE WHEN password_hash <> @p1 OR (is_active <> 0 AND @p4 = 0) THEN token_version + 1 ELSE token_version END, "
                            + "password_hash = @p1, roles = @p2, tenants = @p3, is_active = @p4 WHERE username = @p0",
            u.Username, u.PasswordHash, JsonSerializer.Serialize(u.Roles), JsonSerializer.Serialize(u.Tenants.Select(t => t.ToString("D"))), u.IsActive ? 1 : 0);
        BumpCatalogVersion(c, tx);
        return n > 0;
    }, ct);

    private static CapabilityRecord ReadCapability(DbDataReader r) => new(
        Convert.ToInt64(r.GetValue(0)), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), Convert.ToInt64(r.GetValue(5)) != 0, r.GetString(6));

    public Task<IReadOnlyList<CapabilityRecord>> CapabilitiesAsync(CancellationToken ct = default) =>
        Task.FromResult<IReadOnlyList<CapabilityRecord>>(Read(c =>
            Query(c, null, "SELECT id, quantity, method, spec, result_output, is_active, created FROM capabilities ORDER BY id", ReadCapability)));

    /// <summary>Serialises capability changes of processes sharing one database (PostgreSQL).</summary>
    protected virtual void LockCapabilities(DbConnection c, DbTransaction tx) { }

    public Task<CapabilityAdded> AddCapabilityAsync(string quantity, string method, string spec, string resultOutput, CancellationToken ct = default) => WriteAsync((c, tx) =>
    {
        LockCapabilities(c, tx);
        var old = Query(c, tx, "SELECT id FROM capabilities WHERE quantity = @p0 AND method = @p1 AND is_active = 1", r => Convert.ToInt64(r.GetValue(0)), quantity, method).ToArray();
        Exec(c, tx, "UPDATE capabilities SET is_active = 0 WHERE quantity = @p0 AND method = @p1 AND is_active = 1", quantity, method);
        var id = Convert.ToInt64(Scalar(c, tx, "INSERT INTO capabilities (quantity, method, spec, result_output, is_active, created) VALUES (@p0, @p1, @p2, @p3, 1, @p4) RETURNING id",
            quantity, method, spec, resultOutput, WireFormat.ctime(UtcNow)));
        BumpCatalogVersion(c, tx);
        return new CapabilityAdded(id, old);
    }, ct);

    public Task<bool> SetCapabilityActiveAsync(long id, bool active, CancellationToken ct = default) => WriteAsync((c, tx) =>
    {
        var row = Query(c, tx, "SELECT quantity, method FROM capabilities WHERE id = @p0", r => (r.GetString(0), r.GetString(1)), id).FirstOrDefault();
        if (row == default) return false;
        if (active) Exec(c, tx, "UPDATE capabilities SET is_active = 0 WHERE quantity = @p0 AND method = @p1", row.Item1, row.Item2);
        Exec(c, tx, "UPDATE capabilities SET is_active = @p1 WHERE id = @p0", id, active ? 1 : 0);
        BumpCatalogVersion(c, tx);
        return true;
    }, ct);

    private static TenantRecord ReadTenant(DbDataReader r) => new(Guid.Parse(r.GetString(0)), r.GetString(1), r.GetString(2), r.GetString(3), Convert.ToInt64(r.GetValue(4)) != 0);

    public Task<IReadOnlyList<TenantRecord>> TenantsAsync(CancellationToken ct = default) =>
        Task.FromResult<IReadOnlyList<TenantRecord>>(Read(c =>
            Query(c, null, "SELECT uuid, name, limitations, contact_person, is_active FROM tenants ORDER BY name, uuid", ReadTenant)));

    public Task<bool> AddTenantAsync(TenantRecord t, CancellationToken ct = default) => WriteAsync((c, tx) =>
    {
        if (Exec(c, tx, "INSERT INTO tenants (uuid, name, limitations, contact_person, is_active) VALUES (@p0, @p1, @p2, @p3, @p4) ON CONFLICT (uuid) DO NOTHING",
                t.Uuid.ToString("D"), t.Name, t.LimitationsJson, t.ContactPerson, t.IsActive ? 1 : 0) == 0)
            return false;
        BumpCatalogVersion(c, tx);
        return true;
    }, ct);

    public Task<bool> SetTenantActiveAsync(Guid uuid, bool active, CancellationToken ct = default) => WriteAsync((c, tx) =>
    {
        var n = Exec(c, tx, "UPDATE tenants SET is_active = @p1 WHERE uuid = @p0", uuid.ToString("D"), active ? 1 : 0);
        BumpCatalogVersion(c, tx);
        return n > 0;
    }, ct);

    public Task<bool> SetTenantLimitationsAsync(Guid uuid, string limitationsJson, CancellationToken ct = default) => WriteAsync((c, tx) =>
    {
        var n = Exec(c, tx, "UPDATE tenants SET limitations = @p1 WHERE uuid = @p0", uuid.ToString("D"), limitationsJson);
        BumpCatalogVersion(c, tx);
        return n > 0;
    }, ct);
}
