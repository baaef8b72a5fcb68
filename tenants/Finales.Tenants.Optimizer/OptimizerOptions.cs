using System.Globalization;
using Finales.Optimizer.Interop;

namespace Finales.Tenants.Optimizer;

/// <summary>One (quantity, method) the optimizer requests for every suggested point, or for a share of them.</summary>
public sealed class RequestTarget
{
    public string Quantity { get; set; } = "";
    public string Method { get; set; } = "";
    /// <summary>
    /// The share of the suggested points this capability is requested for, in (0, 1] (rounded to millionths): 1 = every
    /// point (the default), 0.25 = one point in four, spread evenly over the run and chosen from the seed and the
    /// point's index (the core's <c>RequestShare</c>). A point without it never has that objective: the model
    /// conditions on it like a pending request (docs/optimizer-tenant.md).
    /// </summary>
    public double Share { get; set; } = 1;
    public override string ToString() => $"{Quantity}/{Method}";
    /// <summary>"quantity/method", with " (share S)" when the share is below 1.</summary>
    public string Describe() => Share >= 1 ? ToString() : $"{this} (share {Share.ToString("0.######", CultureInfo.InvariantCulture)})";
}

/// <summary>
/// One level of the objective hierarchy (most important first): the value is read from the results of
/// <see cref="Quantity"/>/<see cref="Method"/> at the result-data path <see cref="Path"/> (e.g. <c>viscosity.values</c>:
/// a number or a list of numbers, aggregated by <see cref="Aggregate"/>); success and rating come from the
/// <c>meta</c> object next to the values (<c>viscosity.meta</c>).
/// </summary>
public sealed class ObjectiveOptions
{
    /// <summary>Name of the objective in logs and progress (unique); defaults to the last segment before <c>values</c>.</summary>
    public string Name { get; set; } = "";
    public string Quantity { get; set; } = "";
    public string Method { get; set; } = "";
    /// <summary>Dotted path into the result <c>data</c>, e.g. <c>density.values</c>.</summary>
    public string Path { get; set; } = "";
    /// <summary><c>mean</c>, <c>median</c>, <c>first</c> or <c>last</c> of the values at <see cref="Path"/>.</summary>
    public string Aggregate { get; set; } = "mean";
    /// <summary><c>min</c> or <c>max</c>.</summary>
    public string Goal { get; set; } = "min";
    /// <summary>Chimera tolerance: an absolute threshold in the value's unit, or a fraction in [0,1] (relative, percentile).</summary>
    public double Tolerance { get; set; }
    /// <summary><c>absolute</c>, <c>relative</c> or <c>percentile</c>.</summary>
    public string Kind { get; set; } = "relative";

    /// <summary><see cref="Goal"/> as the optimizer's enum (defined once <see cref="OptimizerOptions.Problems"/> is empty).</summary>
    public ObjectiveGoal GoalValue => Enum.Parse<ObjectiveGoal>(Goal, ignoreCase: true);

    /// <summary><see cref="Kind"/> as the optimizer's enum (defined once <see cref="OptimizerOptions.Problems"/> is empty).</summary>
    public ObjectiveKind KindValue => Enum.Parse<ObjectiveKind>(Kind, ignoreCase: true);

    public string EffectiveName
    {
        get
        {
            if (!string.IsNullOrWhiteSpace(Name)) return Name;
            var parts = Path.Split('.', StringSplitOptions.RemoveEmptyEntries);
            return parts.Length >= 2 && parts[^1] == "values" ? parts[^2] : Path;
        }
    }

    /// <summary>The <c>meta</c> object's path: the path with its last segment replaced by <c>meta</c>.</summary>
    public string MetaPath
    {
        get
        {
            var i = Path.LastIndexOf('.');
            return i < 0 ? "meta" : Path[..i] + ".meta";
        }
    }
}

/// <summary>
/// What the optimizer tenant optimises and how (section <c>Optimizer</c>; the broker connection is the kit's
/// <c>Tenant</c> section). Every key can be overridden by <c>FINALES_Optimizer__Key</c>.
/// </summary>
public sealed class OptimizerOptions
{
    public const string Section = "Optimizer";
    /// <summary>The hierarchical goal of the demo: conductivity &gt;= target (absolute), then viscosity minimised (relative 0.2), then density minimised (relative 0).</summary>
    public const string PresetConductivityViscosityDensity = "conductivity-viscosity-density";
    /// <summary>The paper's goal: maximise viscosity (relative 0.2), then minimise density (relative 0).</summary>
    public const string PresetPaper = "paper";

