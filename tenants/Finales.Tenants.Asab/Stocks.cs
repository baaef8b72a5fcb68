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
    /// <summary>The stocks as the core's mixing inputs (total mass given), in file order.</summary>
    public IReadOnlyList<StockInput> Inputs => Stocks.Select(s => new StockInput(s.Name, s.DensityGcm3, s.MassesGrams, s.TotalMassGrams)).ToList();
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

    /// <summary>Parses a stocks file with the core's one stock-table parser (<c>ScienceApi.ParseStockTable</c>); every
    /// problem is named with its field and value.</summary>
    public static StockSet Parse(string json, string source)
    {
        StockTableInfo table;
        try { table = ScienceApi.ParseStockTable(json, source); }
        catch (ScienceException e) { throw new AsabConfigurationException(e.Message); }
        var stocks = table.Stocks
            .Select(s => new StockDefinition(s.Name, s.Reservoir, s.DensityGramsPerCubicCentimeter, s.MassesGrams, s.TotalMassGrams, s.VolumeMilliliters))
            .ToList();
        return new StockSet(stocks, table.Plan);
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
