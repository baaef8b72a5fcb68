using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Finales.Tenants.Asab;

/// <summary>One stock pump: the pump node in the tubing graph, its syringe (nominal mL) and the stock it doses.</summary>
public sealed class PumpAssignment
{
    public string Node { get; set; } = "";
    public double SyringeMl { get; set; } = 25;
    public string Stock { get; set; } = "";
}

/// <summary>
/// The <c>Asab</c> configuration section: hardware layout (graph files, stocks file, pumps, device nodes), the
/// measurement procedure and the devices (simulated or real). Relative paths are resolved against
/// <see cref="BaseDirectory"/> (the directory of the config file). See docs/asab.md for the reference.
/// </summary>
public sealed class AsabSettings
{
    public const string Section = "Asab";

    // --- devices ---
    /// <summary>True: simulators (fluidics ledger, LIMS instrument, balance). False: the real drivers.</summary>
    public bool Simulated { get; set; }
    /// <summary>Wall seconds per simulated second for every simulated wait (1.0 = real time, 0.001 in tests).</summary>
    public double TimeScale { get; set; } = 1.0;
    /// <summary>Seed of the simulated instrument noise.</summary>
    public int Seed { get; set; } = 1;
    /// <summary>Directory for simulated LIMS folders (and other scratch files) when the LIMS folders are not given.</summary>
    public string WorkDirectory { get; set; } = "asab-work";

    // --- layout ---
    public string GraphDirectory { get; set; } = "";
    public string StocksFile { get; set; } = "";
    public List<PumpAssignment> Pumps { get; set; } = [];
    public string Mixer { get; set; } = "M1.0";
    public string CellInlet { get; set; } = "densiViscoIN";
    public string CellOutlet { get; set; } = "densiViscoOUT";
    public string Waste { get; set; } = "waste_1";
    /// <summary>The gas node that drains the cell; the gas is driven by a pump at this node (a pressure line at the site).</summary>
    public string GasSource { get; set; } = "pressurizedGas";
    public double GasSyringeMl { get; set; } = 25;
    public string Solvent { get; set; } = "Solvent";
    /// <summary>The chemical the cleaning solvent is (name, SMILES or InChIKey).</summary>
    public string SolventChemical { get; set; } = "DMC";
    /// <summary>The pump that pushes solvent through the mixer and the cell (not one of the stock pumps).</summary>
    public string CleaningPump { get; set; } = "E0.0";
    public double CleaningSyringeMl { get; set; } = 25;

    // --- procedure ---
    /// <summary>Total flow through the mixer while mixing, mL/s (each pump: volume fraction x total flow); moved into the syringes' limits when needed.</summary>
    public double TotalFlowMlPerS { get; set; } = 0.2;
    /// <summary>Flow for filling, priming and cleaning, mL/s (clamped to each syringe's limits).</summary>
    public double FillFlowMlPerS { get; set; } = 0.5;
    public double GasFlowMlPerS { get; set; } = 2.0;
    /// <summary>Sample volume beyond the dead volume from the mixer to the cell inlet, mL (3 mL for the DMA 4100 M).</summary>
    public double SampleExtraMl { get; set; } = 3.0;
    /// <summary>Priming pushes this many times the dead volume of pump -> mixer -> waste.</summary>
    public double PrimeFactor { get; set; } = 2.0;
    /// <summary>Fill-and-empty cycles that replace the gas in a pump's fill line at its first use.</summary>
    public int InitialPrimeCycles { get; set; } = 2;
    /// <summary>Mixture sent to waste before switching to the cell (at least 2x the dead volume mixer -> waste), mL.</summary>
    public double MixFlushMl { get; set; } = 0.5;
    /// <summary>Gas pushes through the cell per drain, each of DrainFactor x the dead volume of gas -> cell -> waste.</summary>
    public int DrainRepeats { get; set; } = 2;
    public double DrainFactor { get; set; } = 1.2;
    /// <summary>Solvent pushed beyond the dead volume from the cleaning pump to the cell outlet, mL.</summary>
    public double CleanExtraMl { get; set; } = 3.0;
    /// <summary>Doses below this volume are not dosed (the stock is dropped and the rest renormalized), mL.</summary>
    public double MinDoseMl { get; set; } = 0.01;
    /// <summary>Extra volume drawn into each stock syringe beyond what the sample needs, mL.</summary>
    public double FillMarginMl { get; set; } = 0.2;

