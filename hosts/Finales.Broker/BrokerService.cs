using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Core;
using Microsoft.FSharp.Collections;

namespace Finales.Broker;

/// <summary>What the broker knows of its users, capabilities and tenants at one catalog version.</summary>
public sealed record Snapshot(
    long Version,
    IReadOnlyDictionary<string, UserRecord> Users,
    IReadOnlyList<CapabilityRecord> CapabilityRecords,
    IReadOnlyList<TenantRecord> TenantRecords,
    Catalog Catalog);

/// <summary>
/// The broker's application service: caches the catalog, and implements the administration operations shared by HTTP
/// and the CLI. The cache never blocks a request: every catalog write of this service reloads it before it returns (so
/// the next request sees the change), and <see cref="CatalogRefresher"/> picks up changes made by another process (the
/// CLI's admin commands, another replica) within <see cref="CatalogRefresher.Interval"/>.
/// </summary>
public sealed class BrokerService : IDisposable
{
    private readonly ConcurrentDictionary<long, Capability> _compiled = new();
    // Serializes reloads, so a reload that starts after a write publishes after every earlier reload.
    private readonly SemaphoreSlim _reload = new(1, 1);
    private Snapshot? _snapshot;
    private readonly ILogger? _log;

    public IBrokerStore Store { get; }
    public BrokerOptions Options { get; }
    public TokenService Tokens { get; }
    public LoginThrottle Logins { get; }
    /// <summary>The broker's clock (tokens, the login throttle, long polls); <see cref="TimeProvider.System"/> unless a test gives a fake.</summary>
    public TimeProvider Time { get; }

    /// <summary>Now, in UTC, on <see cref="Time"/>.</summary>
    public DateTime UtcNow => Time.GetUtcNow().UtcDateTime;

    private BrokerService(IBrokerStore store, BrokerOptions options, ILogger? log, TimeProvider? time, byte[] signingKey)
    {
        Store = store;
        Options = options;
        Time = time ?? TimeProvider.System;
        Logins = new LoginThrottle(options.LoginFailuresPerAddress, options.LoginFailuresPerUser, options.LoginFailureWindow, Time);
        _log = log;
        Tokens = new TokenService(signingKey, options.TokenLifetime);
    }

