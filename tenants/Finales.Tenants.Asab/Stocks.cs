using System.Globalization;
using System.Text.Json;
using Finales.Core;

namespace Finales.Tenants.Asab;

/// <summary>One stock solution of the stocks file: masses in g keyed by canonical chemical name, density g/cm3,
/// total mass g, the reservoir node it sits in and the volume available, mL.</summary>
public sealed record StockDefinition(
    string Name, string Reservoir, double DensityGcm3, IReadOnlyDictionary<string, double> MassesGrams, double TotalMassGrams, double VolumeMl)
{
    /// <summary>Moles per mL of stock for each chemical: (m_i / M_i) / (m_total / rho).</summary>
    public IReadOnlyDictionary<string, double> MolesPerMl { get; } =
        MassesGrams.Where(kv => kv.Value > 0).ToDictionary(kv => kv.Key,
            kv => kv.Value / ScienceApi.FindChemical(kv.Key).MolarMassGramsPerMole / (TotalMassGrams / DensityGcm3));
}

/// <summary>
/// The stocks file (JSON, <c>{"stocks": [{"name", "reservoir", "density", "masses": {chemical: g}, "total_mass", "volume_ml"}]}</c>;
/// chemicals by name, SMILES or InChIKey; <c>total_mass</c> defaults to the sum of the masses) with the core's mixing plan.
/// </summary>
public sealed class StockSet
{
    private StockSet(IReadOnlyList<StockDefinition> stocks, MixingPlan plan)
    {
        Stocks = stocks;
        Plan = plan;
        Chemicals = stocks.SelectMany(s => s.MolesPerMl.Keys).Distinct().OrderBy(c => c, StringComparer.Ordinal).ToList();
    }

    public IReadOnlyList<StockDefinition> Stocks { get; }
    /// <summary>The core's exact projection onto the hull of the stock compositions.</summary>
    public MixingPlan Plan { get; }
    /// <summary>Canonical names of every chemical some stock contains.</summary>
    public IReadOnlyList<string> Chemicals { get; }

    public StockDefinition this[string name] =>
        Stocks.FirstOrDefault(s => s.Name == name) ?? throw new KeyNotFoundException($"no stock named '{name}'");