    // --- measurement ---
    public double TemperatureMinK { get; set; } = 298.15;
    public double TemperatureMaxK { get; set; } = 298.15;
    public string LimsMethod { get; set; } = "DensVisc";
    public string LimsInDirectory { get; set; } = "";
    public string LimsOutDirectory { get; set; } = "";
    public double LimsTimeoutSeconds { get; set; } = 1200;
    /// <summary>Simulated instrument: measurement duration (simulated s), replicate rows, invalid-condition probabilities.</summary>
    public double MeasurementSeconds { get; set; } = 240;
    public int Replicates { get; set; } = 5;
    public double InvalidDensityProbability { get; set; }
    public double InvalidViscosityProbability { get; set; }
    /// <summary>Simulated solvent reservoir volume, mL.</summary>
    public double SolventVolumeMl { get; set; } = 2000;

    // --- balance (optional) ---
    /// <summary>The vessel the balance stands under (empty = no balance).</summary>
    public string BalanceVessel { get; set; } = "";
    public string BalanceSerialPort { get; set; } = "";
    public int BalanceBaud { get; set; } = 9600;
    public string BalanceHost { get; set; } = "";
    public int BalanceTcpPort { get; set; }

    /// <summary>Directory relative paths are resolved against (not a configuration key; set by the loader).</summary>
    public string BaseDirectory { get; set; } = Directory.GetCurrentDirectory();

    public string Resolve(string path) => string.IsNullOrWhiteSpace(path) ? path : Path.GetFullPath(Path.Combine(BaseDirectory, path));

    /// <summary>Binds the <c>Asab</c> section; relative paths resolve against <paramref name="baseDirectory"/>.</summary>
    public static AsabSettings FromConfiguration(IConfiguration configuration, string? baseDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var settings = new AsabSettings();
        configuration.GetSection(Section).Bind(settings);
        settings.BaseDirectory = baseDirectory ?? Directory.GetCurrentDirectory();
        return settings;
    }

