using Finales.Client;
using Finales.Hosting;
using Finales.Tenants.Asab;
using Finales.Tenants.Cell;
using Finales.Tenants.Conductivity;
using Finales.Tenants.Optimizer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

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
        new("asab", "lab robot: mix stocks, measure density + viscosity (density/vibrating_tube_densimetry)", Asab),
        new("optimizer", "requester: GP-UCB + Chimera over formulations and temperature (posts requests, reads results)", Optimizer),
        new("cell", "simulated two-electrode conductivity cell, the demo's conductivity instrument (conductivity/two_electrode)", Cell),
        new("md", "MD simulation: LAMMPS primitive model, local or Slurm (conductivity|density|radial_density_function/molecular_dynamics)", TenantMdCommand.Run),
        new("demo-cell", "the same simulated cell under its earlier name (`finales demo` starts it as `tenant cell`)", Cell),
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
            var n = PopulateCount(a);
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
        return RunConfiguredHost(a, (builder, config) =>
        {
            // Validate before the host starts, so a bad file gives one line naming every problem (no host stack trace).
            var problems = (builder.Configuration.GetSection(TenantOptions.Section).Get<TenantOptions>() ?? new TenantOptions()).Problems()
                .Concat((builder.Configuration.GetSection(OptimizerOptions.Section).Get<OptimizerOptions>() ?? new OptimizerOptions()).Problems()).ToList();
            if (problems.Count > 0) throw new CliError($"invalid configuration in {config}: {string.Join("; ", problems)}");
            builder.Services.AddOptimizerTenant();
        });
    }

    private static int Asab(string[] args)
    {
        var a = new CliArgs(args);
        if (a.Help)
        {
            Console.WriteLine("Usage: ./finales tenant asab --config FILE\n" +
                              "       ./finales tenant asab --populate N --url URL --user U --password P --tenant UUID [--seed S] [--config FILE | --stocks FILE]\n\n" +
                              "The ASAB lab robot: answers density/vibrating_tube_densimetry by projecting the formulation onto the stocks,\n" +
                              "mixing it on the tubing graph, measuring density and viscosity (LIMS) and cleaning the cell. Reports the achieved\n" +
                              "formulation, every replicate and rating min(mix rating, floor(instrument quality / 2)). See docs/asab.md.\n\n" +
                              RunHelp +
                              "                       asab: section \"Asab\" (Simulated, TimeScale, Seed, GraphDirectory, StocksFile, Pumps, device nodes,\n" +
                              "                       procedure and LIMS keys); relative paths resolve against the config file's directory.\n\n" +
                              PopulateHelp +
                              "  --stocks FILE        stocks file the random formulations are drawn from (default: the config's StocksFile,\n" +
                              "                       else the copy of tenants/Finales.Tenants.Asab/stocks-2022.json shipped with the CLI)\n\n" +
                              "Example config: tenants/Finales.Tenants.Asab/asab.example.json (simulated, 2022 stocks, fixture graph)\n" +
                              "Example: ./finales tenant asab --config tenants/Finales.Tenants.Asab/asab.example.json");
            return 0;
        }
        if (a.Has("populate"))
        {
            a.Only("populate", "url", "user", "password", "tenant", "seed", "stocks", "config");
            var n = PopulateCount(a);
            var stocksFile = a.Get("stocks");
            if (stocksFile is null && a.Get("config") is { } cfg)
                stocksFile = LoadAsabSettings(cfg).Resolve(LoadAsabSettings(cfg).StocksFile);
            stocksFile ??= BundledData.AsabStocksFile;
            StockSet stocks;
            try { stocks = StockSet.Load(Path.GetFullPath(stocksFile)); }
            catch (AsabConfigurationException e) { throw new CliError(e.Message); }
            return Populate(a, n, AsabWorker.Capability, r => AsabTenant.RandomParameters(r, stocks));
        }
        a.Only("config");
        var config = a.Get("config") ?? throw new CliError("--config FILE is required (see --help)");
        var settings = LoadAsabSettings(config);
        var problems = settings.Problems();
        if (problems.Count > 0) throw new CliError($"invalid configuration in {config}: {string.Join("; ", problems)}");
        if (!settings.Simulated)
            throw new CliError($"{config}: Asab:Simulated is false, but this build has no CETONI Qmix SDK binding for the pumps and valves " +
                               "(the SDK is proprietary and site-specific; see docs/asab.md, \"Real hardware\"). Set Asab:Simulated to true to run the simulated lab.");
        var baseDir = settings.BaseDirectory;
        return RunHost(a, sp =>
        {
            try
            {
                return AsabTenant.CreateWorker(sp.GetRequiredService<IConfiguration>(), baseDir, sp.GetRequiredService<ILoggerFactory>());
            }
            catch (AsabConfigurationException e)
            {
                throw new CliError($"{config}: {e.Message}");
            }
        });
    }

    /// <summary>The Asab section of a config file (plus FINALES_ environment overrides), paths relative to the file.</summary>
    private static AsabSettings LoadAsabSettings(string config)
    {
        if (!File.Exists(config)) throw new CliError($"config file '{config}' does not exist");
        var full = Path.GetFullPath(config);
        IConfiguration c;
        try { c = new ConfigurationBuilder().AddJsonFile(full, optional: false).AddEnvironmentVariables("FINALES_").Build(); }
        catch (Exception e) when (e is InvalidDataException or FormatException or System.Text.Json.JsonException)
        {
            throw new CliError($"config file '{config}' is not valid JSON: {e.Message}");
        }
        try { return AsabSettings.FromConfiguration(c, Path.GetDirectoryName(full)); }
        catch (InvalidOperationException e) { throw new CliError($"config file '{config}': {e.Message}{(e.InnerException is { } i ? " " + i.Message : "")}"); }
    }

    private static int Cell(string[] args)
    {
        var a = new CliArgs(args);
        if (a.Help)
        {
            Console.WriteLine("Usage: ./finales tenant cell --config FILE      (also: ./finales tenant demo-cell --config FILE)\n\n" +
                              "Simulated two-electrode conductivity cell (tenants/Finales.Tenants.Cell), started by ./finales demo (no tenant\n" +
                              "in the repository measures conductivity of LiPF6/EC/EMC/DMC mixtures yet): mixes the requested formulation from\n" +
                              "a stock table (exact projection, so achieved != requested) and measures the virtual electrolyte's conductivity\n" +
                              "with seeded noise. Serves conductivity/two_electrode.\n\n" +
                              RunHelp + "  \"DemoCell\": {\"Seconds\": S, \"Seed\": N, \"StocksFile\": F} simulated time per request, noise seed, stock table\n" +
                              "                       (default: the copy of tenants/Finales.Tenants.Asab/stocks-2022.json shipped with the CLI).\n");
            return 0;
        }
        a.Only("config");
        return RunHost(a, sp =>
        {
            var c = sp.GetRequiredService<IConfiguration>();
            var stocks = c.GetValue<string?>("DemoCell:StocksFile") ?? BundledData.AsabStocksFile;
            Finales.Core.StockTableInfo table;
            try { table = SimulatedConductivityCell.LoadStocks(stocks); }
            catch (Finales.Core.ScienceException e) { throw new CliError(e.Message); }
            return new SimulatedConductivityCell(table, c.GetValue("DemoCell:Seconds", 0.5), c.GetValue("DemoCell:Seed", 1));
        });
    }

    /// <summary>Builds and runs the generic host for a worker; exit code 0 on a clean stop.</summary>
    public static int RunHost(CliArgs a, Func<IServiceProvider, ITenantWorker> worker) =>
        RunConfiguredHost(a, (builder, _) => builder.Services.AddTenantWorker(worker));

    /// <summary>Builds the tenant host from --config, lets <paramref name="configure"/> add services, runs it; configuration errors become one line.</summary>
    private static int RunConfiguredHost(CliArgs a, Action<HostApplicationBuilder, string> configure)
    {
        var config = a.Get("config") ?? throw new CliError("--config FILE is required (see --help)");
        if (!File.Exists(config)) throw new CliError($"config file '{config}' does not exist");
        var builder = TenantKit.CreateBuilder(config);
        configure(builder, config);
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

    /// <summary>The N of --populate N: a positive number of requests.</summary>
    private static int PopulateCount(CliArgs a)
    {
        var n = a.GetInt("populate", 0);
        return n >= 1 ? n : throw new CliError($"--populate must be a positive number of requests, got '{a.Get("populate")}'");
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
        using var client = new BrokerClient(url, user, password);
        for (var i = 0; i < n; i++)
        {
            var p = parameters(random);
            try
            {
                var id = client.PostRequestAsync(capability.Quantity, capability.Method, p, tenant).GetAwaiter().GetResult();
                Console.WriteLine($"{id:D} {capability} {p.GetRawText()}");
            }
            catch (BrokerException e)
            {
                throw new CliError($"request {i + 1} of {n} refused by the broker ({e.StatusCode}): {e.Detail}");
            }
            catch (HttpRequestException e)
            {
                throw new CliError($"cannot reach the broker at {url}: {e.Message}");
            }
        }
        return 0;
    }
}
