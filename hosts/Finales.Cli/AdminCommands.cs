using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Broker;
using Finales.Core.Interop;

namespace Finales.Cli;

/// <summary>`finales admin`: users, capabilities and tenants managed directly on a store (SQLite file or PostgreSQL).</summary>
public static class AdminCommands
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static FinalesCommand Create()
    {
        var db = ServeCommand.DbOption();
        var postgres = ServeCommand.PostgresOption();
        db.Recursive = postgres.Recursive = true;
        var admin = new FinalesCommand("admin", "manage users, capabilities and tenants directly on a store")
        {
            Examples =
            [
                "./finales admin --db ./finales.db capability add data/finales2-schemas/serialized_quantities",
                "./finales admin --db ./finales.db user add --username robot --password secret --roles tenant",
                "./finales admin --db ./finales.db audit",
            ],
        };
        admin.Options.Add(db);
        admin.Options.Add(postgres);
        var store = new Store(db, postgres);
        admin.Subcommands.Add(Users(store));
        admin.Subcommands.Add(Capabilities(store));
        admin.Subcommands.Add(Tenants(store));
        admin.Subcommands.Add(Audit(store));
        admin.Subcommands.Add(Backup(store));
        return admin;
    }

    /// <summary>Opens the store the --db/--postgres flags (or FINALES_DB/FINALES_POSTGRES) name, with its first admin ensured.</summary>
    private sealed record Store(Option<string?> Db, Option<string?> Postgres)
    {
        /// <summary>Runs <paramref name="run"/> on the store; a refusal of the broker's rules is a user error naming why.</summary>
        public async Task<int> RunAsync(ParseResult parse, CancellationToken ct, Func<BrokerService, Task<int>> run)
        {
            var args = new List<string>();
            if (parse.GetValue(Db) is { } path) args.AddRange(["--db", path]);
            if (parse.GetValue(Postgres) is { } conn) args.AddRange(["--postgres", conn]);
            var options = ServeCommand.Options(args);
            var store = BrokerHost.OpenStore(options);
            BrokerService svc;
            try
            {
                svc = await BrokerService.OpenAsync(store, options, ct: ct);
            }
            catch
            {
                store.Dispose();
                throw;
            }
            using var _ = svc;
            await svc.EnsureAdminAsync(options.AdminPassword, ct);
            try
            {
                return await run(svc);
            }
            catch (ApiError e)
            {
                throw new UsageError(e.Detail is string s ? s : JsonSerializer.Serialize(e.Detail));
            }
        }
    }

    private static FinalesCommand Leaf(string name, string description, Store store, Func<ParseResult, BrokerService, CancellationToken, Task<int>> run, params Symbol[] symbols)
    {
        var command = new FinalesCommand(name, description);
        foreach (var s in symbols)
            if (s is Option o) command.Options.Add(o);
            else if (s is Argument a) command.Arguments.Add(a);
        command.SetAction((parse, ct) => store.RunAsync(parse, ct, svc => run(parse, svc, ct)));
        return command;
    }

    private static string[] List(string? commaSeparated) => (commaSeparated ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);

    private static FinalesCommand Users(Store store)
    {
        var username = Opt.Text("--username", "name of the new user", "U");
        var password = Opt.Text("--password", "its password", "P");
        username.Required = password.Required = true;
        var roles = Opt.Text("--roles", "tenant, observer and/or admin, comma-separated (default tenant)", "ROLES", "tenant");
        var tenants = Opt.Text("--tenants", "tenants the user may act for, comma-separated", "UUID,...");
        var add = Leaf("add", "create a user", store, async (p, svc, ct) =>
        {
            var body = new Dictionary<string, object?>
            {
                ["username"] = p.GetValue(username),
                ["password"] = p.GetValue(password),
                ["roles"] = List(p.GetValue(roles)),
                ["tenants"] = List(p.GetValue(tenants)),
            };
            var u = await svc.AddUserAsync(JsonSerializer.SerializeToElement(body), ct);
            Console.WriteLine($"user {u.Username} created with roles [{string.Join(", ", u.Roles)}]");
            return 0;
        }, username, password, roles, tenants);

        var name = new Argument<string>("username") { Description = "the user to change" };
        var newPassword = Opt.Text("--password", "new password (revokes the user's tokens)", "P");
        var newRoles = Opt.Text("--roles", "new roles, comma-separated", "ROLES");
        var newTenants = Opt.Text("--tenants", "new tenants, comma-separated", "UUID,...");
        var active = Opt.Choice("--active", "false deactivates the user (and revokes its tokens)", null, "true", "false");
        var set = Leaf("set", "change a user's password, roles, tenants or activity", store, async (p, svc, ct) =>
        {
            var body = new Dictionary<string, object?>();
            if (p.GetValue(newPassword) is { } pw) body["password"] = pw;
            if (p.GetValue(newRoles) is { } r) body["roles"] = List(r);
            if (p.GetValue(newTenants) is { } t) body["tenants"] = List(t);
            if (p.GetValue(active) is { } act) body["is_active"] = act == "true";
            var u = await svc.UpdateUserAsync(p.GetValue(name)!, JsonSerializer.SerializeToElement(body), ct);
            Console.WriteLine($"user {u.Username}: roles [{string.Join(", ", u.Roles)}], tenants [{string.Join(", ", u.Tenants)}], active {u.IsActive}");
            return 0;
        }, name, newPassword, newRoles, newTenants, active);

        Func<ParseResult, BrokerService, CancellationToken, Task<int>> list = async (_, svc, ct) =>
        {
            Console.WriteLine(JsonSerializer.Serialize((await svc.Store.UsersAsync(ct)).Select(u => new { username = u.Username, roles = u.Roles, tenants = u.Tenants, is_active = u.IsActive }), Indented));
            return 0;
        };
        return Group("user", "users of the broker (`admin user` alone lists them)", store, list, add, set, Leaf("list", "list the users as JSON", store, list));
    }

    /// <summary>A group whose bare name runs <paramref name="bare"/> (the listing), as `admin user` always did.</summary>
    private static FinalesCommand Group(string name, string description, Store store, Func<ParseResult, BrokerService, CancellationToken, Task<int>> bare, params Command[] subcommands)
    {
        var group = new FinalesCommand(name, description);
        foreach (var c in subcommands) group.Subcommands.Add(c);
        group.SetAction((parse, ct) => store.RunAsync(parse, ct, svc => bare(parse, svc, ct)));
        return group;
    }

    private static FinalesCommand Capabilities(Store store)
    {
        var files = new Argument<string[]>("FILE|DIR") { Description = "FINALES2 capability files (a directory: every *.json below it)", Arity = ArgumentArity.OneOrMore };
        var add = Leaf("add", "register capabilities (a new version deactivates the previous one)", store, async (p, svc, ct) =>
        {
            foreach (var file in p.GetValue(files)!.SelectMany(f => Directory.Exists(f) ? Directory.GetFiles(f, "*.json", SearchOption.AllDirectories).Order().ToArray() : new[] { f }))
            {
                using var doc = StrictFile(file);
                var (id, old) = await svc.AddCapabilityAsync(doc.RootElement, ct);
                Console.WriteLine($"capability {id} registered from {file}" + (old.Length > 0 ? $" (deactivated {string.Join(", ", old)})" : ""));
            }
            return 0;
        }, files);
        Func<ParseResult, BrokerService, CancellationToken, Task<int>> list = async (_, svc, ct) =>
        {
            Console.WriteLine(JsonSerializer.Serialize((await svc.Store.CapabilitiesAsync(ct)).Select(c => new { id = c.Id, quantity = c.Quantity, method = c.Method, is_active = c.IsActive, created = c.Created }), Indented));
            return 0;
        };
        FinalesCommand SetActive(string verb)
        {
            var id = new Argument<string>("ID") { Description = "the capability's id (see capability list)" };
            return Leaf(verb, $"{verb} a capability", store, async (p, svc, ct) =>
            {
                var cid = long.TryParse(p.GetValue(id), out var given) ? given : throw new UsageError("capability id must be an integer");
                await svc.SetCapabilityActiveAsync(cid, verb == "activate", ct);
                Console.WriteLine($"capability {cid} {verb}d");
                return 0;
            }, id);
        }
        return Group("capability", "capabilities (`admin capability` alone lists them)", store, list, add,
            Leaf("list", "list the capabilities as JSON", store, list), SetActive("activate"), SetActive("deactivate"));
    }

    private static FinalesCommand Tenants(Store store)
    {
        var file = new Argument<string>("FILE") { Description = "a FINALES2 tenant file" };
        var uuid = Opt.Text("--uuid", "the tenant's UUID (default: generated)", "UUID");
        var users = Opt.Text("--users", "users who may act for it, comma-separated", "U1,U2");
        var add = Leaf("add", "register a tenant; prints its UUID", store, async (p, svc, ct) =>
        {
            var path = p.GetValue(file)!;
            using var strict = StrictFile(path);
            var node = (strict.RootElement.ValueKind == JsonValueKind.Object ? JsonObject.Create(strict.RootElement) : null)
                       ?? throw new UsageError($"{path} must hold a JSON object (a FINALES2 tenant file)");
            if (p.GetValue(uuid) is { } given) node["uuid"] = given;
            if (p.GetValue(users) is { } names) node["users"] = new JsonArray(names.Split(',').Select(u => (JsonNode?)u).ToArray());
            var id = await svc.AddTenantAsync(JsonSerializer.SerializeToElement(node), ct);
            Console.WriteLine(id.ToString("D"));
            return 0;
        }, file, uuid, users);
        Func<ParseResult, BrokerService, CancellationToken, Task<int>> list = async (_, svc, ct) =>
        {
            Console.WriteLine(JsonSerializer.Serialize((await svc.Store.TenantsAsync(ct)).Select(t => new { tenant_uuid = t.Uuid, name = t.Name, is_active = t.IsActive }), Indented));
            return 0;
        };
        FinalesCommand SetActive(string verb)
        {
            var id = new Argument<string>("UUID") { Description = "the tenant's UUID" };
            return Leaf(verb, $"{verb} a tenant", store, async (p, svc, ct) =>
            {
                var tenant = BrokerApiCore.TryParseUuid(p.GetValue(id)!, out var given) ? given : throw new UsageError("tenant id must be a UUID");
                await svc.SetTenantActiveAsync(tenant, verb == "activate", ct);
                Console.WriteLine($"tenant {tenant:D} {verb}d");
                return 0;
            }, id);
        }
        return Group("tenant", "tenants (`admin tenant` alone lists them)", store, list, add,
            Leaf("list", "list the tenants as JSON", store, list), SetActive("activate"), SetActive("deactivate"));
    }

    private static FinalesCommand Audit(Store store) =>
        Leaf("audit", "replay the event log and compare with the stored state; exit code 3 if anything disagrees", store, async (_, svc, ct) =>
        {
            var problems = await svc.Store.AuditAsync(ct);
            Console.WriteLine(JsonSerializer.Serialize(new { ok = problems.Count == 0, problems }, Indented));
            return problems.Count == 0 ? 0 : 3;
        });

    private static FinalesCommand Backup(Store store)
    {
        var to = Opt.Text("--to", "the copy to write (never overwritten)", "FILE");
        to.Required = true;
        return Leaf("backup", "SQLite: a consistent copy of the store, taken while the broker runs", store, async (p, svc, ct) =>
        {
            if (svc.Store.IsPostgres) throw new UsageError("backup copies a SQLite store; for PostgreSQL use pg_dump");
            var target = p.GetValue(to)!;
            var sw = System.Diagnostics.Stopwatch.StartNew();
            long bytes;
            try { bytes = await svc.Store.BackupToAsync(target, ct); }
            catch (IOException e) { throw new UsageError(e.Message); }
            Console.WriteLine($"backup of {svc.Store.Description} written to {Path.GetFullPath(target)} ({bytes / 1048576.0:F1} MB, {sw.Elapsed.TotalSeconds:F1} s)");
            return 0;
        }, to);
    }

    /// <summary>A capability or tenant file read by the core's strict JSON reader (the same rules as an HTTP body).</summary>
    private static JsonDocument StrictFile(string file) =>
        BrokerApiCore.TryParseJson(File.ReadAllBytes(file), [], out var document, out var issue) ? document
            : throw new UsageError($"{file}: {issue.RenderedPath}: {issue.Message}");
}
