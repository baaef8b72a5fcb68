using Finales.Client;
using Finales.Hosting;
using Finales.Tenants.Conductivity;
using Finales.Tenants.Optimizer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.FSharp.Core;

namespace Finales.Cli;

/// <summary>`finales tenant KIND ...`: runs a tenant as a hosted service, or feeds its queue with example requests.</summary>
public static class TenantCommands
{
    /// <summary>One tenant kind: its name, a summary, how to run it and how to populate its queue.</summary>
    private sealed record Kind(string Name, string Summary, Func<string[], int> Run);

    private static readonly Kind[] Kinds =
    [
        // Each tenant adds one line here.
        new("conductivity", "low-fidelity conductivity model (conductivity/polynomial_interpolation)", Conductivity),
        new("optimizer", "requester: GP-UCB + Chimera over formulations and temperature (posts requests, reads results)", Optimizer),
    ];

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine("Usage: ./finales tenant <kind> --config FILE          run the tenant (a hosted service; Ctrl-C or SIGTERM stops it)\n" +
                              "       ./finales tenant <kind> --populate N ...        post N example requests for it\n" +
                              "       ./finales tenant <kind> --help\n\nKinds:");
            foreach (var k in Kinds) Console.WriteLine($"  {k.Name,-14} {k.Summary}");
            return args.Length == 0 ? 1 : 0;
        }
        var kind = Kinds.FirstOrDefault(k => k.Name == args[0])
                   ?? throw new CliError($"unknown tenant kind '{args[0]}'; known: {string.Join(", ", Kinds.Select(k => k.Name))}");
        return kind.Run(args[1..]);
    }

    private const string RunHelp =
        "  --config FILE        appsettings JSON with a \"Tenant\" section (BrokerUrl, Username, Password, TenantUuid, JournalPath,\n" +
        "                       PollIntervalSeconds, LeaseSeconds, ...); every key can be overridden by an environment variable\n" +
        "                       FINALES_Tenant__<Key>, e.g. FINALES_Tenant__Password. See docs/tenants.md for the reference.\n" +
        "                       conductivity only: \"Conductivity\": {\"SimulatedSeconds\": S} adds S s of simulated compute per request.\n";

    private const string PopulateHelp =
        "  --populate N         post N example requests instead of running the tenant\n" +
        "  --url URL            broker URL (default http://127.0.0.1:13371)\n" +
        "  --user U --password P   the broker user posting them (or FINALES_PASSWORD)\n" +
        "  --tenant UUID        the requesting tenant (a tenant the user may act for)\n" +
        "  --seed S             seed of the random formulations (default 1)\n";

    private static int Conductivity(string[] args)
    {
        var a = new CliArgs(args);
        if (a.Help)
        {
            Console.WriteLine("Usage: ./finales tenant conductivity --config FILE\n" +
                              "       ./finales tenant conductivity --populate N --url URL --user U --password P --tenant UUID [--seed S]\n\n" +
                              "Answers conductivity/polynomial_interpolation requests with the low-fidelity polynomial model (domain.md section 6):\n" +
                              "LiPF6 in EC/PC, mole fractions, 243.15..333.15 K; S/m with rating 3 in the training domain, 1 outside it.\n" +
                              "Requests it cannot serve get a failed result (meta.success false, meta.message says why).\n\n" +
                              RunHelp + "\n" + PopulateHelp + "\n" +
                              "Example config: tenants/Finales.Tenants.Conductivity/conductivity.example.json\n" +
                              "Example: ./finales tenant conductivity --config conductivity.json");
            return 0;
        }
        if (a.Has("populate"))
        {
            a.Only("populate", "url", "user", "password", "tenant", "seed");
            var n = a.GetInt("populate", 0);
            if (n < 1) throw new CliError($"--populate must be a positive number of requests, got '{a.Get("populate")}'");
            return Populate(a, n, ConductivityWorker.Capability, ConductivityRequests.RandomParameters);
        }
        a.Only("config");
        return RunHost(a, sp =>
        {
            var simulated = sp.GetRequiredService<IConfiguration>().GetValue("Conductivity:SimulatedSeconds", 0.0);
            return new ConductivityWorker(new CoreConductivityModel(), simulated);
        });
    }

    private static int Optimizer(string[] args)
    {
        var a = new CliArgs(args);
        if (a.Help)
        {
            Console.WriteLine("Usage: ./finales tenant optimizer --config FILE\n\n" +
                              "A requester: every iteration it reads GET /capabilities/, /limitations/, /results_requested/ and /all_requests/,\n" +
                              "joins the results per (formulation, temperature), scalarises them with Chimera, fits a GP and posts the GP-UCB\n" +
                              "suggestions (POST /requests/), each checked against the capability schema and the limitations and never a\n" +
                              "duplicate of its own requests; at most Optimizer:QueueCap of its requests are pending or reserved at once.\n\n" +
                              "  --config FILE        JSON with a \"Tenant\" section (BrokerUrl, Username, Password, TenantUuid, HttpTimeoutSeconds,\n" +
                              "                       InitialBackoffSeconds, MaxBackoffSeconds, Seed) and an \"Optimizer\" section (Preset or Objectives,\n" +
                              "                       Requests, BatchSize, QueueCap, MinRating, PollIntervalSeconds, Seed, MaxIterations, Chemicals,\n" +
                              "                       TemperatureMin/Max, ...); environment overrides FINALES_Tenant__Password, FINALES_Optimizer__Seed, ...\n" +
                              "                       Presets: conductivity-viscosity-density, paper. See docs/optimizer-tenant.md.\n\n" +
                              "Example config: tenants/Finales.Tenants.Optimizer/optimizer.example.json");
            return 0;
        }
        a.Only("config");
        var config = a.Get("config") ?? throw new CliError("--config FILE is required (see --help)");
        if (!File.Exists(config)) throw new CliError($"config file '{config}' does not exist");
        var builder = TenantKit.CreateBuilder(config);
        // Validate before the host starts, so a bad file gives one line naming every problem (no host stack trace).
        var problems = (builder.Configuration.GetSection(TenantOptions.Section).Get<TenantOptions>() ?? new TenantOptions()).Problems()
            .Concat((builder.Configuration.GetSection(OptimizerOptions.Section).Get<OptimizerOptions>() ?? new OptimizerOptions()).Problems()).ToList();
        if (problems.Count > 0) throw new CliError($"invalid configuration in {config}: {string.Join("; ", problems)}");
        builder.Services.AddOptimizerTenant();
        try
        {
            using var host = builder.Build();
            host.Run();
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException e)
        {
            throw new CliError($"invalid configuration in {config}: {string.Join("; ", e.Failures)}");
        }
        return Environment.ExitCode;
    }

    /// <summary>Builds and runs the generic host for a worker; exit code 0 on a clean stop.</summary>
    public static int RunHost(CliArgs a, Func<IServiceProvider, ITenantWorker> worker)
    {
        var config = a.Get("config") ?? throw new CliError("--config FILE is required (see --help)");
        if (!File.Exists(config)) throw new CliError($"config file '{config}' does not exist");
        var builder = TenantKit.CreateBuilder(config);
        builder.Services.AddTenantWorker(worker);
        try
        {
            using var host = builder.Build();
            host.Run();
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException e)
        {
            throw new CliError($"invalid configuration in {config}: {string.Join("; ", e.Failures)}");
        }
        return Environment.ExitCode;
    }

    /// <summary>Posts N example requests made by <paramref name="parameters"/> from a seeded generator.</summary>
    public static int Populate(CliArgs a, int n, TenantCapability capability, Func<Random, System.Text.Json.JsonElement> parameters)
    {
        var url = a.Get("url", "http://127.0.0.1:13371");
        var user = a.Get("user") ?? throw new CliError("--user is required with --populate");
        var password = a.Get("password") ?? Environment.GetEnvironmentVariable("FINALES_PASSWORD")
                       ?? throw new CliError("--password (or FINALES_PASSWORD) is required with --populate");
        var tenantRaw = a.Get("tenant") ?? throw new CliError("--tenant UUID (the requesting tenant) is required with --populate");
        if (!Guid.TryParse(tenantRaw, out var tenant)) throw new CliError($"--tenant must be a UUID, got '{tenantRaw}'");
        var random = new Random(a.GetInt("seed", 1));
        using var client = new BrokerClient(url, user, password, FSharpOption<HttpClient>.None);
        for (var i = 0; i < n; i++)
        {
            var p = parameters(random);
            try
            {
                var id = client.PostRequestAsync(capability.Quantity, capability.Method, p, tenant, FSharpOption<CancellationToken>.None).GetAwaiter().GetResult();
                Console.WriteLine($"{id:D} {capability} {p.GetRawText()}");
            }
            catch (BrokerError e)
            {
                throw new CliError($"request {i + 1} of {n} refused by the broker ({e.status}): {e.detail}");
            }
            catch (HttpRequestException e)
            {
                throw new CliError($"cannot reach the broker at {url}: {e.Message}");
            }
        }
        return 0;
    }
}