    /// <summary>Named objective preset (fills <see cref="Objectives"/> and, when empty, <see cref="Requests"/>); empty = none.</summary>
    public string Preset { get; set; } = "";
    /// <summary>Conductivity threshold of the <c>conductivity-viscosity-density</c> preset, in the result's unit
    /// (S/m for conductivity/polynomial_interpolation): 0.8 S/m = 8 mS/cm.</summary>
    public double ConductivityTarget { get; set; } = 0.8;
    public List<ObjectiveOptions> Objectives { get; set; } = [];
    /// <summary>Capabilities requested for every suggested point; empty = the distinct capabilities of the objectives.</summary>
    public List<RequestTarget> Requests { get; set; } = [];
    /// <summary>Points suggested per iteration (each point is one request per capability).</summary>
    public int BatchSize { get; set; } = 2;
    /// <summary>Most of this tenant's own requests that may be pending or reserved at once.</summary>
    public int QueueCap { get; set; } = 8;
    /// <summary>Results rated below this are ignored (rating from <c>meta.rating</c>; unrated results are kept).</summary>
    public double MinRating { get; set; }
    /// <summary>Pause between iterations and while waiting for results.</summary>
    public double PollIntervalSeconds { get; set; } = 2;
    public int Seed { get; set; } = 1;
    /// <summary>Iterations (rounds that suggested and posted) before the tenant stops; 0 = run until stopped.</summary>
    public int MaxIterations { get; set; }
    /// <summary>Restrict the design space to these chemicals (name, SMILES or InChIKey); empty = all the limitations allow.</summary>
    public List<string> Chemicals { get; set; } = [];
    /// <summary>Restrict the temperature range (kelvin); unset = what the limitations allow.</summary>
    public double? TemperatureMin { get; set; }
    public double? TemperatureMax { get; set; }
    /// <summary>Random feasible candidates scored per suggestion.</summary>
    public int Candidates { get; set; } = 1000;
    /// <summary>Constant sqrt(beta) multiplying sigma; unset = Srinivas beta_t scaled by <see cref="BetaScale"/>.</summary>
    public double? SqrtBeta { get; set; }
    public double BetaScale { get; set; } = 0.2;
    /// <summary>Decimal digits of fractions in the formulation key (dedupe and join): 6 = 1e-6.</summary>
    public int FractionDigits { get; set; } = 6;
    /// <summary>Decimal digits of the temperature in the key and in posted requests (2 = 0.01 K).</summary>
    public int TemperatureDigits { get; set; } = 2;

    private static ObjectiveOptions Obj(string name, string q, string m, string path, string goal, double tol, string kind) =>
        new() { Name = name, Quantity = q, Method = m, Path = path, Goal = goal, Tolerance = tol, Kind = kind };

    /// <summary>The objectives of a preset (null for an unknown name).</summary>
    public static List<ObjectiveOptions>? PresetObjectives(string preset, double conductivityTarget) => preset switch
    {
        PresetConductivityViscosityDensity =>
        [
            Obj("conductivity", "conductivity", "polynomial_interpolation", "conductivity.values", "max", conductivityTarget, "absolute"),
            Obj("viscosity", "density", "vibrating_tube_densimetry", "viscosity.values", "min", 0.2, "relative"),
            Obj("density", "density", "vibrating_tube_densimetry", "density.values", "min", 0.0, "relative"),
        ],
        PresetPaper =>
        [
            Obj("viscosity", "density", "vibrating_tube_densimetry", "viscosity.values", "max", 0.2, "relative"),
            Obj("density", "density", "vibrating_tube_densimetry", "density.values", "min", 0.0, "relative"),
        ],
        _ => null,
    };

    /// <summary>The objectives in force: the preset's, or the configured ones.</summary>
    public IReadOnlyList<ObjectiveOptions> EffectiveObjectives =>
        string.IsNullOrWhiteSpace(Preset) ? Objectives : PresetObjectives(Preset, ConductivityTarget) ?? [];

    /// <summary>The capabilities requested per point: the configured ones, else those of the objectives (in order).</summary>
    public IReadOnlyList<RequestTarget> EffectiveRequests =>
        Requests.Count > 0
            ? Requests
            : EffectiveObjectives.Select(o => (o.Quantity, o.Method)).Distinct()
                .Select(t => new RequestTarget { Quantity = t.Quantity, Method = t.Method }).ToList();

