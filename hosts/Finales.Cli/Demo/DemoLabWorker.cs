using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Core;
using Finales.Hosting;

namespace Finales.Cli.Demo;

/// <summary>
/// STAND-IN for the ASAB tenant, used by `finales demo` while tenants/Finales.Tenants.Asab is not in the build.
/// A simulated lab on the hosting kit: it mixes the requested formulation from four stock solutions (the core's exact
/// projection onto their hull, so the achieved composition differs from the requested one, as on the real robot),
/// then measures density + viscosity (density/vibrating_tube_densimetry) or conductivity (conductivity/two_electrode)
/// of the achieved mixture with the core's virtual electrolyte and seeded noise. Simulated work time per request is
/// configurable ("DemoLab:DensitySeconds", "DemoLab:ConductivitySeconds"). Run as `finales tenant demo-lab --config F`.
/// </summary>
public sealed class DemoLabWorker : ITenantWorker
{
    public static readonly TenantCapability Density = new("density", "vibrating_tube_densimetry");
    public static readonly TenantCapability TwoElectrode = new("conductivity", "two_electrode");

    private readonly MixingPlan _plan;
    private readonly double _densitySeconds, _conductivitySeconds;
    private readonly int _seed;

    public DemoLabWorker(double densitySeconds, double conductivitySeconds, int seed)
    {
        _densitySeconds = densitySeconds;
        _conductivitySeconds = conductivitySeconds;
        _seed = seed;
        _plan = ScienceApi.PrepareStocks(Stocks());
    }

    /// <summary>The lab's stock solutions (commercial LP30 and LP57, DMC, EC:EMC 3:7, EMC, 1 M LiPF6 in EC kept warm); masses in g per litre.</summary>
    public static IReadOnlyList<StockInput> Stocks() =>
    [
        new("LP30", 1.2879, new Dictionary<string, double> { ["LiPF6"] = 151.905, ["EC"] = 568.0, ["DMC"] = 568.0 }),
        new("LP57", 1.1964, new Dictionary<string, double> { ["LiPF6"] = 151.905, ["EC"] = 313.35, ["EMC"] = 731.15 }),
        new("DMC", 1.0635, new Dictionary<string, double> { ["DMC"] = 1063.5 }),
        new("EC:EMC 3:7", 1.1013, new Dictionary<string, double> { ["EC"] = 330.39, ["EMC"] = 770.91 }),
        new("EMC", 1.006, new Dictionary<string, double> { ["EMC"] = 1006.0 }),
        new("LiPF6 in EC", 1.41, new Dictionary<string, double> { ["LiPF6"] = 151.905, ["EC"] = 1258.1 }),
    ];

    public IReadOnlyList<TenantCapability> Capabilities { get; } = [Density, TwoElectrode];

    /// <summary>The demo's design space for both capabilities.</summary>
    public static JsonArray Limitations() => new(
        new JsonObject { ["quantity"] = Density.Quantity, ["method"] = Density.Method, ["limitations"] = DemoChemistry.DesignLimitations() },
        new JsonObject { ["quantity"] = TwoElectrode.Quantity, ["method"] = TwoElectrode.Method, ["limitations"] = DemoChemistry.DesignLimitations() });

    public string LimitationsJson() => Limitations().ToJsonString();

    public async Task<WorkOutcome> ProcessAsync(WorkItem item, CancellationToken cancellationToken)
    {
        var p = JsonNode.Parse(item.Parameters.GetRawText())!;
        var requested = DemoChemistry.Fractions(p["formulation"]);
        var temperature = p["temperature"]?.GetValue<double>() ?? 298.15;
        var total = requested.Values.Sum();
        var target = requested.Where(kv => kv.Value > 0).ToDictionary(kv => kv.Key, kv => kv.Value / total);
        var isDensity = item.Capability == Density;
        await Task.Delay(TimeSpan.FromSeconds(isDensity ? _densitySeconds : _conductivitySeconds), cancellationToken);
        var mix = _plan.Solve(target);
        var achieved = mix.Achieved.Where(kv => kv.Value > 1e-9).ToDictionary(kv => kv.Key, kv => kv.Value);
        var sum = achieved.Values.Sum();
        achieved = achieved.ToDictionary(kv => kv.Key, kv => kv.Value / sum);
        // Noise seeded by the demo seed and the request's content: the same campaign gives the same numbers.
        var noise = new SeededNoise(NoiseSeed(item.Capability, p["formulation"]?.ToJsonString() ?? "", temperature));
        var m = ScienceApi.MeasureElectrolyte(achieved, temperature, noise.NextStandardNormal);
        var runInfo = new JsonObject
        {
            ["formulation"] = DemoChemistry.Formulation(achieved),
            ["internal_reference"] = item.RequestId.ToString("D"),
            ["formulation_info"] = new JsonObject
            {
                ["name"] = "mixed from " + string.Join(" + ", mix.VolumeFractions.Where(v => v.Value > 1e-6).Select(v => $"{DemoChemistry.F(v.Value, 3)} {v.Key}")),
            },
        };
        JsonObject Output(double value, double t) => new()
        {
            ["values"] = new JsonArray(Math.Round(value, 6)),
            ["temperature"] = t,
            ["meta"] = new JsonObject { ["success"] = true, ["rating"] = 4 },
        };
        var data = isDensity
            ? new JsonObject
            {
                ["run_info"] = runInfo,
                ["density"] = Output(m.DensityGramsPerCubicCentimeter, temperature),
                ["viscosity"] = Output(m.ViscosityMillipascalSeconds, temperature),
            }
            : new JsonObject { ["run_info"] = runInfo, ["conductivity"] = Output(m.ConductivitySiemensPerMeter, temperature) };
        var message = isDensity
            ? $"{DemoChemistry.F(m.DensityGramsPerCubicCentimeter)} g/cm3, {DemoChemistry.F(m.ViscosityMillipascalSeconds)} mPa s at {temperature:F2} K (mixing deviation {DemoChemistry.F(mix.Deviation, 3)})"
            : $"{DemoChemistry.F(m.ConductivitySiemensPerMeter)} S/m at {temperature:F2} K (mixing deviation {DemoChemistry.F(mix.Deviation, 3)})";
        return WorkOutcome.Succeeded(JsonSerializer.SerializeToElement(data), message);
    }

    private ulong NoiseSeed(TenantCapability capability, string formulation, double temperature)
    {
        // FNV-1a over the content; string.GetHashCode is randomised per process.
        var h = 14695981039346656037UL;
        foreach (var ch in $"{_seed}|{capability}|{formulation}|{temperature:R}") { h ^= ch; h *= 1099511628211UL; }
        return h;
    }
}
