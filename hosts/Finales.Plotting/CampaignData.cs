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
/// A successful conductivity (S/m, the mean of its values) at its LiPF6 mole fraction (achieved when the result says);
/// <c>Error</c> is the MD result's Einstein-Helfand standard error, else the standard deviation of several values, else null.
/// </summary>
public sealed record ConductivityPoint(Guid Request, CampaignSource Source, double LiPF6, double Value, double? Error);

/// <summary>A successful density (g/cm^3) and viscosity (mPa s) of one lab measurement.</summary>
public sealed record DensityViscosityPoint(Guid Request, double Density, double Viscosity);

/// <summary>The requester's <see cref="Index"/>-th lab conductivity (in request order) and the highest so far.</summary>
public sealed record ProgressPoint(int Index, Guid Request, double Value, double BestSoFar);

/// <summary>The optimizer progress of one requesting tenant.</summary>
public sealed record ProgressSeries(Guid Requester, IReadOnlyList<ProgressPoint> Points);

/// <summary>One g(r) of one RDF result: the pair, the composition it was simulated at, radius (A) and g.</summary>
public sealed record RdfCurve(Guid Request, string Pair, string Composition, IReadOnlyList<double> Radius, IReadOnlyList<double> G);

/// <summary>The campaign's figure data; <see cref="Unreadable"/> counts results whose bodies did not have the expected shape.</summary>
public sealed record CampaignData(
    IReadOnlyList<CompositionPoint> Compositions, IReadOnlyList<ConductivityPoint> Conductivity, IReadOnlyList<DensityViscosityPoint> DensityViscosity,
    double? PearsonR, IReadOnlyList<ProgressSeries> Progress, IReadOnlyList<RdfCurve> Rdfs, int Unreadable);

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

    /// <summary>The figure data of <paramref name="records"/> (any order; progress follows <see cref="CampaignRecord.RequestOrder"/>).</summary>
    public static CampaignData Extract(IEnumerable<CampaignRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var compositions = new List<CompositionPoint>();
        var conductivity = new List<(ConductivityPoint Point, CampaignRecord Record)>();
        var dv = new List<DensityViscosityPoint>();
        var rdfs = new List<RdfCurve>();
        var unreadable = 0;
        foreach (var record in records)
        {
            try
            {
                using var request = JsonDocument.Parse(record.RequestBody);
                using var result = JsonDocument.Parse(record.ResultBody);
                var parameters = Member(Member(request.RootElement, "parameters"), record.Method);
                var requested = Fractions(Member(parameters, "formulation"));
                var data = Member(result.RootElement, "data");
                var runFormulation = Member(Member(data, "run_info"), "formulation");
                var achieved = runFormulation is { ValueKind: JsonValueKind.Array } ? Fractions(runFormulation) : requested;
                switch (record.Quantity, record.Method)
                {
                    case ("density", "vibrating_tube_densimetry"):
                        foreach (var chemical in requested.Keys.Union(achieved.Keys).Order(StringComparer.Ordinal))
                            compositions.Add(new CompositionPoint(record.Request, chemical, requested.GetValueOrDefault(chemical), achieved.GetValueOrDefault(chemical)));
                        if (Value(data, "density") is { } d && Value(data, "viscosity") is { } v) dv.Add(new DensityViscosityPoint(record.Request, d.Mean, v.Mean));
                        break;
                    case ("conductivity", var method) when SourceOf(method) is { } source:
                        if (Value(data, "conductivity") is not { } k) break;
                        var error = source == CampaignSource.Simulation && Member(Member(Member(data, "run_info"), "analysis"), "conductivity_einstein_helfand_err_s_per_m") is { ValueKind: JsonValueKind.Number } e
                            ? e.GetDouble() : k.Deviation;
                        conductivity.Add((new ConductivityPoint(record.Request, source, achieved.GetValueOrDefault("LiPF6"), k.Mean, error is { } x && double.IsFinite(x) ? x : null), record));
                        break;
                    case ("radial_density_function", "molacular_dynamics"):
                        rdfs.AddRange(Rdfs(record.Request, data, Readable(achieved)));
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
            Pearson(dv.Select(p => p.Density).ToList(), dv.Select(p => p.Viscosity).ToList()), progress, rdfs, unreadable);
    }

    /// <summary>The source of a conductivity method, or null for a method the figure does not show.</summary>
    public static CampaignSource? SourceOf(string method) => method switch
    {
        "two_electrode" => CampaignSource.Lab,
        "polynomial_interpolation" => CampaignSource.Model,
        "molecular_dynamics" => CampaignSource.Simulation,
        _ => null,
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

    /// <summary>Mole fractions by chemical name (the core's name when it knows the chemical, else its key); throws on a malformed list.</summary>
    private static Dictionary<string, double> Fractions(JsonElement? formulation)
    {
        var d = new Dictionary<string, double>(StringComparer.Ordinal);
        if (formulation is not { ValueKind: JsonValueKind.Array } array) return d;
        if (!FormulationJson.TryDecode(array, out var entries, out var error)) throw new InvalidOperationException(error);
        foreach (var e in entries)
        {
            var name = ScienceApi.TryFindChemical(e.Key, out var c) ? c.Name : e.Key;
            d[name] = d.GetValueOrDefault(name) + e.Fraction;
        }
        return d;
    }

    /// <summary>The mean (and the sample standard deviation of two or more) of data.{quantity}.values, when meta.success is true and values are finite.</summary>
    private static (double Mean, double? Deviation)? Value(JsonElement? data, string quantity)
    {
        var q = Member(data, quantity);
        if (Member(Member(q, "meta"), "success") is not { ValueKind: JsonValueKind.True }) return null;
        if (Member(q, "values") is not { ValueKind: JsonValueKind.Array } values) return null;
        var xs = values.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.Number).Select(v => v.GetDouble()).Where(double.IsFinite).ToList();
        if (xs.Count == 0) return null;
        var mean = xs.Average();
        double? sd = xs.Count > 1 ? Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1)) : null;
        return (mean, sd);
    }

    /// <summary>The curves of an RDFOutput ({radius, pair_title, RDF}); a successful result only (meta.success not false).</summary>
    private static IEnumerable<RdfCurve> Rdfs(Guid request, JsonElement? data, string composition)
    {
        if (Member(Member(data, "meta"), "success") is { ValueKind: JsonValueKind.False }) yield break;
        if (Member(data, "radius") is not { ValueKind: JsonValueKind.Array } radius || Member(data, "RDF") is not { ValueKind: JsonValueKind.Array } rdf) yield break;
        var r = radius.EnumerateArray().Select(v => v.GetDouble()).ToList();
        var titles = Member(data, "pair_title") is { ValueKind: JsonValueKind.Array } t ? t.EnumerateArray().Select(v => v.GetString() ?? "").ToList() : [];
        var i = 0;
        foreach (var g in rdf.EnumerateArray())
        {
            var ys = g.EnumerateArray().Select(v => v.GetDouble()).ToList();
            var n = Math.Min(r.Count, ys.Count);
            if (n > 0) yield return new RdfCurve(request, i < titles.Count ? titles[i] : $"pair {i + 1}", composition, r.Take(n).ToList(), ys.Take(n).ToList());
            i++;
        }
    }
}
