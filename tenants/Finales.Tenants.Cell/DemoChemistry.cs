using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Core;
using Finales.Core.Interop;

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
    public static JsonObject DesignLimitations() => LimitationsJson.DesignSpace(
        [
            new DesignComponentSpec(LiPF6.InChIKey, new FractionInterval(0.02, 0.086)),
            new DesignComponentSpec(EC.InChIKey, new FractionInterval(0.1, 0.46)),
            new DesignComponentSpec(EMC.InChIKey, new FractionInterval(0, 0), new FractionInterval(0.05, 0.66)),
            new DesignComponentSpec(DMC.InChIKey, new FractionInterval(0, 0), new FractionInterval(0.05, 0.85)),
        ],
        TemperatureMin, TemperatureMax);

    /// <summary>A FINALES2 formulation array (mole fractions, rounded to 6 decimals, zeros left out).</summary>
    public static JsonArray Formulation(IReadOnlyDictionary<string, double> fractionsBySmilesOrName)
    {
        var items = new List<KeyValuePair<string, double>>();
        foreach (var (key, value) in fractionsBySmilesOrName)
        {
            var c = Find(key) ?? throw new InvalidOperationException($"chemical '{key}' is not in the demo's design space");
            var x = Math.Round(value, 6);
            if (x > 0) items.Add(KeyValuePair.Create(c.InChIKey, x));
        }
        return FormulationJson.Encode(items);
    }

    /// <summary>Fractions by chemical name from a FINALES2 formulation array (unknown chemicals by their SMILES, else
    /// InChIKey), read with the core's codec; every demo chemical is present (0 when absent). Throws
    /// <see cref="InvalidOperationException"/> naming the refused entries when the array is not a FINALES2 formulation.</summary>
    public static Dictionary<string, double> Fractions(JsonNode? formulation)
    {
        var d = All.ToDictionary(c => c.Name, _ => 0.0);
        if (formulation is not JsonArray arr) return d;
        if (!FormulationJson.TryDecode(JsonSerializer.SerializeToElement(arr), out var entries, out var error))
            throw new InvalidOperationException("not a FINALES2 formulation: " + error);
        foreach (var e in entries)
        {
            var name = Find(e.Key)?.Name ?? e.Smiles ?? e.InChIKey ?? e.Key;
            d[name] = d.GetValueOrDefault(name) + e.Fraction;
        }
        return d;
    }

    public static string F(double x, int digits = 4) => x.ToString("G" + digits, CultureInfo.InvariantCulture);
}
