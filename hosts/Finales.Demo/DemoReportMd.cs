using System.Globalization;
using System.Text.Json.Nodes;

namespace Finales.Demo;

/// <summary>
/// The MD tenant's results as the report's Figures 7 and 8, read defensively from the stored result data: a point or a
/// curve whose fields are missing, of the wrong type or not finite is left out (and counted by the caller), never
/// guessed. Conductivity is the tenant's Einstein-Helfand value with its standard error
/// (<c>run_info.analysis.conductivity_einstein_helfand_err_s_per_m</c>, docs/md-tenant.md); an RDF is one pair of
/// the corpus <c>RDFOutput</c> (radius, pair_title, RDF[pair][bin]).
/// </summary>
public static class DemoReportMd
{
    /// <summary>The pair Figure 8 shows per composition: Li-O (carbonyl, all-atom model) when present, else Li-P (Li
    /// and the anion, primitive model), else the first pair of Li with anything.</summary>
    public static readonly string[] PairPreference = ["Li-O", "Li-P", "Li-"];

    /// <summary>Figure 7's point of a conductivity/molecular_dynamics result, or null when a field is unusable.</summary>
    public static JsonObject? ConductivityPoint(Guid request, IReadOnlyDictionary<string, double> fractions, JsonNode? data)
    {
        ArgumentNullException.ThrowIfNull(fractions);
        if (!fractions.TryGetValue("LiPF6", out var salt) || !double.IsFinite(salt)) return null;
        var conductivity = At(data, "conductivity");
        if (!TryNumber(At(At(conductivity, "values"), 0), out var value)) return null;
        double? error = TryNumber(At(At(At(data, "run_info"), "analysis"), "conductivity_einstein_helfand_err_s_per_m"), out var e) ? Math.Abs(e) : null;
        double? temperature = TryNumber(At(conductivity, "temperature"), out var t) ? t : null;
        return new JsonObject
        {
            ["request"] = request.ToString("D"), ["lipf6"] = salt, ["temperature"] = temperature, ["value"] = value, ["error"] = error,
        };
    }

    /// <summary>Figure 8's curve of a radial_density_function result (the <see cref="PairPreference"/> pair), or null
    /// when a field is unusable: radius and the pair's g(r) must be equally long arrays of finite numbers.</summary>
    public static JsonObject? RdfCurve(Guid request, IReadOnlyDictionary<string, double> fractions, JsonNode? data)
    {
        ArgumentNullException.ThrowIfNull(fractions);
        if (!fractions.TryGetValue("LiPF6", out var salt) || !double.IsFinite(salt)) return null;
        if (At(data, "radius") is not JsonArray radius || At(data, "pair_title") is not JsonArray titles || At(data, "RDF") is not JsonArray rdf) return null;
        var names = titles.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : "").ToList();
        var index = PairPreference.Select(p => names.FindIndex(n => n.StartsWith(p, StringComparison.Ordinal))).FirstOrDefault(i => i >= 0, -1);
        if (index < 0 || index >= rdf.Count || rdf[index] is not JsonArray g || g.Count != radius.Count || g.Count == 0) return null;
        var rs = new JsonArray();
        var gs = new JsonArray();
        for (var i = 0; i < g.Count; i++)
        {
            if (!TryNumber(radius[i], out var r) || !TryNumber(g[i], out var gi)) return null;
            rs.Add(r);
            gs.Add(gi);
        }
        return new JsonObject { ["request"] = request.ToString("D"), ["lipf6"] = salt, ["pair"] = names[index], ["radius"] = rs, ["g"] = gs };
    }

    /// <summary>A legend label of a composition: "x(LiPF6) = 0.09".</summary>
    public static string Label(double salt) => "x(LiPF6) = " + salt.ToString("0.###", CultureInfo.InvariantCulture);

    private static JsonNode? At(JsonNode? node, string key) => node is JsonObject o && o.TryGetPropertyValue(key, out var v) ? v : null;

    private static JsonNode? At(JsonNode? node, int index) => node is JsonArray a && index >= 0 && index < a.Count ? a[index] : null;

    private static bool TryNumber(JsonNode? node, out double value)
    {
        value = double.NaN;
        return node is JsonValue v && v.TryGetValue(out value) && double.IsFinite(value);
    }
}