    /// <summary>Every problem with these settings, each naming the key and the value (empty = valid).</summary>
    public IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        string S(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        void Positive(string key, double v) { if (!(v > 0) || !double.IsFinite(v)) p.Add($"{Section}:{key} is {S(v)}; it must be > 0"); }
        void NonNegative(string key, double v) { if (!(v >= 0) || !double.IsFinite(v)) p.Add($"{Section}:{key} is {S(v)}; it must be >= 0"); }
        void Required(string key, string v) { if (string.IsNullOrWhiteSpace(v)) p.Add($"{Section}:{key} is missing"); }
        Positive(nameof(TimeScale), TimeScale);
        Required(nameof(GraphDirectory), GraphDirectory);
        Required(nameof(StocksFile), StocksFile);
        if (!string.IsNullOrWhiteSpace(GraphDirectory) && !Directory.Exists(Resolve(GraphDirectory)))
            p.Add($"{Section}:{nameof(GraphDirectory)} is '{GraphDirectory}'; directory {Resolve(GraphDirectory)} does not exist");
        if (!string.IsNullOrWhiteSpace(StocksFile) && !File.Exists(Resolve(StocksFile)))
            p.Add($"{Section}:{nameof(StocksFile)} is '{StocksFile}'; file {Resolve(StocksFile)} does not exist");
        if (Pumps.Count == 0) p.Add($"{Section}:{nameof(Pumps)} is empty; assign a pump to every stock");
        for (var i = 0; i < Pumps.Count; i++)
        {
            var a = Pumps[i];
            if (string.IsNullOrWhiteSpace(a.Node)) p.Add($"{Section}:Pumps:{i}:Node is missing");
            if (string.IsNullOrWhiteSpace(a.Stock)) p.Add($"{Section}:Pumps:{i}:Stock is missing");
            if (!IsStandardSyringe(a.SyringeMl)) p.Add($"{Section}:Pumps:{i}:SyringeMl is {S(a.SyringeMl)}; standard syringes are 25, 10, 5, 2.5 and 1 mL");
        }
        foreach (var g in Pumps.GroupBy(a => a.Node).Where(g => g.Count() > 1))
            p.Add($"{Section}:Pumps: pump {g.Key} is assigned {g.Count()} times");
        foreach (var g in Pumps.GroupBy(a => a.Stock).Where(g => g.Count() > 1))
            p.Add($"{Section}:Pumps: stock '{g.Key}' is assigned to {g.Count()} pumps");
        if (Pumps.Any(a => a.Node == CleaningPump)) p.Add($"{Section}:{nameof(CleaningPump)} is {CleaningPump}, which is also a stock pump");
        if (!IsStandardSyringe(GasSyringeMl)) p.Add($"{Section}:{nameof(GasSyringeMl)} is {S(GasSyringeMl)}; standard syringes are 25, 10, 5, 2.5 and 1 mL");
        if (!IsStandardSyringe(CleaningSyringeMl)) p.Add($"{Section}:{nameof(CleaningSyringeMl)} is {S(CleaningSyringeMl)}; standard syringes are 25, 10, 5, 2.5 and 1 mL");
        foreach (var (k, v) in new[] { (nameof(Mixer), Mixer), (nameof(CellInlet), CellInlet), (nameof(CellOutlet), CellOutlet), (nameof(Waste), Waste),
                     (nameof(GasSource), GasSource), (nameof(Solvent), Solvent), (nameof(CleaningPump), CleaningPump), (nameof(LimsMethod), LimsMethod),
                     (nameof(SolventChemical), SolventChemical) })
            Required(k, v);
        Positive(nameof(TotalFlowMlPerS), TotalFlowMlPerS);
        Positive(nameof(FillFlowMlPerS), FillFlowMlPerS);
        Positive(nameof(GasFlowMlPerS), GasFlowMlPerS);
        Positive(nameof(SampleExtraMl), SampleExtraMl);
        Positive(nameof(PrimeFactor), PrimeFactor);
        NonNegative(nameof(MixFlushMl), MixFlushMl);
        Positive(nameof(DrainFactor), DrainFactor);
        NonNegative(nameof(CleanExtraMl), CleanExtraMl);
        NonNegative(nameof(MinDoseMl), MinDoseMl);
        NonNegative(nameof(FillMarginMl), FillMarginMl);
        Positive(nameof(LimsTimeoutSeconds), LimsTimeoutSeconds);
        NonNegative(nameof(MeasurementSeconds), MeasurementSeconds);
        Positive(nameof(SolventVolumeMl), SolventVolumeMl);
        if (InitialPrimeCycles < 0) p.Add($"{Section}:{nameof(InitialPrimeCycles)} is {InitialPrimeCycles}; it must be >= 0");
        if (DrainRepeats < 1) p.Add($"{Section}:{nameof(DrainRepeats)} is {DrainRepeats}; it must be >= 1");
        if (Replicates < 2) p.Add($"{Section}:{nameof(Replicates)} is {Replicates}; at least 2 (the instrument discards the first)");
        foreach (var (k, v) in new[] { (nameof(InvalidDensityProbability), InvalidDensityProbability), (nameof(InvalidViscosityProbability), InvalidViscosityProbability) })
            if (!(v >= 0 && v <= 1)) p.Add($"{Section}:{k} is {S(v)}; it must be in [0, 1]");
        if (!(TemperatureMinK > 0) || !(TemperatureMaxK >= TemperatureMinK) || !double.IsFinite(TemperatureMaxK))
            p.Add($"{Section}:TemperatureMinK..TemperatureMaxK is {S(TemperatureMinK)}..{S(TemperatureMaxK)}; it must be a range of kelvin > 0");
        if (!Simulated)
        {
            if (string.IsNullOrWhiteSpace(LimsInDirectory) || string.IsNullOrWhiteSpace(LimsOutDirectory))
                p.Add($"{Section}:LimsInDirectory and LimsOutDirectory are required with Simulated false (the instrument's LIMS folders)");
            if (!string.IsNullOrWhiteSpace(BalanceVessel) && string.IsNullOrWhiteSpace(BalanceSerialPort) && string.IsNullOrWhiteSpace(BalanceHost))
                p.Add($"{Section}:BalanceVessel is '{BalanceVessel}' but neither BalanceSerialPort nor BalanceHost/BalanceTcpPort is set");
        }
        return p;
    }

