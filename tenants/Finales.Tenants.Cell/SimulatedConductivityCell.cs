using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Core;
using Finales.Hosting;

namespace Finales.Tenants.Cell;

/// <summary>
/// SIMULATED two-electrode conductivity cell (the demo's conductivity instrument): no tenant in the repository measures
/// the conductivity of LiPF6/EC/EMC/DMC mixtures (the conductivity tenant's model covers LiPF6 in EC/PC only; the ASAB
/// tenant measures density and viscosity). On the hosting kit, it mixes the requested formulation from a stock table
/// (the core's stock-table parser and exact projection onto the stocks' hull, so the achieved composition can differ
/// from the requested one) and measures the conductivity of the achieved mixture with the core's virtual electrolyte
/// and seeded noise, after "DemoCell:Seconds" of simulated work. Run as `finales tenant cell --config F`.
/// </summary>
public sealed class SimulatedConductivityCell : ITenantWorker
{
    public static readonly TenantCapability TwoElectrode = new("conductivity", "two_electrode");

    private readonly MixingPlan _plan;
    private readonly double _seconds;
    private readonly int _seed;

    /// <param name="stocks">The stock table it mixes from (<see cref="LoadStocks"/>).</param>
    /// <param name="seconds">Simulated work per request, wall seconds.</param>
    /// <param name="seed">Seed of the measurement noise.</param>
    public SimulatedConductivityCell(StockTableInfo stocks, double seconds, int seed)
    {
        ArgumentNullException.ThrowIfNull(stocks);
        _seconds = seconds;
        _seed = seed;
        _plan = stocks.Plan;
    }

    /// <summary>A stocks file (e.g. tenants/Finales.Tenants.Asab/stocks-2022.json), read by the core's one stock-table
    /// parser (<see cref="ScienceApi.ParseStockTable"/>, the same the ASAB tenant uses).</summary>
    public static StockTableInfo LoadStocks(string path) =>
        File.Exists(path)
            ? ScienceApi.ParseStockTable(File.ReadAllText(path), path)
            : throw new ScienceException($"stocks file {path} does not exist");

    public IReadOnlyList<TenantCapability> Capabilities { get; } = [TwoElectrode];

    /// <summary>The demo's design space.</summary>
    public static JsonArray Limitations() => new(
        new JsonObject { ["quantity"] = TwoElectrode.Quantity, ["method"] = TwoElectrode.Method, ["limitations"] = DemoChemistry.DesignLimitations() });

    public string LimitationsJson() => Limitations().ToJsonString();
    public async Task<WorkOutcome> ProcessAsync(WorkItem item, CancellationToken cancellationToken)
    {
        var p = JsonNode.Parse(item.Parameters.GetRawText())!;
        var requested = DemoChemistry.Fractions(p["formulation"]);
        var temperature = p["temperature"]?.GetValue<double>() ?? 298.15;
        var total = requested.Values.Sum();
        var target = requested.Where(kv => kv.Value > 0).ToDictionary(kv => kv.Key, kv => kv.Value / total);
        await Task.Delay(TimeSpan.FromSeconds(_seconds), cancellationToken);
        var mix = _plan.Solve(target);
        var achieved = mix.Achieved.Where(kv => kv.Value > 1e-9).ToDictionary(kv => kv.Key, kv => kv.Value);
        var sum = achieved.Values.Sum();
        achieved = achieved.ToDictionary(kv => kv.Key, kv => kv.Value / sum);
        // Noise seeded by the demo seed and the request's content: the same request gives the same number.
        var noise = new SeededNoise(NoiseSeed(p["formulation"]?.ToJsonString() ?? "", temperature));
        var m = ScienceApi.MeasureElectrolyte(achieved, temperature, noise.NextStandardNormal);
        var data = new JsonObject
        {
            ["run_info"] = new JsonObject
            {
                ["formulation"] = DemoChemistry.Formulation(achieved),
                ["internal_reference"] = item.RequestId.ToString("D"),
                ["formulation_info"] = new JsonObject
                {
                    ["name"] = "mixed from " + string.Join(" + ", mix.VolumeFractions.Where(v => v.Value > 1e-6).Select(v => $"{DemoChemistry.F(v.Value, 3)} {v.Key}")),
                },
            },
            ["conductivity"] = new JsonObject
            {
                ["values"] = new JsonArray(Math.Round(m.ConductivitySiemensPerMeter, 6)),
                ["temperature"] = temperature,
                ["meta"] = new JsonObject { ["success"] = true, ["rating"] = 4 },
            },
        };
        var message = $"{DemoChemistry.F(m.ConductivitySiemensPerMeter)} S/m at {temperature:F2} K (mixing deviation {DemoChemistry.F(mix.Deviation, 3)})";
        return WorkOutcome.Succeeded(JsonSerializer.SerializeToElement(data), message);
    }

    private ulong NoiseSeed(string formulation, double temperature)
    {
        // FNV-1a over the content; string.GetHashCode is randomised per process.
        var h = 14695981039346656037UL;
        foreach (var ch in $"{_seed}|{TwoElectrode}|{formulation}|{temperature:R}") { h ^= ch; h *= 1099511628211UL; }
        return h;
    }
}
