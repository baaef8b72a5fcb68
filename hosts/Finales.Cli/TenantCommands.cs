using System.CommandLine;
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
    public static FinalesCommand Create()
    {
        var tenant = new FinalesCommand("tenant", "run a tenant (conductivity, asab, optimizer, md, cell) or post example requests for it")
        {
            Notes = "A tenant runs as a hosted service (Ctrl-C or SIGTERM stops it); --populate N posts N example requests for it instead.",
            Examples = ["./finales tenant conductivity --config conductivity.json", "./finales tenant asab --help"],
        };
        // Each tenant adds one line here.
        tenant.Subcommands.Add(Conductivity());
        tenant.Subcommands.Add(Asab());
        tenant.Subcommands.Add(Optimizer());
        tenant.Subcommands.Add(TenantMdCommand.Create());
        tenant.Subcommands.Add(Cell("cell", "simulated two-electrode conductivity cell, a stand-in conductivity instrument (conductivity/two_electrode)"));
        tenant.Subcommands.Add(Cell("demo-cell", "the same simulated cell under its earlier name"));
        return tenant;
    }

    internal static Option<string?> ConfigOption() => Opt.Text("--config",
        "appsettings JSON with a \"Tenant\" section (BrokerUrl, Username, Password, TenantUuid, JournalPath, PollIntervalSeconds, " +
        "LeaseSeconds, ...); every key can be overridden by an environment variable FINALES_Tenant__<Key>, e.g. " +
        "FINALES_Tenant__Password. See docs/tenants.md for the reference.", "FILE");

    /// <summary>The options of `--populate N` (post N example requests instead of running the tenant).</summary>
    private sealed class PopulateOptions
    {
        public Option<int?> Count { get; } = Opt.OptionalInt("--populate", "post N example requests instead of running the tenant", 1);
        public Option<string?> Url { get; } = Opt.Text("--url", "broker URL (with --populate)", "URL", "http://127.0.0.1:13371");
        public Option<string?> User { get; } = Opt.Text("--user", "the broker user posting them (with --populate)", "U");
        public Option<string?> Password { get; } = Opt.Text("--password", "its password, or FINALES_PASSWORD (with --populate)", "P");
        public Option<string?> Tenant { get; } = Opt.Text("--tenant", "the requesting tenant, one the user may act for (with --populate)", "UUID");
        public Option<int> Seed { get; } = Opt.Int("--seed", "seed of the random formulations (with --populate)", 1);

        /// <summary>Adds the options and the rule that they need --populate (and, unless <paramref name="configToo"/>, exclude --config).</summary>
        public void AddTo(Command command, Option<string?> config, bool configToo, params Option[] more)
        {
            Option[] only = [Url, User, Password, Tenant, Seed, .. more];
            Option[] all = [Count, .. only];
            foreach (var o in all) command.Options.Add(o);
            command.Validators.Add(r =>
            {
                var populate = r.GetResult(Count) is not null;
                foreach (var o in only)
                    if (!populate && r.GetResult(o) is { Implicit: false })
                        r.AddError($"{o.Name} is only for --populate N");
                if (populate && !configToo && r.GetResult(config) is not null)
                    r.AddError("--config runs the tenant; it cannot be combined with --populate");
            });
        }

        public int Run(ParseResult parse, TenantCapability capability, Func<Random, System.Text.Json.JsonElement> parameters) =>
            Populate(parse.GetValue(Count)!.Value, parse.GetValue(Url)!, parse.GetValue(User), parse.GetValue(Password),
                parse.GetValue(Tenant), parse.GetValue(Seed), capability, parameters);
    }

    private static FinalesCommand Conductivity()
    {
        var config = ConfigOption();
        var populate = new PopulateOptions();
        var command = new FinalesCommand("conductivity", "low-fidelity conductivity model (conductivity/polynomial_interpolation)")
        {
            Notes = """
                Answers conductivity/polynomial_interpolation requests with the low-fidelity polynomial model (domain.md section 6):
                LiPF6 in EC/PC, mole fractions, 243.15..333.15 K; S/m with rating 3 in the training domain, 1 outside it.
                Requests it cannot serve get a failed result (meta.success false, meta.message says why).
                Config: "Conductivity": {"SimulatedSeconds": S} adds S s of simulated compute per request.
                Example config: tenants/Finales.Tenants.Conductivity/conductivity.example.json
                """,
            Examples =
            [
                "./finales tenant conductivity --config conductivity.json",
                "./finales tenant conductivity --populate 10 --url http://127.0.0.1:13371 --user robot --password secret --tenant 5f1c0f3e-6d1f-4a8e-9a51-5c1d2c8e2f10",
            ],
        };
        command.Options.Add(config);
        populate.AddTo(command, config, configToo: false);
        command.SetAction(parse =>
        {
            if (parse.GetValue(populate.Count) is not null)
                return populate.Run(parse, ConductivityWorker.Capability, ConductivityRequests.RandomParameters);
            return RunHost(parse.GetValue(config), sp =>
            {
                var simulated = sp.GetRequiredService<IConfiguration>().GetValue("Conductivity:SimulatedSeconds", 0.0);
                return new ConductivityWorker(new CoreConductivityModel(), simulated);
            });
        });
        return command;
    }

    private static FinalesCommand Optimizer()
    {
        var config = Opt.Text("--config",
            "JSON with a \"Tenant\" section (BrokerUrl, Username, Password, TenantUuid, HttpTimeoutSeconds, InitialBackoffSeconds, " +
            "MaxBackoffSeconds, Seed) and an \"Optimizer\" section (Preset or Objectives, Requests, BatchSize, QueueCap, MinRating, " +
            "PollIntervalSeconds, Seed, MaxIterations, Chemicals, TemperatureMin/Max, ...); environment overrides " +
            "FINALES_Tenant__Password, FINALES_Optimizer__Seed, ... Presets: conductivity-viscosity-density, paper. See docs/optimizer-tenant.md.",
            "FILE");
        var command = new FinalesCommand("optimizer", "requester: GP-UCB + Chimera over formulations and temperature (posts requests, reads results)")
        {
            Notes = """
                A requester: every iteration it reads GET /capabilities/, /limitations/, /results_requested/ and /all_requests/,
                joins the results per (formulation, temperature), scalarises them with Chimera, fits a GP and posts the GP-UCB
                suggestions (POST /requests/), each checked against the capability schema and the limitations and never a
                duplicate of its own requests; at most Optimizer:QueueCap of its requests are pending or reserved at once.
                Example config: tenants/Finales.Tenants.Optimizer/optimizer.example.json
                """,
            Examples = ["./finales tenant optimizer --config tenants/Finales.Tenants.Optimizer/optimizer.example.json"],
        };
        command.Options.Add(config);
        command.SetAction(parse => RunConfiguredHost(parse.GetValue(config), (builder, config) =>
        {
            // Validate before the host starts, so a bad file gives one line naming every problem (no host stack trace).
            var problems = (builder.Configuration.GetSection(TenantOptions.Section).Get<TenantOptions>() ?? new TenantOptions()).Problems()
                .Concat((builder.Configuration.GetSection(OptimizerOptions.Section).Get<OptimizerOptions>() ?? new OptimizerOptions()).Problems()).ToList();
            if (problems.Count > 0) throw new UsageError($"invalid configuration in {config}: {string.Join("; ", problems)}");
            builder.Services.AddOptimizerTenant();
        }));
        return command;
    }

    private static FinalesCommand Asab()
    {
        var config = ConfigOption();
        config.Description += " asab: section \"Asab\" (Simulated, TimeScale, Seed, GraphDirectory, StocksFile, Pumps, device nodes, " +
                              "procedure and LIMS keys); relative paths resolve against the config file's directory. With --populate: " +
                              "the stocks the random formulations are drawn from.";
        var populate = new PopulateOptions();
        var stocksOption = Opt.Text("--stocks",
            "with --populate: stocks file the random formulations are drawn from (default: the config's StocksFile, else the copy of " +
            "tenants/Finales.Tenants.Asab/stocks-2022.json shipped with the CLI)", "FILE");
        var command = new FinalesCommand("asab", "lab robot: mix stocks, measure density + viscosity (density/vibrating_tube_densimetry)")
        {
            Notes = """
                The ASAB lab robot: answers density/vibrating_tube_densimetry by projecting the formulation onto the stocks,
                mixing it on the tubing graph, measuring density and viscosity (LIMS) and cleaning the cell. Reports the achieved
                formulation, every replicate and rating min(mix rating, floor(instrument quality / 2)). See docs/asab.md.
                Example config: tenants/Finales.Tenants.Asab/asab.example.json (simulated, 2022 stocks, fixture graph)
                """,
            Examples = ["./finales tenant asab --config tenants/Finales.Tenants.Asab/asab.example.json"],
        };
        command.Options.Add(config);
        populate.AddTo(command, config, configToo: true, stocksOption);
        command.SetAction(parse =>
        {
            var configFile = parse.GetValue(config);
            if (parse.GetValue(populate.Count) is not null)
            {
                var stocksFile = parse.GetValue(stocksOption);
                if (stocksFile is null && configFile is not null)
                    stocksFile = LoadAsabSettings(configFile).Resolve(LoadAsabSettings(configFile).StocksFile);
                stocksFile ??= BundledData.AsabStocksFile;
                StockSet stocks;
                try { stocks = StockSet.Load(Path.GetFullPath(stocksFile)); }
                catch (AsabConfigurationException e) { throw new UsageError(e.Message); }
                return populate.Run(parse, AsabWorker.Capability, r => AsabTenant.RandomParameters(r, stocks));
            }
            var file = configFile ?? throw new UsageError("--config FILE is required (see --help)");
            var settings = LoadAsabSettings(file);
            var problems = settings.Problems();
            if (problems.Count > 0) throw new UsageError($"invalid configuration in {file}: {string.Join("; ", problems)}");
            if (!settings.Simulated)
                throw new UsageError($"{file}: Asab:Simulated is false, but this build has no CETONI Qmix SDK binding for the pumps and valves " +
                                     "(the SDK is proprietary and site-specific; see docs/asab.md, \"Real hardware\"). Set Asab:Simulated to true to run the simulated lab.");
            var baseDir = settings.BaseDirectory;
            return RunHost(file, sp =>
            {
                try
                {
                    return AsabTenant.CreateWorker(sp.GetRequiredService<IConfiguration>(), baseDir, sp.GetRequiredService<ILoggerFactory>());
                }
                catch (AsabConfigurationException e)
                {
                    throw new UsageError($"{file}: {e.Message}");
                }
            });
        });
        return command;
    }

    /// <summary>The Asab section of a config file (plus FINALES_ environment overrides), paths relative to the file.</summary>
    private static AsabSettings LoadAsabSettings(string config)
    {
        if (!File.Exists(config)) throw new UsageError($"config file '{config}' does not exist");
        var full = Path.GetFullPath(config);
        IConfiguration c;
        try { c = new ConfigurationBuilder().AddJsonFile(full, optional: false).AddEnvironmentVariables("FINALES_").Build(); }
        catch (Exception e) when (e is InvalidDataException or FormatException or System.Text.Json.JsonException)
        {
            throw new UsageError($"config file '{config}' is not valid JSON: {e.Message}");
        }
        try { return AsabSettings.FromConfiguration(c, Path.GetDirectoryName(full)); }
        catch (InvalidOperationException e) { throw new UsageError($"config file '{config}': {e.Message}{(e.InnerException is { } i ? " " + i.Message : "")}"); }
    }

    private static FinalesCommand Cell(string name, string summary)
    {
        var config = ConfigOption();
        config.Description += " \"DemoCell\": {\"Seconds\": S, \"Seed\": N, \"StocksFile\": F} simulated time per request, noise seed, " +
                              "stock table (default: the copy of tenants/Finales.Tenants.Asab/stocks-2022.json shipped with the CLI).";
        var command = new FinalesCommand(name, summary)
        {
            Notes = """
                Simulated two-electrode conductivity cell (tenants/Finales.Tenants.Cell), started by ./finales demo (no tenant
                in the repository measures conductivity of LiPF6/EC/EMC/DMC mixtures yet): mixes the requested formulation from
                a stock table (exact projection, so achieved != requested) and measures the virtual electrolyte's conductivity
                with seeded noise. Serves conductivity/two_electrode. Also runs as ./finales tenant demo-cell.
                """,
            Examples = [$"./finales tenant {name} --config cell.json"],
        };
        command.Options.Add(config);
        command.SetAction(parse => RunHost(parse.GetValue(config), sp =>
        {
            var c = sp.GetRequiredService<IConfiguration>();
            var stocks = c.GetValue<string?>("DemoCell:StocksFile") ?? BundledData.AsabStocksFile;
            Finales.Core.StockTableInfo table;
            try { table = SimulatedConductivityCell.LoadStocks(stocks); }
            catch (Finales.Core.ScienceException e) { throw new UsageError(e.Message); }
            return new SimulatedConductivityCell(table, c.GetValue("DemoCell:Seconds", 0.5), c.GetValue("DemoCell:Seed", 1));
        }));
        return command;
    }

    /// <summary>Builds and runs the generic host for a worker; exit code 0 on a clean stop.</summary>
    public static int RunHost(string? config, Func<IServiceProvider, ITenantWorker> worker) =>
        RunConfiguredHost(config, (builder, _) => builder.Services.AddTenantWorker(worker));

    /// <summary>Builds the tenant host from --config, lets <paramref name="configure"/> add services, runs it; configuration errors become one line.</summary>
    private static int RunConfiguredHost(string? configFile, Action<HostApplicationBuilder, string> configure)
    {
        var config = configFile ?? throw new UsageError("--config FILE is required (see --help)");
        if (!File.Exists(config)) throw new UsageError($"config file '{config}' does not exist");
        var builder = TenantKit.CreateBuilder(config);
        configure(builder, config);
        try
        {
            using var host = builder.Build();
            host.Run();
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException e)
        {
            throw new UsageError($"invalid configuration in {config}: {string.Join("; ", e.Failures)}");
        }
        return Environment.ExitCode;
    }

    /// <summary>Posts N example requests made by <paramref name="parameters"/> from a seeded generator.</summary>
    private static int Populate(int n, string url, string? userGiven, string? passwordGiven, string? tenantGiven, int seed,
        TenantCapability capability, Func<Random, System.Text.Json.JsonElement> parameters)
    {
        var user = userGiven ?? throw new UsageError("--user is required with --populate");
        var password = passwordGiven ?? Environment.GetEnvironmentVariable("FINALES_PASSWORD")
                       ?? throw new UsageError("--password (or FINALES_PASSWORD) is required with --populate");
        var tenantRaw = tenantGiven ?? throw new UsageError("--tenant UUID (the requesting tenant) is required with --populate");
        if (!Guid.TryParse(tenantRaw, out var tenant)) throw new UsageError($"--tenant must be a UUID, got '{tenantRaw}'");
        var random = new Random(seed);
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
                throw new UsageError($"request {i + 1} of {n} refused by the broker ({e.StatusCode}): {e.Detail}");
            }
            catch (HttpRequestException e)
            {
                throw new UsageError($"cannot reach the broker at {url}: {e.Message}");
            }
        }
        return 0;
    }
}
