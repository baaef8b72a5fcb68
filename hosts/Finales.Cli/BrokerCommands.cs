using System.Text.Json;
using Finales.Broker;
using Finales.Core;
using Finales.Core.Interop;
using Microsoft.Extensions.Options;

namespace Finales.Cli;

/// <summary>`finales serve` and `finales admin`.</summary>
public static class BrokerCommands
{
    /// <summary>A capability or tenant file read by the core's strict JSON reader (the same rules as an HTTP body).</summary>
    private static JsonDocument StrictFile(string file)
    {
        return BrokerApiCore.TryParseJson(File.ReadAllBytes(file), [], out var document, out var issue) ? document
            : throw new CliError($"{file}: {issue.RenderedPath}: {issue.Message}");
    }

    private const string StoreHelp =
        "  --db PATH            SQLite store file (default ./finales.db, created if missing)\n" +
        "  --postgres CONN      PostgreSQL connection string instead, e.g. \"Host=127.0.0.1;Port=5432;Username=finales;Database=finales\"\n";

    /// <summary>
    /// The broker's options from FINALES_* environment variables and the flags in <paramref name="args"/>, bound and
    /// validated by <see cref="BrokerConfiguration"/>; a bad value is one line naming the flag.
    /// </summary>
    public static BrokerOptions Options(string[] args)
    {
        try
        {
            return BrokerConfiguration.Load(args);
        }
        catch (OptionsValidationException e)
        {
            throw new CliError(string.Join("; ", e.Failures));
        }
    }

    public static int Serve(string[] args)
    {
        var a = new CliArgs(args, "quiet");
        if (a.Help)
        {
            Console.WriteLine("Usage: ./finales serve [options]\n\nRuns the FINALES2-compatible broker.\n\n" + StoreHelp +
                "  --urls URL           listen address (default http://127.0.0.1:13371)\n" +
                "  --lease-seconds N    lease of reservations made with update_status (default 21600, at most the maximum)\n" +
                "  --max-lease-seconds N longest lease a claim or heartbeat may ask for, 422 above (default 21600)\n" +
                "  --login-failures-per-address N  failed logins per client address per window, then 429 (default 10)\n" +
                "  --login-failures-per-user N     failed logins per username per window, then 429 (default 30)\n" +
                "  --login-failure-window-seconds N  the window of those limits (default 60)\n" +
                "  --limitations MODE   reject (default) | warn | off: requests outside every tenant's limitations\n" +
                "  --result-validation M reject (default) | warn | off: result data that break the capability's result schema\n" +
                "  --dump-key KEY       enables GET /database_dump/KEY for admins (or FINALES_DUMP_KEY)\n" +
                "  --max-body-bytes N   request body limit, 413 above it (default 8 MiB)\n" +
                "  --token-minutes N    lifetime of access tokens (default 720)\n" +
                "  --quiet              only warnings and errors in the log\n\n" +
                "First start on an empty store creates user 'admin' with FINALES_ADMIN_PASSWORD, or prints a generated password once.\n" +
                "Example: ./finales serve --db ./finales.db --urls http://127.0.0.1:13371");
            return 0;
        }
        a.Only("db", "postgres", "urls", "lease-seconds", "max-lease-seconds", "login-failures-per-address", "login-failures-per-user", "login-failure-window-seconds", "limitations", "result-validation", "dump-key", "max-body-bytes", "token-minutes", "quiet");
        var options = Options(args);
        var app = BrokerHost.Build(options);
        var svc = app.Services.GetService(typeof(BrokerService)) as BrokerService ?? throw new InvalidOperationException("broker service missing");
        var (created, generated) = svc.EnsureAdmin(options.AdminPassword);
        Console.WriteLine($"Finales broker on {options.Urls}");
        Console.WriteLine($"  store: {svc.Store.Description}");
        if (created && generated is not null)
            Console.WriteLine($"  admin: created user 'admin' with password {generated}  (shown once; set FINALES_ADMIN_PASSWORD to choose it)");
        else if (created)
            Console.WriteLine("  admin: created user 'admin' with the password from FINALES_ADMIN_PASSWORD");
        else
            Console.WriteLine("  admin: users exist; manage them with ./finales admin or POST /admin/users");
        Console.WriteLine($"  docs: {options.Urls.Split(';')[0].TrimEnd('/')}/docs");
        Console.Out.Flush();
        app.Run();
        return 0;
    }

