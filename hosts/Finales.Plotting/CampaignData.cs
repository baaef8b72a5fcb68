using System.Globalization;
using System.Text.Json;
using Finales.Core;
using Finales.Core.Interop;

namespace Finales.Plotting;

/// <summary>One current result with its request, as stored (bodies are the FINALES2 JSON as posted).</summary>
/// <param name="Request">The request's id.</param>
/// <param name="RequestOrder">Orders the requests as posted (the store's sequence number, or a list index).</param>
/// <param name="Quantity">The result's quantity.</param>
/// <param name="Method">The result's method.</param>
/// <param name="Requester">The tenant that posted the request.</param>
/// <param name="RequestBody">The request's JSON body.</param>
/// <param name="ResultBody">The result's JSON body.</param>
public sealed record CampaignRecord(Guid Request, long RequestOrder, string Quantity, string Method, Guid Requester, string RequestBody, string ResultBody);

/// <summary>Where a conductivity comes from: the lab cell (two_electrode), the model (polynomial_interpolation) or MD (molecular_dynamics).</summary>
public enum CampaignSource { Lab, Model, Simulation }

/// <summary>The requested and the achieved mole fraction of one chemical in one density measurement.</summary>
public sealed record CompositionPoint(Guid Request, string Chemical, double Requested, double Achieved);

/// <summary>
/// A conductivity (S/m) at its LiPF6 mole fraction (achieved when the result says) and the request's temperature (K).
/// Lab and model: a successful result (meta.success true), the mean of its finite values; <c>Error</c> the sample
/// standard deviation of two or more values, else null. MD (the demo report's rule): the first value, whatever
/// meta.success says (the MD tenant posts a failure with no values), when that value is a finite number and the
/// formulation names LiPF6; <c>Error</c> the absolute Einstein-Helfand standard error
/// (<c>run_info.analysis.conductivity_einstein_helfand_err_s_per_m</c>) when it is a finite number, else null;
/// <c>ResultTemperature</c> the result's <c>conductivity.temperature</c> when it is a finite number.
/// </summary>
public sealed record ConductivityPoint(Guid Request, CampaignSource Source, double LiPF6, double Value, double? Error, double? Temperature = null, double? ResultTemperature = null);

/// <summary>A successful density (g/cm^3) and viscosity (mPa s) of one lab measurement.</summary>
public sealed record DensityViscosityPoint(Guid Request, double Density, double Viscosity);

/// <summary>The requester's <see cref="Index"/>-th lab conductivity (in request order) and the highest so far.</summary>
public sealed record ProgressPoint(int Index, Guid Request, double Value, double BestSoFar);

/// <summary>The optimizer progress of one requesting tenant.</summary>
public sealed record ProgressSeries(Guid Requester, IReadOnlyList<ProgressPoint> Points);

/// <summary>
/// One g(r) of one RDF result: the pair, the composition it was simulated at (readable, and its LiPF6 mole fraction when
/// the formulation names LiPF6), radius (A) and g: equally long, non-empty lists of finite numbers.
/// </summary>
public sealed record RdfCurve(Guid Request, string Pair, string Composition, IReadOnlyList<double> Radius, IReadOnlyList<double> G, double? LiPF6 = null);

/// <summary>
/// One measured quantity of one result, as the optimizer joins it into points: the request's formulation (mole
/// fractions above 0, keyed by SMILES: the core's for a chemical it knows, else the entry's SMILES, InChIKey or key)
/// and temperature; <c>Value</c> the mean of the values (null when there are none); <c>Success</c> meta.success with at
/// least one value; <c>Rating</c> meta.rating.
/// </summary>
public sealed record CampaignObservation(
    Guid Request, CampaignSource Source, string Quantity, IReadOnlyDictionary<string, double> FormulationBySmiles, double? Temperature, double? Value,
    bool Success, double? Rating);

/// <summary>
/// The campaign's figure data; <see cref="Unreadable"/> counts results whose bodies did not have the expected shape,
/// <see cref="SimulationSkipped"/> the MD conductivity results that give no point, <see cref="RdfSkipped"/> the RDF
/// results without a curve of a Li pair (<see cref="CampaignFigures.LiCurves"/>). <see cref="Observations"/> are the
/// lab, model and MD measurements (density, viscosity, conductivity) in record order.
/// </summary>
public sealed record CampaignData(
    IReadOnlyList<CompositionPoint> Compositions, IReadOnlyList<ConductivityPoint> Conductivity, IReadOnlyList<DensityViscosityPoint> DensityViscosity,
    double? PearsonR, IReadOnlyList<ProgressSeries> Progress, IReadOnlyList<RdfCurve> Rdfs, int Unreadable)
{
    /// <summary>MD conductivity results (conductivity/molecular_dynamics) that give no point.</summary>
    public int SimulationSkipped { get; init; }

    /// <summary>RDF results (radial_density_function) without a usable curve of a Li pair at a known LiPF6 fraction.</summary>
    public int RdfSkipped { get; init; }

    /// <summary>The measurements the optimizer joins into points, in record order.</summary>
    public IReadOnlyList<CampaignObservation> Observations { get; init; } = [];
}