    /// <summary>Every problem, each naming the key and the value (empty when valid).</summary>
    public IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        string F(double v) => v.ToString(CultureInfo.InvariantCulture);
        if (!string.IsNullOrWhiteSpace(Preset))
        {
            if (PresetObjectives(Preset, ConductivityTarget) is null)
                p.Add($"Optimizer:Preset is '{Preset}'; expected {PresetConductivityViscosityDensity} or {PresetPaper} (or empty with Optimizer:Objectives)");
            if (Objectives.Count > 0)
                p.Add($"Optimizer:Preset is '{Preset}' and Optimizer:Objectives lists {Objectives.Count}; give one or the other");
        }
        // With a preset the configured objectives are not used, but a typo in them is still reported.
        var objectives = string.IsNullOrWhiteSpace(Preset) || Objectives.Count == 0 ? EffectiveObjectives : Objectives;
        if (objectives.Count == 0 && p.Count == 0) p.Add("Optimizer:Objectives is empty; give at least one objective or a Preset");
        for (var i = 0; i < objectives.Count; i++)
        {
            var o = objectives[i];
            var at = $"Optimizer:Objectives:{i}";
            if (string.IsNullOrWhiteSpace(o.Quantity)) p.Add($"{at}:Quantity is empty");
            if (string.IsNullOrWhiteSpace(o.Method)) p.Add($"{at}:Method is empty");
            if (string.IsNullOrWhiteSpace(o.Path)) p.Add($"{at}:Path is empty; give the result-data path of the value, e.g. density.values");
            if (o.Goal is not ("min" or "max")) p.Add($"{at}:Goal is '{o.Goal}'; expected min or max");
            if (o.Kind is not ("absolute" or "relative" or "percentile")) p.Add($"{at}:Kind is '{o.Kind}'; expected absolute, relative or percentile");
            if (o.Aggregate is not ("mean" or "median" or "first" or "last")) p.Add($"{at}:Aggregate is '{o.Aggregate}'; expected mean, median, first or last");
            if (!double.IsFinite(o.Tolerance)) p.Add($"{at}:Tolerance is {F(o.Tolerance)}; it must be finite");
            else if (o.Kind is "relative" or "percentile" && (o.Tolerance < 0 || o.Tolerance > 1))
                p.Add($"{at}:Tolerance is {F(o.Tolerance)}; a {o.Kind} tolerance must lie in [0,1]");
        }
        foreach (var d in objectives.GroupBy(o => o.EffectiveName).Where(g => g.Count() > 1))
            p.Add($"Optimizer:Objectives name '{d.Key}' {d.Count()} times; give each a distinct Name");
        var requests = EffectiveRequests;
        for (var i = 0; i < Requests.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(Requests[i].Quantity) || string.IsNullOrWhiteSpace(Requests[i].Method))
                p.Add($"Optimizer:Requests:{i} is '{Requests[i]}'; give Quantity and Method");
            if (!BatchPlanner.TryShare(Requests[i].Share, out _, out var shareError))
                p.Add($"Optimizer:Requests:{i}:Share: {shareError}");
        }
        if (Requests.Count > 0 && Requests.All(r => r.Share < 1))
            p.Add("Optimizer:Requests: every Share is below 1; give at least one capability Share 1 (requested for every point)");
        foreach (var o in objectives)
            if (Requests.Count > 0 && !requests.Any(r => r.Quantity == o.Quantity && r.Method == o.Method))
                p.Add($"Optimizer:Objectives '{o.EffectiveName}' reads {o.Quantity}/{o.Method}, which Optimizer:Requests does not request");
        if (BatchSize < 1 || BatchSize > 100) p.Add($"Optimizer:BatchSize is {BatchSize}; it must be 1..100");
        if (QueueCap < Math.Max(1, requests.Count))
            p.Add($"Optimizer:QueueCap is {QueueCap}; it must be >= the requests per point ({requests.Count})");
        if (!(PollIntervalSeconds > 0)) p.Add($"Optimizer:PollIntervalSeconds is {F(PollIntervalSeconds)}; it must be > 0");
        if (MaxIterations < 0) p.Add($"Optimizer:MaxIterations is {MaxIterations}; it must be >= 0 (0 = forever)");
        if (Candidates < 10) p.Add($"Optimizer:Candidates is {Candidates}; it must be >= 10");
        if (SqrtBeta is { } b && !(b >= 0 && double.IsFinite(b))) p.Add($"Optimizer:SqrtBeta is {F(b)}; it must be a finite number >= 0");
        if (!(BetaScale > 0)) p.Add($"Optimizer:BetaScale is {F(BetaScale)}; it must be > 0");
        if (FractionDigits is < 2 or > 12) p.Add($"Optimizer:FractionDigits is {FractionDigits}; it must be 2..12");
        if (TemperatureDigits is < 0 or > 6) p.Add($"Optimizer:TemperatureDigits is {TemperatureDigits}; it must be 0..6");
        if (TemperatureMin is { } lo && TemperatureMax is { } hi && !(lo > 0 && lo <= hi))
            p.Add($"Optimizer:TemperatureMin..TemperatureMax is {F(lo)}..{F(hi)} K; expected 0 < min <= max");
        if (TemperatureMin.HasValue != TemperatureMax.HasValue)
            p.Add("Optimizer:TemperatureMin and Optimizer:TemperatureMax must be given together");
        return p;
    }
}
