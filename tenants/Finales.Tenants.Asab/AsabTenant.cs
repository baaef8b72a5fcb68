using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Core;
using Finales.Core.Interop;
using Finales.Devices.Fluidics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Finales.Tenants.Asab;

/// <summary>Entry points for hosts (the CLI, the demo, tests): settings, worker construction, example requests.</summary>
public static class AsabTenant
{
    /// <summary>
    /// Settings for a simulated lab with the layout of the example config (2022 stocks on pumps A0.0..D0.0 with 25 mL
    /// syringes, cleaning pump E0.0, the fixture graph's node names), time-compressed by <paramref name="timeScale"/>.
    /// Scratch files (LIMS folders) go to <paramref name="workDirectory"/> (default: a new temp directory).
    /// </summary>
    public static AsabSettings SimulatedConfig(string graphDir, string stocksFile, double timeScale, int seed, string? workDirectory = null)
    {
        var stocks = StockSet.Load(Path.GetFullPath(stocksFile));
        string[] pumps = ["A0.0", "B0.0", "C0.0", "D0.0", "F0.0"];
        if (stocks.Stocks.Count > pumps.Length)
            throw new AsabConfigurationException($"stocks file {stocksFile} has {stocks.Stocks.Count} stocks; the default layout has {pumps.Length} stock pumps");
        return new AsabSettings
        {
            Simulated = true,
            TimeScale = timeScale,
            Seed = seed,
            GraphDirectory = Path.GetFullPath(graphDir),
            StocksFile = Path.GetFullPath(stocksFile),
            WorkDirectory = workDirectory ?? Path.Combine(Path.GetTempPath(), "finales-asab-" + Guid.NewGuid().ToString("N")[..8]),
            BalanceVessel = "waste_1",
            Pumps = stocks.Stocks.Select((s, i) => new PumpAssignment { Node = pumps[i], SyringeMl = 25, Stock = s.Name }).ToList(),
        };
    }

    /// <summary>Reads the graph files of a directory (nodes.csv, edges.csv, tubing.csv).</summary>
    public static RouteGraph LoadGraph(string directory)
    {
        string Read(string file)
        {
            var path = Path.Combine(directory, file);
            if (!File.Exists(path)) throw new AsabConfigurationException($"tubing graph file {path} does not exist");
            return File.ReadAllText(path);
        }
        try { return ScienceApi.LoadGraph(Read("nodes.csv"), Read("edges.csv"), Read("tubing.csv")); }
        catch (ScienceException e) { throw new AsabConfigurationException($"tubing graph {directory}: {e.Message}"); }
    }

    /// <summary>
    /// Builds the worker and its devices: simulators for <c>Simulated: true</c>, otherwise the real drivers (the Qmix
    /// bindings must be supplied; without them this throws <see cref="AsabConfigurationException"/> saying so).
    /// Every configuration problem is reported at once, naming key and value.
    /// </summary>
    public static AsabWorker CreateWorker(AsabSettings settings, ILoggerFactory? loggers = null,
        Func<string, IQmixPumpBinding>? pumpBinding = null, Func<string, IQmixValveBinding>? valveBinding = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var problems = settings.Problems();
        if (problems.Count > 0) throw new AsabConfigurationException("invalid ASAB configuration: " + string.Join("; ", problems));
        loggers ??= NullLoggerFactory.Instance;
        var stocks = StockSet.Load(settings.Resolve(settings.StocksFile));
        var graph = LoadGraph(settings.Resolve(settings.GraphDirectory));
        var planner = new AsabPlanner(settings, stocks, graph);
        IAsabHardware hw = settings.Simulated
            ? new SimulatedAsabLab(settings, stocks, graph.Nodes, loggers)
            : new RealAsabLab(settings, graph.Nodes, pumpBinding, valveBinding, loggers);
        try
        {
            var worker = new AsabWorker(planner, hw, loggers.CreateLogger<AsabWorker>());
            loggers.CreateLogger<AsabWorker>().LogInformation(
                "ASAB tenant ready ({Mode}): {Stocks} stocks ({Names}), sample {Sample:F3} mL per request, temperature {Tmin}..{Tmax} K",
                settings.Simulated ? $"simulated, time scale {settings.TimeScale}" : "real devices", stocks.Stocks.Count,
                string.Join(", ", stocks.Stocks.Select(s => s.Name)), planner.SampleMl, settings.TemperatureMinK, settings.TemperatureMaxK);
            return worker;
        }
        catch (Exception e) when (e is AsabRequestException)
        {
            hw.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw new AsabConfigurationException("the tubing graph cannot serve the procedure: " + e.Message);
        }
    }

    /// <summary>Builds the worker from a configuration (section <c>Asab</c>); relative paths resolve against <paramref name="baseDirectory"/>.</summary>
    public static AsabWorker CreateWorker(IConfiguration configuration, string? baseDirectory, ILoggerFactory? loggers = null) =>
        CreateWorker(AsabSettings.FromConfiguration(configuration, baseDirectory), loggers);

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Parameters of a random request the stocks can reach exactly: a random convex combination of the stocks' own
    /// mole-fraction vectors (weights 0.05..1), fractions rounded to 6 decimals and summing to 1, at
    /// <paramref name="temperatureK"/>. Inside the limitations the tenant publishes for the same stocks.
    /// </summary>
    public static JsonElement RandomParameters(Random random, StockSet stocks, double temperatureK = 298.15)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(stocks);
        var weights = stocks.Stocks.Select(_ => 0.05 + 0.95 * random.NextDouble()).ToArray();
        var mix = new Dictionary<string, double>();
        for (var j = 0; j < stocks.Stocks.Count; j++)
        {
            var moles = stocks.Stocks[j].MolesPerMl;
            var total = moles.Values.Sum();
            foreach (var (c, n) in moles) mix[c] = mix.GetValueOrDefault(c) + weights[j] / weights.Sum() * n / total;
        }
        var rounded = mix.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 6, MidpointRounding.ToZero));
        var largest = rounded.MaxBy(kv => kv.Value).Key;
        rounded[largest] = Math.Round(rounded[largest] + 1 - rounded.Values.Sum(), 6);
        return Parameters(rounded, temperatureK);
    }

    /// <summary>The parameters object for mole fractions keyed by chemical name, SMILES or InChIKey.</summary>
    public static JsonElement Parameters(IReadOnlyDictionary<string, double> fractions, double? temperatureK)
    {
        var o = new JsonObject { ["formulation"] = FormulationJson.Encode(fractions) };
        if (temperatureK is { } t) o["temperature"] = t;
        return JsonSerializer.SerializeToElement(o, Relaxed);
    }
}