    private static bool IsStandardSyringe(double ml) => ml is 25 or 10 or 5 or 2.5 or 1;

    /// <summary>The configuration keys (section <c>Asab</c>) equivalent to these settings, for TenantKit overrides.</summary>
    public IEnumerable<KeyValuePair<string, string?>> ToConfiguration()
    {
        static string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        var d = new Dictionary<string, string?>
        {
            ["Simulated"] = Simulated ? "true" : "false", ["TimeScale"] = F(TimeScale), ["Seed"] = Seed.ToString(CultureInfo.InvariantCulture),
            ["WorkDirectory"] = Resolve(WorkDirectory), ["GraphDirectory"] = Resolve(GraphDirectory), ["StocksFile"] = Resolve(StocksFile),
            ["Mixer"] = Mixer, ["CellInlet"] = CellInlet, ["CellOutlet"] = CellOutlet, ["Waste"] = Waste, ["GasSource"] = GasSource,
            ["GasSyringeMl"] = F(GasSyringeMl), ["Solvent"] = Solvent, ["SolventChemical"] = SolventChemical, ["CleaningPump"] = CleaningPump,
            ["CleaningSyringeMl"] = F(CleaningSyringeMl), ["TotalFlowMlPerS"] = F(TotalFlowMlPerS), ["FillFlowMlPerS"] = F(FillFlowMlPerS),
            ["GasFlowMlPerS"] = F(GasFlowMlPerS), ["SampleExtraMl"] = F(SampleExtraMl), ["PrimeFactor"] = F(PrimeFactor),
            ["InitialPrimeCycles"] = InitialPrimeCycles.ToString(CultureInfo.InvariantCulture), ["MixFlushMl"] = F(MixFlushMl),
            ["DrainRepeats"] = DrainRepeats.ToString(CultureInfo.InvariantCulture), ["DrainFactor"] = F(DrainFactor), ["CleanExtraMl"] = F(CleanExtraMl),
            ["MinDoseMl"] = F(MinDoseMl), ["FillMarginMl"] = F(FillMarginMl), ["TemperatureMinK"] = F(TemperatureMinK), ["TemperatureMaxK"] = F(TemperatureMaxK),
            ["LimsMethod"] = LimsMethod, ["LimsInDirectory"] = string.IsNullOrWhiteSpace(LimsInDirectory) ? "" : Resolve(LimsInDirectory),
            ["LimsOutDirectory"] = string.IsNullOrWhiteSpace(LimsOutDirectory) ? "" : Resolve(LimsOutDirectory), ["LimsTimeoutSeconds"] = F(LimsTimeoutSeconds),
            ["MeasurementSeconds"] = F(MeasurementSeconds), ["Replicates"] = Replicates.ToString(CultureInfo.InvariantCulture),
            ["InvalidDensityProbability"] = F(InvalidDensityProbability), ["InvalidViscosityProbability"] = F(InvalidViscosityProbability),
            ["SolventVolumeMl"] = F(SolventVolumeMl), ["BalanceVessel"] = BalanceVessel, ["BalanceSerialPort"] = BalanceSerialPort,
            ["BalanceBaud"] = BalanceBaud.ToString(CultureInfo.InvariantCulture), ["BalanceHost"] = BalanceHost,
            ["BalanceTcpPort"] = BalanceTcpPort.ToString(CultureInfo.InvariantCulture),
        };
        for (var i = 0; i < Pumps.Count; i++)
        {
            d[$"Pumps:{i}:Node"] = Pumps[i].Node;
            d[$"Pumps:{i}:SyringeMl"] = F(Pumps[i].SyringeMl);
            d[$"Pumps:{i}:Stock"] = Pumps[i].Stock;
        }
        return d.Select(kv => new KeyValuePair<string, string?>(Section + ":" + kv.Key, kv.Value));
    }
}

/// <summary>The tenant cannot start with this configuration or hardware; the message says what is wrong.</summary>
public sealed class AsabConfigurationException(string message) : Exception(message);