/// <summary>
/// The campaign figures' data from requests and their current results (the demo report's figures, shared by the
/// console's campaign view): pure, records in, figure data out. Chemicals are named by the core's table
/// (<see cref="ScienceApi.TryFindChemical"/>), formulations read by the core's codec (<see cref="FormulationJson"/>).
/// </summary>
public static class CampaignFigures
{
    /// <summary>The capabilities the figures read: (quantity, method).</summary>
    public static readonly IReadOnlyList<(string Quantity, string Method)> Capabilities =
    [
        ("density", "vibrating_tube_densimetry"),
        ("conductivity", "two_electrode"),
        ("conductivity", "polynomial_interpolation"),
        ("conductivity", "molecular_dynamics"),
        ("radial_density_function", "molacular_dynamics"),
    ];

    /// <summary>The pairs a Li RDF curve is chosen from, per result, in this order: Li-O (carbonyl, all-atom model), Li-P
    /// (Li and the anion, primitive model), else the first pair of Li with anything.</summary>
    public static readonly IReadOnlyList<string> LiPairPreference = ["Li-O", "Li-P", "Li-"];

    /// <summary>The figure data of <paramref name="records"/> (any order; progress follows <see cref="CampaignRecord.RequestOrder"/>).</summary>
    public static CampaignData Extract(IEnumerable<CampaignRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var compositions = new List<CompositionPoint>();
        var conductivity = new List<(ConductivityPoint Point, CampaignRecord Record)>();
        var dv = new List<DensityViscosityPoint>();
        var rdfs = new List<RdfCurve>();
        var observations = new List<CampaignObservation>();
        int unreadable = 0, simulationSkipped = 0, rdfSkipped = 0;
        foreach (var record in records)
        {
            try
            {
                using var request = JsonDocument.Parse(record.RequestBody);
                using var result = JsonDocument.Parse(record.ResultBody);
                var parameters = Member(Member(request.RootElement, "parameters"), record.Method);
                var entries = Entries(Member(parameters, "formulation"));
                var requested = Fractions(entries);
                var temperature = Number(Member(parameters, "temperature"));
                var data = Member(result.RootElement, "data");
                var runFormulation = Member(Member(data, "run_info"), "formulation");
                var achieved = runFormulation is { ValueKind: JsonValueKind.Array } ? Fractions(Entries(runFormulation)) : requested;
                double? lipf6 = achieved.TryGetValue("LiPF6", out var salt) && double.IsFinite(salt) ? salt : null;
                CampaignObservation Observation(CampaignSource source, string quantity)
                {
                    var q = Member(data, quantity);
                    var values = Value(data, quantity, requireSuccess: false);
                    return new CampaignObservation(record.Request, source, quantity, BySmiles(entries), temperature, values?.Mean,
                        values is not null && Member(Member(q, "meta"), "success") is { ValueKind: JsonValueKind.True }, Number(Member(Member(q, "meta"), "rating")));
                }
                switch (record.Quantity, record.Method)
                {
                    case ("density", "vibrating_tube_densimetry"):
                        foreach (var chemical in requested.Keys.Union(achieved.Keys).Order(StringComparer.Ordinal))
                            compositions.Add(new CompositionPoint(record.Request, chemical, requested.GetValueOrDefault(chemical), achieved.GetValueOrDefault(chemical)));
                        if (Value(data, "density") is { } d && Value(data, "viscosity") is { } v) dv.Add(new DensityViscosityPoint(record.Request, d.Mean, v.Mean));
                        observations.Add(Observation(CampaignSource.Lab, "density"));
                        observations.Add(Observation(CampaignSource.Lab, "viscosity"));
                        break;
                    case ("conductivity", var method) when SourceOf(method) is { } source:
                        observations.Add(Observation(source, "conductivity"));
                        if (source == CampaignSource.Simulation)
                        {
                            if (SimulationPoint(record.Request, data, lipf6, temperature) is { } md) conductivity.Add((md, record));
                            else simulationSkipped++;
                            break;
                        }
                        if (Value(data, "conductivity") is not { } k) break;
                        conductivity.Add((new ConductivityPoint(record.Request, source, achieved.GetValueOrDefault("LiPF6"), k.Mean, k.Deviation, temperature), record));
                        break;
                    case ("radial_density_function", _):
                        var curves = Rdfs(record.Request, data, Readable(achieved), lipf6).ToList();
                        rdfs.AddRange(curves);
                        if (LiCurve(curves) is null) rdfSkipped++;
                        break;
                }
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
            {
                unreadable++;
            }
        }
        var progress = conductivity.Where(c => c.Point.Source == CampaignSource.Lab)
            .GroupBy(c => c.Record.Requester)
            .OrderBy(g => g.Key)
            .Select(g =>
            {
                var best = double.NegativeInfinity;
                var points = g.OrderBy(c => c.Record.RequestOrder).Select((c, i) =>
                {
                    best = Math.Max(best, c.Point.Value);
                    return new ProgressPoint(i + 1, c.Point.Request, c.Point.Value, best);
                }).ToList();
                return new ProgressSeries(g.Key, points);
            }).ToList();
        return new CampaignData(compositions, conductivity.Select(c => c.Point).ToList(), dv,
            Pearson(dv.Select(p => p.Density).ToList(), dv.Select(p => p.Viscosity).ToList()), progress, rdfs, unreadable)
        {
            SimulationSkipped = simulationSkipped,
            RdfSkipped = rdfSkipped,
            Observations = observations,
        };
    }

    /// <summary>One curve per RDF result (in result order): the first <see cref="LiPairPreference"/> pair it has, at a
    /// known LiPF6 fraction; results without one are counted in <see cref="CampaignData.RdfSkipped"/>.</summary>
    public static IReadOnlyList<RdfCurve> LiCurves(CampaignData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.Rdfs.GroupBy(c => c.Request).Select(LiCurve).OfType<RdfCurve>().ToList();
    }

    private static RdfCurve? LiCurve(IEnumerable<RdfCurve> curvesOfOneResult)
    {
        var usable = curvesOfOneResult.Where(c => c.LiPF6 is not null).ToList();
        return LiPairPreference.Select(p => usable.FirstOrDefault(c => c.Pair.StartsWith(p, StringComparison.Ordinal))).FirstOrDefault(c => c is not null);
    }

    /// <summary>An MD conductivity under the report's rule (see <see cref="ConductivityPoint"/>), or null.</summary>
    private static ConductivityPoint? SimulationPoint(Guid request, JsonElement? data, double? lipf6, double? temperature)
    {
        if (lipf6 is not { } salt) return null;
        var q = Member(data, "conductivity");
        if (Member(q, "values") is not { ValueKind: JsonValueKind.Array } values || values.GetArrayLength() == 0 || Number(values[0]) is not { } value) return null;
        var error = Number(Member(Member(Member(data, "run_info"), "analysis"), "conductivity_einstein_helfand_err_s_per_m"));
        return new ConductivityPoint(request, CampaignSource.Simulation, salt, value, error is { } e ? Math.Abs(e) : null, temperature, Number(Member(q, "temperature")));
    }

    /// <summary>The source of a conductivity method, or null for a method the figure does not show.</summary>
    public static CampaignSource? SourceOf(string method) => method switch
    {
        "two_electrode" => CampaignSource.Lab,
        "polynomial_interpolation" => CampaignSource.Model,
        "molecular_dynamics" => CampaignSource.Simulation,
        _ => null,
    };

    /// <summary>The conductivity method of a source (the inverse of <see cref="SourceOf"/>).</summary>
    public static string MethodOf(CampaignSource source) => source switch
    {
        CampaignSource.Lab => "two_electrode",
        CampaignSource.Model => "polynomial_interpolation",
        CampaignSource.Simulation => "molecular_dynamics",
        _ => throw new ArgumentOutOfRangeException(nameof(source), source, "not a campaign source"),
    };

    /// <summary>Pearson's r; null for fewer than 3 pairs, a constant series or lists of different lengths.</summary>
    public static double? Pearson(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var n = x.Count;
        if (n < 3 || y.Count != n) return null;
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < n; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) * (x[i] - mx); syy += (y[i] - my) * (y[i] - my); }
        if (sxx == 0 || syy == 0) return null;
        var r = sxy / Math.Sqrt(sxx * syy);
        return double.IsFinite(r) ? Math.Clamp(r, -1.0, 1.0) : null;
    }

    /// <summary>"LiPF6 0.05, EC 0.45, ..." (fractions above 0, by name).</summary>
    public static string Readable(IReadOnlyDictionary<string, double> fractions) =>
        string.Join(", ", fractions.Where(kv => kv.Value > 0).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value.ToString("G4", CultureInfo.InvariantCulture)}"));

    private static JsonElement? Member(JsonElement? e, string name) =>
        e is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(name, out var m) ? m : null;

    /// <summary>A finite number, else null.</summary>
    private static double? Number(JsonElement? e) =>
        e is { ValueKind: JsonValueKind.Number } n && n.TryGetDouble(out var x) && double.IsFinite(x) ? x : null;

    /// <summary>The entries of a formulation list read by the core's codec (none when there is no list); throws on a malformed list.</summary>
    private static IReadOnlyList<Finales2Entry> Entries(JsonElement? formulation)
    {
        if (formulation is not { ValueKind: JsonValueKind.Array } array) return [];
        if (!FormulationJson.TryDecode(array, out var entries, out var error)) throw new InvalidOperationException(error);
        return entries;
    }

    /// <summary>Mole fractions by chemical name (the core's name when it knows the chemical, else its key).</summary>
    private static Dictionary<string, double> Fractions(IReadOnlyList<Finales2Entry> entries)
    {
        var d = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            var name = ScienceApi.TryFindChemical(e.Key, out var c) ? c.Name : e.Key;
            d[name] = d.GetValueOrDefault(name) + e.Fraction;
        }
        return d;
    }

    /// <summary>Mole fractions above 0 by SMILES (the core's for a chemical it knows, else the entry's SMILES, InChIKey or key).</summary>
    private static Dictionary<string, double> BySmiles(IReadOnlyList<Finales2Entry> entries)
    {
        var d = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            var smiles = ScienceApi.TryFindChemical(e.Key, out var c) ? c.Smiles : e.Smiles ?? e.InChIKey ?? e.Key;
            d[smiles] = d.GetValueOrDefault(smiles) + e.Fraction;
        }
        return d.Where(kv => kv.Value > 0).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
    }

    /// <summary>The mean (and the sample standard deviation of two or more) of data.{quantity}.values' finite numbers,
    /// when there is one and (unless <paramref name="requireSuccess"/> is false) meta.success is true.</summary>
    private static (double Mean, double? Deviation)? Value(JsonElement? data, string quantity, bool requireSuccess = true)
    {
        var q = Member(data, quantity);
        if (requireSuccess && Member(Member(q, "meta"), "success") is not { ValueKind: JsonValueKind.True }) return null;
        if (Member(q, "values") is not { ValueKind: JsonValueKind.Array } values) return null;
        var xs = values.EnumerateArray().Select(v => Number(v)).OfType<double>().ToList();
        if (xs.Count == 0) return null;
        var mean = xs.Average();
        double? sd = xs.Count > 1 ? Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1)) : null;
        return (mean, sd);
    }

    /// <summary>
    /// The curves of an RDFOutput ({radius, pair_title, RDF}) of a result whose meta.success is not false: each pair whose
    /// g(r) is as long as the radius, not empty, and every radius and g a finite number (the demo report's rule; a
    /// malformed pair is left out, never cut to length).
    /// </summary>
    private static IEnumerable<RdfCurve> Rdfs(Guid request, JsonElement? data, string composition, double? lipf6)
    {
        if (Member(Member(data, "meta"), "success") is { ValueKind: JsonValueKind.False }) yield break;
        if (Member(data, "radius") is not { ValueKind: JsonValueKind.Array } radius || Member(data, "RDF") is not { ValueKind: JsonValueKind.Array } rdf) yield break;
        var r = radius.EnumerateArray().Select(v => Number(v)).ToList();
        if (r.Count == 0 || r.Any(x => x is null)) yield break;
        var titles = Member(data, "pair_title") is { ValueKind: JsonValueKind.Array } t
            ? t.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString() ?? "" : "").ToList() : [];
        var i = 0;
        foreach (var g in rdf.EnumerateArray())
        {
            var ys = g.ValueKind == JsonValueKind.Array ? g.EnumerateArray().Select(v => Number(v)).ToList() : [];
            if (ys.Count == r.Count && ys.All(y => y is not null))
                yield return new RdfCurve(request, i < titles.Count ? titles[i] : $"pair {i + 1}", composition, r.Select(x => x!.Value).ToList(), ys.Select(y => y!.Value).ToList(), lipf6);
            i++;
        }
    }
}
