using System.CommandLine;
using Finales.Broker;
using Microsoft.Extensions.Options;

namespace Finales.Cli;

/// <summary>`finales serve`: the FINALES2-compatible broker.</summary>
public static class ServeCommand
{
    /// <summary>The store flags shared with `finales admin`.</summary>
    public static Option<string?> DbOption() => Opt.Text("--db", "SQLite store file (default ./finales.db, created if missing)", "PATH");

    public static Option<string?> PostgresOption() => Opt.Text("--postgres",
        "PostgreSQL connection string instead, e.g. \"Host=127.0.0.1;Port=5432;Username=finales;Database=finales\"", "CONN");

    /// <summary>
    /// The broker's options from FINALES_* environment variables and the flags in <paramref name="args"/>, bound and
    /// validated by <see cref="BrokerConfiguration"/>; a bad value is one line naming the flag.
    /// </summary>
    public static BrokerOptions Options(IEnumerable<string> args)
    {
        try
        {
            return BrokerConfiguration.Load(args);
        }
        catch (OptionsValidationException e)
        {
            throw new UsageError(string.Join("; ", e.Failures));
        }
    }

    public static FinalesCommand Create()
    {
        // Values stay text here: BrokerConfiguration binds them (together with the FINALES_* variables) and names a bad one.
        Option[] options =
        [
            DbOption(),
            PostgresOption(),
            Opt.Text("--urls", "listen address (default http://127.0.0.1:13371)", "URL"),
            Opt.Text("--lease-seconds", "lease of reservations made with update_status (default 21600, at most the maximum)", "N"),
            Opt.Text("--max-lease-seconds", "longest lease a claim or heartbeat may ask for, 422 above (default 21600)", "N"),
            Opt.Text("--login-failures-per-address", "failed logins per client address per window, then 429 (default 10)", "N"),
            Opt.Text("--login-failures-per-user", "failed logins per username per window, then 429 (default 30)", "N"),
            Opt.Text("--login-failure-window-seconds", "the window of those limits (default 60)", "N"),
            Policy("--limitations", "requests outside every tenant's limitations: reject (default), warn or off"),
            Policy("--result-validation", "result data that break the capability's result schema: reject (default), warn or off"),
            Opt.Text("--dump-key", "enables GET /database_dump/KEY for admins (or FINALES_DUMP_KEY)", "KEY"),
            Opt.Text("--max-body-bytes", "request body limit, 413 above it (default 8 MiB)", "N"),
            Opt.Text("--token-minutes", "lifetime of access tokens (default 720)", "N"),
            Opt.Switch("--quiet", "only warnings and errors in the log"),
        ];
        var command = new FinalesCommand("serve", "run the broker (SQLite file by default, or PostgreSQL)")
        {
            Notes = "Runs the FINALES2-compatible broker. Every flag can also be set by an environment variable named after it\n" +
                    "(FINALES_MAX_LEASE_SECONDS=3600, FINALES_DB, FINALES_QUIET=true; the flag wins).\n" +
                    "First start on an empty store creates user 'admin' with FINALES_ADMIN_PASSWORD, or prints a generated password once.",
            Examples =
            [
                "./finales serve --db ./finales.db --urls http://127.0.0.1:13371",
                "./finales serve --postgres \"Host=127.0.0.1;Port=5432;Username=finales;Database=finales\" --urls http://127.0.0.1:13372",
            ],
        };
        foreach (var o in options) command.Options.Add(o);
        command.SetAction((parse, ct) => ServeAsync(Options(parse.Tokens.Select(t => t.Value)), ct));
        return command;
    }

    /// <summary>reject | warn | off, offered by tab completion and checked by BrokerConfiguration.</summary>
    private static Option<string?> Policy(string name, string description)
    {
        var o = Opt.Text(name, description, "reject|warn|off");
        o.CompletionSources.Add("reject", "warn", "off");
        return o;
    }

    private static async Task<int> ServeAsync(BrokerOptions options, CancellationToken ct)
    {
        var app = await BrokerHost.BuildAsync(options, ct: ct);
        var svc = app.Services.GetService(typeof(BrokerService)) as BrokerService ?? throw new InvalidOperationException("broker service missing");
        var (created, generated) = await svc.EnsureAdminAsync(options.AdminPassword, ct);
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
        await app.RunAsync();
        return 0;
    }
}