    public static int Admin(string[] args)
    {
        var a = new CliArgs(args);
        if (a.Help || a.Positional.Count == 0)
        {
            Console.WriteLine("Usage: ./finales admin [--db PATH | --postgres CONN] <what> <verb> [...]\n\n" + StoreHelp + "\n" +
                "  user add --username U --password P [--roles tenant|observer|admin,...] [--tenants UUID,...]\n" +
                "  user set U [--password P] [--roles ...] [--tenants ...] [--active true|false]\n" +
                "  user list\n" +
                "  capability add FILE|DIR ...     FINALES2 capability files (a directory: every *.json below it)\n" +
                "  capability list | activate ID | deactivate ID\n" +
                "  tenant add FILE [--uuid UUID] [--users U1,U2]\n" +
                "  tenant list | activate UUID | deactivate UUID\n" +
                "  audit                           replay the event log and compare with the stored state\n" +
                "  backup --to FILE                SQLite: a consistent copy of the store, taken while the broker runs\n\n" +
                "Example: ./finales admin capability add data/finales2-schemas/serialized_quantities");
            return a.Help ? 0 : 1;
        }
        var options = Options(args);
        using var svc = new BrokerService(BrokerHost.OpenStore(options), options);
        svc.EnsureAdmin(options.AdminPassword);
        var what = a.Positional[0];
        var verb = a.Positional.Count > 1 ? a.Positional[1] : "list";
        var rest = a.Positional.Skip(2).ToList();
        var json = new JsonSerializerOptions { WriteIndented = true };
        string Need(int i, string what2) => i < rest.Count ? rest[i] : throw new CliError($"missing {what2}");
        try
        {
            switch (what, verb)
            {
                case ("user", "add"):
                {
                    var body = new Dictionary<string, object?>
                    {
                        ["username"] = a.Get("username") ?? throw new CliError("--username is required"),
                        ["password"] = a.Get("password") ?? throw new CliError("--password is required"),
                        ["roles"] = (a.Get("roles") ?? "tenant").Split(',', StringSplitOptions.RemoveEmptyEntries),
                        ["tenants"] = (a.Get("tenants") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries),
                    };
                    var u = svc.AddUser(JsonSerializer.SerializeToElement(body));
                    Console.WriteLine($"user {u.Username} created with roles [{string.Join(", ", u.Roles)}]");
                    break;
                }
                case ("user", "set"):
                {
                    var body = new Dictionary<string, object?>();
                    if (a.Get("password") is { } p) body["password"] = p;
                    if (a.Get("roles") is { } r) body["roles"] = r.Split(',', StringSplitOptions.RemoveEmptyEntries);
                    if (a.Get("tenants") is { } t) body["tenants"] = t.Split(',', StringSplitOptions.RemoveEmptyEntries);
                    if (a.Get("active") is { } act) body["is_active"] = act == "true";
                    var u = svc.UpdateUser(Need(0, "username"), JsonSerializer.SerializeToElement(body));
                    Console.WriteLine($"user {u.Username}: roles [{string.Join(", ", u.Roles)}], tenants [{string.Join(", ", u.Tenants)}], active {u.IsActive}");
                    break;
                }
                case ("user", "list"):
                    Console.WriteLine(JsonSerializer.Serialize(svc.Store.Users().Select(u => new { username = u.Username, roles = u.Roles, tenants = u.Tenants, is_active = u.IsActive }), json));
                    break;
                case ("capability", "add"):
                    if (rest.Count == 0) throw new CliError("capability add needs at least one FILE or DIR");
                    foreach (var file in rest.SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p, "*.json", SearchOption.AllDirectories).Order().ToArray() : new[] { p }))
                    {
                        using var doc = StrictFile(file);
                        var (id, old) = svc.AddCapability(doc.RootElement);
                        Console.WriteLine($"capability {id} registered from {file}" + (old.Length > 0 ? $" (deactivated {string.Join(", ", old)})" : ""));
                    }
                    break;
                case ("capability", "list"):
                    Console.WriteLine(JsonSerializer.Serialize(svc.Store.Capabilities().Select(c => new { id = c.Id, quantity = c.Quantity, method = c.Method, is_active = c.IsActive, created = c.Created }), json));
                    break;
                case ("capability", "activate" or "deactivate"):
                    svc.SetCapabilityActive(long.TryParse(Need(0, "capability id"), out var cid) ? cid : throw new CliError("capability id must be an integer"), verb == "activate");
                    Console.WriteLine($"capability {cid} {verb}d");
                    break;
                case ("tenant", "add"):
                {
                    var file = Need(0, "tenant FILE");
                    using var strict = StrictFile(file);
                    var node = (strict.RootElement.ValueKind == JsonValueKind.Object ? System.Text.Json.Nodes.JsonObject.Create(strict.RootElement) : null)
                               ?? throw new CliError($"{file} must hold a JSON object (a FINALES2 tenant file)");
                    if (a.Get("uuid") is { } uuid) node["uuid"] = uuid;
                    if (a.Get("users") is { } users) node["users"] = new System.Text.Json.Nodes.JsonArray(users.Split(',').Select(u => (System.Text.Json.Nodes.JsonNode?)u).ToArray());
                    var id = svc.AddTenant(JsonSerializer.SerializeToElement(node));
                    Console.WriteLine(id.ToString("D"));
                    break;
                }
                case ("tenant", "list"):
                    Console.WriteLine(JsonSerializer.Serialize(svc.Store.Tenants().Select(t => new { tenant_uuid = t.Uuid, name = t.Name, is_active = t.IsActive }), json));
                    break;
                case ("tenant", "activate" or "deactivate"):
                {
                    var id = BrokerApiCore.TryParseUuid(Need(0, "tenant UUID"), out var given) ? given : throw new CliError("tenant id must be a UUID");
                    svc.SetTenantActive(id, verb == "activate");
                    Console.WriteLine($"tenant {id:D} {verb}d");
                    break;
                }
                case ("backup", _):
                {
                    var to = a.Get("to") ?? throw new CliError("backup needs --to FILE");
                    if (svc.Store.IsPostgres) throw new CliError("backup copies a SQLite store; for PostgreSQL use pg_dump");
                    var sw = System.Diagnostics.Stopwatch.StartNew();
                    long bytes;
                    try { bytes = svc.Store.BackupTo(to); }
                    catch (IOException e) { throw new CliError(e.Message); }
                    Console.WriteLine($"backup of {svc.Store.Description} written to {Path.GetFullPath(to)} ({bytes / 1048576.0:F1} MB, {sw.Elapsed.TotalSeconds:F1} s)");
                    break;
                }
                case ("audit", _):
                {
                    var problems = svc.Store.Audit();
                    Console.WriteLine(JsonSerializer.Serialize(new { ok = problems.Count == 0, problems }, json));
                    return problems.Count == 0 ? 0 : 3;
                }
                default:
                    throw new CliError($"unknown admin command '{what} {verb}'; see ./finales admin --help");
            }
        }
        catch (ApiError e)
        {
            Console.Error.WriteLine($"finales admin: {(e.Detail is string s ? s : JsonSerializer.Serialize(e.Detail))}");
            return 2;
        }
        return 0;
    }
}