    /// <summary>
    /// The service on <paramref name="store"/>: reads (or first stores) the token signing key and loads the catalog.
    /// <paramref name="log"/>: where unusable stored catalog entries are reported (standard error when null).
    /// </summary>
    public static async Task<BrokerService> OpenAsync(IBrokerStore store, BrokerOptions options, ILogger? log = null, TimeProvider? time = null, CancellationToken ct = default)
    {
        options = BrokerOptionsValidation.Check(options);
        var key = await store.GetOrAddSettingAsync("jwt_signing_key", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), ct);
        var service = new BrokerService(store, options, log, time, Convert.FromBase64String(key));
        await service.ReloadAsync(ct);
        return service;
    }

    public void Dispose()
    {
        Store.Dispose();
        _reload.Dispose();
    }

    /// <summary>Creates the first admin when the store has no users; returns the generated password (null when given or not needed).</summary>
    public async Task<(bool Created, string? GeneratedPassword)> EnsureAdminAsync(string? password, CancellationToken ct = default)
    {
        if ((await Store.UsersAsync(ct)).Count > 0) return (false, null);
        var generated = string.IsNullOrEmpty(password) ? Passwords.Generate() : null;
        var created = await Store.AddUserAsync(new UserRecord("admin", Passwords.Hash(password ?? generated!), ["admin"], [], true), ct);
        await ReloadAfterWriteAsync();
        return (created, created ? generated : null);
    }

    /// <summary>The current snapshot, from memory (see the class summary for how it follows the store).</summary>
    public Snapshot Current => Volatile.Read(ref _snapshot)!;

    /// <summary>Reloads the snapshot when the stored catalog version is not the cached one; true when it reloaded.</summary>
    public async Task<bool> RefreshIfChangedAsync(CancellationToken ct = default)
    {
        if (await Store.CatalogVersionAsync(ct) == Current.Version) return false;
        await ReloadAsync(ct);
        return true;
    }

    /// <summary>Reloads the snapshot from the store.</summary>
    public async Task ReloadAsync(CancellationToken ct = default)
    {
        await _reload.WaitAsync(ct);
        try
        {
            Volatile.Write(ref _snapshot, await LoadAsync(ct));
        }
        finally
        {
            _reload.Release();
        }
    }

    // The write is committed: the cache follows it even when the caller has gone away meanwhile.
    private Task ReloadAfterWriteAsync() => ReloadAsync(CancellationToken.None);

    private async Task<Snapshot> LoadAsync(CancellationToken ct)
    {
        var version = await Store.CatalogVersionAsync(ct);
        var users = (await Store.UsersAsync(ct)).ToDictionary(u => u.Username);
        var caps = await Store.CapabilitiesAsync(ct);
        var tenants = await Store.TenantsAsync(ct);
        var compiled = new List<Capability>();
        foreach (var c in caps.Where(c => c.IsActive))
        {
            if (!_compiled.TryGetValue(c.Id, out var cap))
            {
                // Stored shared state is read as strictly as a request; an unusable version is reported and not offered.
                if (!BrokerApiCore.TryCompileStored(c.Id, c.Quantity, c.Method, c.Specification, c.ResultOutput, out cap, out var problem))
                {
                    Warn($"stored capability {c.Id} ({c.Quantity}/{c.Method}) is not usable and not offered: {problem}");
                    continue;
                }
                _compiled[c.Id] = cap;
            }
            compiled.Add(cap);
        }
        var parsedTenants = tenants.Select(t =>
        {
            List<TenantLimitation> usable;
            List<string> problems;
            try { usable = ParseLimitations(t.LimitationsJson, Options.Limits, out problems); }
            catch (Exception e) { usable = []; problems = [$"{e.GetType().Name}: {e.Message}"]; }
            foreach (var p in problems)
                Warn($"stored limitations of tenant {t.Uuid:D} ({t.Name}): an entry is not usable and that capability is treated as not offered by this tenant: {p}");
            return BrokerApiCore.Tenant(t.Uuid, t.Name, usable, t.ContactPerson, t.IsActive);
        }).ToList();
        var catalog = BrokerApiCore.Catalog(compiled, parsedTenants);
        return new Snapshot(version, users, caps, tenants, catalog);
    }

    private void Warn(string message)
    {
        if (_log is not null) _log.LogWarning("{Problem}", message);
        else Console.Error.WriteLine("warning: " + message);
    }

    private static string Describe(ValidationIssue issue) => $"{ValidationIssueModule.renderPath(issue.Path)}: {issue.Message}";

    /// <summary>Parses a FINALES2 tenant limitations list under the default limits (see the overload).</summary>
    public static List<TenantLimitation> ParseLimitations(string json, out List<string> errors) =>
        ParseLimitations(json, InputLimitsModule.defaults, out errors);

    /// <summary>
    /// Parses a FINALES2 tenant limitations list [{quantity, method, limitations}] with the core's parser
    /// (<see cref="LimitationsJson.ParseTenantLimitations(string, InputLimits, out IReadOnlyList{string})"/>: as strictly
    /// as a request body, at most <see cref="InputLimits.MaxLimitationEntries"/> entries and
    /// <see cref="InputLimits.MaxLimitationsBytes"/> bytes). Returns the usable entries; the problems (each naming its
    /// path) are collected in <paramref name="errors"/>: a new document with any problem is refused, a stored one keeps
    /// its usable entries.
    /// </summary>
    public static List<TenantLimitation> ParseLimitations(string json, InputLimits limits, out List<string> errors)
    {
        var usable = LimitationsJson.ParseTenantLimitations(json, limits, out var problems);
        errors = [.. problems];
        return [.. usable];
    }

    // ------------------------------------------------------------ administration (HTTP and CLI)

    private static ApiError Bad(string field, string msg) => ApiError.ValidationOne(["body", field], msg, "value_error");

    /// <summary>Every admin body is a JSON object: anything else is a 422 naming the body and what it was.</summary>
    private static void RequireObject(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
            throw ApiError.ValidationOne(["body"], $"the body must be a JSON object, got {body.ValueKind.ToString().ToLowerInvariant()} {ApiError.Echo(body.GetRawText())}", "type_error.dict");
    }

    private static string ReqString(JsonElement body, string field)
    {
        if (!body.TryGetProperty(field, out var v)) throw ApiError.ValidationOne(["body", field], $"field required: {field}", "missing");
        if (v.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(v.GetString()))
            throw Bad(field, $"{field} must be a non-empty string, got {ApiError.Echo(v.GetRawText())}");
        return v.GetString()!;
    }

    private static readonly string[] KnownRoles = ["admin", "tenant", "observer"];

    private static string[] Roles(JsonElement body, string[] fallback)
    {
        if (!body.TryGetProperty("roles", out var r)) return fallback;
        if (r.ValueKind != JsonValueKind.Array) throw Bad("roles", $"roles must be a list of admin, tenant, observer; got {ApiError.Echo(r.GetRawText())}");
        var roles = r.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : "").ToArray();
        foreach (var role in roles)
            if (!KnownRoles.Contains(role)) throw Bad("roles", $"unknown role '{ApiError.Echo(role)}'; roles are admin, tenant, observer");
        return roles.Distinct().ToArray();
    }

    private Guid[] TenantList(JsonElement body, Guid[] fallback)
    {
        if (!body.TryGetProperty("tenants", out var t)) return fallback;
        if (t.ValueKind != JsonValueKind.Array) throw Bad("tenants", $"tenants must be a list of tenant UUIDs, got {ApiError.Echo(t.GetRawText())}");
        var result = new List<Guid>();
        foreach (var x in t.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.String || !BrokerApiCore.TryParseUuid(x.GetString()!, out var g))
                throw Bad("tenants", $"tenants holds {ApiError.Echo(x.GetRawText())}, which is not a UUID");
            result.Add(g);
        }
        return result.Distinct().ToArray();
    }

    /// <summary>POST /admin/users: {"username","password","roles":[..],"tenants":[uuid,..]}.</summary>
    public async Task<UserRecord> AddUserAsync(JsonElement body, CancellationToken ct = default)
    {
        RequireObject(body);
        var name = ReqString(body, "username");
        var password = ReqString(body, "password");
        var user = new UserRecord(name, Passwords.Hash(password), Roles(body, ["tenant"]), TenantList(body, []), true);
        if (!await Store.AddUserAsync(user, ct)) throw new ApiError(409, $"user {ApiError.Echo(name)} already exists");
        await ReloadAfterWriteAsync();
        return user;
    }

    /// <summary>POST /admin/users/{name}: change password, roles, tenants or is_active (any subset).</summary>
    public async Task<UserRecord> UpdateUserAsync(string name, JsonElement body, CancellationToken ct = default)
    {
        RequireObject(body);
        var u = await Store.UserAsync(name, ct) ?? throw new ApiError(404, $"user {ApiError.Echo(name)} not found");
        var hash = body.TryGetProperty("password", out _) ? Passwords.Hash(ReqString(body, "password")) : u.PasswordHash;
        var active = u.IsActive;
        if (body.TryGetProperty("is_active", out var a))
        {
            if (a.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw Bad("is_active", $"is_active must be true or false, got {ApiError.Echo(a.GetRawText())}");
            active = a.GetBoolean();
        }
        var updated = new UserRecord(name, hash, Roles(body, u.Roles.ToArray()), TenantList(body, u.Tenants.ToArray()), active);
        await Store.UpdateUserAsync(updated, ct);
        await ReloadAfterWriteAsync();
        return updated;
    }

    /// <summary>POST /admin/capabilities: a FINALES2 capability file; the new version replaces the active one.</summary>
    public async Task<(long Id, long[] Deactivated)> AddCapabilityAsync(JsonElement body, CancellationToken ct = default)
    {
        RequireObject(body);
        var q = ReqString(body, "quantity");
        var m = ReqString(body, "method");
        foreach (var f in new[] { "json_schema_specifications", "json_schema_result_output" })
        {
            if (!body.TryGetProperty(f, out var s)) throw ApiError.ValidationOne(["body", f], $"field required: {f}", "missing");
            if (s.ValueKind != JsonValueKind.Object) throw Bad(f, $"{f} must be a JSON schema object, got {s.ValueKind}");
        }
        var spec = body.GetProperty("json_schema_specifications");
        var output = body.GetProperty("json_schema_result_output");
        if (!BrokerApiCore.TryCompileCapability(0, q, m, spec, output, out _, out var error)) throw Bad("json_schema_specifications", error);
        var added = await Store.AddCapabilityAsync(q, m, spec.GetRawText(), output.GetRawText(), ct);
        await ReloadAfterWriteAsync();
        return (added.Id, added.Deactivated.ToArray());
    }

    public async Task SetCapabilityActiveAsync(long id, bool active, CancellationToken ct = default)
    {
        if (!await Store.SetCapabilityActiveAsync(id, active, ct)) throw new ApiError(404, $"capability {id} not found");
        await ReloadAfterWriteAsync();
    }

    /// <summary>POST /admin/tenants: a FINALES2 tenant file plus optional "uuid" and "users" (usernames bound to it).</summary>
    public async Task<Guid> AddTenantAsync(JsonElement body, CancellationToken ct = default)
    {
        RequireObject(body);
        var name = ReqString(body, "name");
        var uuid = Guid.NewGuid();
        if (body.TryGetProperty("uuid", out var u) && u.ValueKind != JsonValueKind.Null)
            uuid = u.ValueKind == JsonValueKind.String && BrokerApiCore.TryParseUuid(u.GetString()!, out var given) ? given
                   : throw Bad("uuid", $"uuid must be a UUID, got {ApiError.Echo(u.GetRawText())}");
        var limitations = body.TryGetProperty("limitations", out var l) ? l.GetRawText() : "[]";
        ParseLimitations(limitations, Options.Limits, out var errors);
        if (errors.Count > 0) throw ApiError.ValidationOne(["body", "limitations"], string.Join("; ", errors), "value_error");
        var contact = body.TryGetProperty("contact_person", out var cp) ? (cp.ValueKind == JsonValueKind.String ? cp.GetString()! : cp.GetRawText()) : "";
        var users = new List<UserRecord>();
        if (body.TryGetProperty("users", out var us))
        {
            if (us.ValueKind != JsonValueKind.Array) throw Bad("users", $"users must be a list of usernames, got {ApiError.Echo(us.GetRawText())}");
            foreach (var x in us.EnumerateArray())
            {
                var n = x.ValueKind == JsonValueKind.String ? x.GetString()! : "";
                users.Add(await Store.UserAsync(n, ct) ?? throw Bad("users", $"user '{ApiError.Echo(n)}' does not exist; create it first with POST /admin/users"));
            }
        }
        if (!await Store.AddTenantAsync(new TenantRecord(uuid, name, limitations, contact, true), ct)) throw new ApiError(409, $"tenant {uuid:D} already exists");
        foreach (var user in users)
            await Store.UpdateUserAsync(user with { Tenants = user.Tenants.Append(uuid).Distinct().ToArray() }, ct);
        await ReloadAfterWriteAsync();
        return uuid;
    }

    public async Task SetTenantActiveAsync(Guid uuid, bool active, CancellationToken ct = default)
    {
        if (!await Store.SetTenantActiveAsync(uuid, active, ct)) throw new ApiError(404, $"tenant {uuid:D} not found");
        await ReloadAfterWriteAsync();
    }

    public async Task SetTenantLimitationsAsync(Guid uuid, JsonElement limitations, CancellationToken ct = default)
    {
        ParseLimitations(limitations.GetRawText(), Options.Limits, out var errors);
        if (errors.Count > 0) throw ApiError.ValidationOne(["body"], string.Join("; ", errors), "value_error");
        if (!await Store.SetTenantLimitationsAsync(uuid, limitations.GetRawText(), ct)) throw new ApiError(404, $"tenant {uuid:D} not found");
        await ReloadAfterWriteAsync();
    }

    /// <summary>The FINALES2 template of a schema, from the core.</summary>
    public static JsonNode Template(string schemaJson)
    {
        using var doc = JsonDocument.Parse(schemaJson);
        return CapabilitySchema.template(doc.RootElement);
    }
}
