using System.Globalization;
using System.Text.Json.Nodes;
using Finales.Core;

namespace Finales.Tenants.Cell;

/// <summary>One chemical of the demo's design space, with the identifiers FINALES2 formulations carry.</summary>
public sealed record DemoChemical(string Name, string Smiles, string InChIKey);

/// <summary>
/// The demo's design space (LiPF6 in EC/EMC/DMC, mole fractions, a temperature range) and the FINALES2 JSON
/// shapes built from it. Shared by the simulated cell tenant (its published limitations), the demo's configuration and report.
/// </summary>
public static class DemoChemistry
{
    // The identifiers come from the core's chemicals table (ScienceApi.FindChemical), never copied here.
    public static readonly DemoChemical LiPF6 = FromCore("LiPF6");
    public static readonly DemoChemical EC = FromCore("EC");
    public static readonly DemoChemical EMC = FromCore("EMC");
    public static readonly DemoChemical DMC = FromCore("DMC");
    public static readonly DemoChemical[] All = [LiPF6, EC, EMC, DMC];

    public const double TemperatureMin = 283.15, TemperatureMax = 313.15;

    private static DemoChemical FromCore(string name)
    {
        var c = ScienceApi.FindChemical(name);
        return new DemoChemical(c.Name, c.Smiles, c.InChIKey);
    }

    /// <summary>The chemical with this SMILES or InChIKey, or null.</summary>
    public static DemoChemical? Find(string? key) => All.FirstOrDefault(c => c.Smiles == key || c.InChIKey == key || c.Name == key);

    /// <summary>
    /// The design space in the FINALES2 limitation grammar, inside what the ASAB example stocks reach (LiPF6 at most 0.0863,
    /// EC at most 0.4689, EMC at most 0.6637): LiPF6 0.02..0.086, EC 0.1..0.46, EMC and DMC each exactly 0 or 0.05..0.66 / 0.05..0.85.
    /// </summary>
    public static JsonObject DesignLimitations()
    {
        static JsonObject Component(DemoChemical c, params (double Min, double Max)[] ranges) => new()
        {
            ["chemical"] = new JsonObject { ["SMILES"] = c.Smiles, ["InChIKey"] = c.InChIKey },
            ["fraction"] = new JsonArray(ranges.Select(r => (JsonNode?)new JsonObject { ["min"] = r.Min, ["max"] = r.Max }).ToArray()),
            ["fraction_type"] = new JsonArray("molPerMol"),
        };
        return new JsonObject
        {
            ["formulation"] = new JsonArray(new JsonArray(
                Component(LiPF6, (0.02, 0.086)),
                Component(EC, (0.1, 0.46)),
                Component(EMC, (0, 0), (0.05, 0.66)),
                Component(DMC, (0, 0), (0.05, 0.85)))),
            ["temperature"] = new JsonArray(new JsonObject { ["min"] = TemperatureMin, ["max"] = TemperatureMax }),
        };
    }

    /// <summary>A FINALES2 formulation array (mole fractions, rounded to 6 decimals, zeros left out).</summary>
    public static JsonArray Formulation(IReadOnlyDictionary<string, double> fractionsBySmilesOrName)
    {
        var items = new List<JsonNode?>();
        foreach (var (key, value) in fractionsBySmilesOrName)
        {
            var c = Find(key) ?? throw new InvalidOperationException($"chemical '{key}' is not in the demo's design space");
            var x = Math.Round(value, 6);
            if (x <= 0) continue;
            items.Add(new JsonObject
            {
                ["chemical"] = new JsonObject { ["SMILES"] = c.Smiles, ["InChIKey"] = c.InChIKey },
                ["fraction"] = x,
                ["fraction_type"] = "molPerMol",
            });
        }
        return new JsonArray(items.ToArray());
    }

    /// <summary>Mole fractions by chemical name from a FINALES2 formulation array (unknown chemicals by their SMILES).</summary>
    public static Dictionary<string, double> Fractions(JsonNode? formulation)
    {
        var d = All.ToDictionary(c => c.Name, _ => 0.0);
        if (formulation is not JsonArray arr) return d;
        foreach (var item in arr)
        {
            var smiles = item?["chemical"]?["SMILES"]?.GetValue<string>();
            var key = item?["chemical"]?["InChIKey"]?.GetValue<string>();
            var name = (Find(smiles) ?? Find(key))?.Name ?? smiles ?? key ?? "?";
            d[name] = d.GetValueOrDefault(name) + (item?["fraction"]?.GetValue<double>() ?? 0);
        }
        return d;
    }

    public static string F(double x, int digits = 4) => x.ToString("G" + digits, CultureInfo.InvariantCulture);
}