    public static StockSet Load(string path)
    {
        if (!File.Exists(path)) throw new AsabConfigurationException($"stocks file {path} does not exist");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses a stocks file; every problem is named with its field and value.</summary>
    public static StockSet Parse(string json, string source)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new AsabConfigurationException($"stocks file {source} is not JSON: {e.Message}"); }
        using var _ = doc;
        if (!doc.RootElement.TryGetProperty("stocks", out var array) || array.ValueKind != JsonValueKind.Array || array.GetArrayLength() == 0)
            throw new AsabConfigurationException($"stocks file {source}: 'stocks' must be a non-empty list");
        var problems = new List<string>();
        var stocks = new List<StockDefinition>();
        var i = 0;
        foreach (var s in array.EnumerateArray())
        {
            var at = $"stocks[{i++}]";
            string? Text(string field)
            {
                if (s.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(v.GetString())) return v.GetString();
                problems.Add($"{at}.{field} is {(s.TryGetProperty(field, out var raw) ? raw.GetRawText() : "missing")}; expected a non-empty string");
                return null;
            }
            double? Number(string field, bool optional = false)
            {
                if (s.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number && double.IsFinite(v.GetDouble())) return v.GetDouble();
                if (optional && (!s.TryGetProperty(field, out var o) || o.ValueKind == JsonValueKind.Null)) return null;
                problems.Add($"{at}.{field} is {(s.TryGetProperty(field, out var raw) ? raw.GetRawText() : "missing")}; expected a number");
                return null;
            }
            var name = Text("name");
            var reservoir = Text("reservoir");
            var density = Number("density");
            var total = Number("total_mass", optional: true);
            var volume = Number("volume_ml");
            var masses = new Dictionary<string, double>();
            if (!s.TryGetProperty("masses", out var m) || m.ValueKind != JsonValueKind.Object)
                problems.Add($"{at}.masses is {(s.TryGetProperty("masses", out var raw) ? raw.GetRawText() : "missing")}; expected an object chemical -> grams");
            else
                foreach (var p in m.EnumerateObject())
                {
                    string canonical;
                    try { canonical = ScienceApi.FindChemical(p.Name).Name; }
                    catch (ScienceException e) { problems.Add($"{at}.masses: {e.Message}"); continue; }
                    if (p.Value.ValueKind != JsonValueKind.Number || !(p.Value.GetDouble() >= 0))
                    {
                        problems.Add($"{at}.masses.{p.Name} is {p.Value.GetRawText()}; expected grams >= 0");
                        continue;
                    }
                    masses[canonical] = masses.GetValueOrDefault(canonical) + p.Value.GetDouble();
                }
            if (density is { } d && d <= 0) problems.Add($"{at}.density is {d.ToString(CultureInfo.InvariantCulture)}; it must be > 0");
            if (volume is { } vol && vol < 0) problems.Add($"{at}.volume_ml is {vol.ToString(CultureInfo.InvariantCulture)}; it must be >= 0");
            if (masses.Values.Sum() <= 0 && m.ValueKind == JsonValueKind.Object) problems.Add($"{at}.masses has no positive mass");
            if (total is { } t && t < masses.Values.Sum() * (1 - 1e-9))
                problems.Add($"{at}.total_mass is {t.ToString(CultureInfo.InvariantCulture)} g, less than the sum of its masses ({masses.Values.Sum().ToString(CultureInfo.InvariantCulture)} g)");
            if (name is not null && reservoir is not null && density is > 0 && volume is >= 0 && masses.Values.Sum() > 0)
                stocks.Add(new StockDefinition(name, reservoir, density.Value, masses, total ?? masses.Values.Sum(), volume.Value));
        }
        foreach (var g in stocks.GroupBy(s => s.Name).Where(g => g.Count() > 1)) problems.Add($"stock name '{g.Key}' appears {g.Count()} times");
        foreach (var g in stocks.GroupBy(s => s.Reservoir).Where(g => g.Count() > 1)) problems.Add($"reservoir '{g.Key}' holds {g.Count()} stocks");
        if (problems.Count > 0) throw new AsabConfigurationException($"stocks file {source}: {string.Join("; ", problems)}");
        MixingPlan plan;
        try
        {
            plan = ScienceApi.PrepareStocks(stocks.Select(s => new StockInput(s.Name, s.DensityGcm3, s.MassesGrams, s.TotalMassGrams)).ToList());
        }
        catch (ScienceException e) { throw new AsabConfigurationException($"stocks file {source}: {e.Message}"); }
        return new StockSet(stocks, plan);
    }

    /// <summary>Mole fractions (by canonical name) of a mixture given as volumes per liquid; liquids not in
    /// <paramref name="molesPerMl"/> (gas) are ignored. Empty when there is no liquid.</summary>
    public static Dictionary<string, double> MoleFractions(IReadOnlyDictionary<string, double> volumesMl, IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> molesPerMl)
    {
        var moles = new Dictionary<string, double>();
        foreach (var (liquid, volume) in volumesMl)
        {
            if (!molesPerMl.TryGetValue(liquid, out var c) || volume <= 0) continue;
            foreach (var (chem, n) in c) moles[chem] = moles.GetValueOrDefault(chem) + n * volume;
        }
        var total = moles.Values.Sum();
        return total > 0 ? moles.ToDictionary(kv => kv.Key, kv => kv.Value / total) : [];
    }

    /// <summary>Moles per mL per chemical for every stock, by stock name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> MolesPerMlByStock() =>
        Stocks.ToDictionary(s => s.Name, s => s.MolesPerMl);
}
