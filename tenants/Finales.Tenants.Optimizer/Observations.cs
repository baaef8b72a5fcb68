using System.Globalization;
using System.Text.Json;
using Finales.Client;
using Finales.Core;
using Finales.Core.Interop;
using Finales.Optimizer;
using Finales.Optimizer.Interop;

namespace Finales.Tenants.Optimizer;

/// <summary>A chemical as requests name it: canonical key (InChIKey of a known chemical), SMILES and InChIKey.</summary>
public sealed record ChemicalRef(string Key, string Smiles, string InChIKey);

/// <summary>
/// Formulation keys: chemicals by canonical key (the InChIKey of a chemical the core knows, found by SMILES, InChIKey or
/// name; otherwise the SMILES as written), fractions rounded to <c>FractionDigits</c>, temperature to
/// <c>TemperatureDigits</c>. Two requests with the same key ask for the same experiment.
/// </summary>
public static class Formulations
{
    private static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
        && !string.IsNullOrWhiteSpace(v.GetString()) ? v.GetString()!.Trim() : null;

    /// <summary>The canonical key of a <c>chemical</c> object ({SMILES, InChIKey, name}); null when it names nothing
    /// (the core's codec, <see cref="FormulationJson.ChemicalKey"/>).</summary>
    public static string? KeyOf(JsonElement chemical) => FormulationJson.ChemicalKey(chemical);

    /// <summary>The chemical reference of an object, completed from the core's table for known chemicals.</summary>
    public static ChemicalRef? RefOf(JsonElement chemical)
    {
        var key = KeyOf(chemical);
        if (key is null) return null;
        return ScienceApi.TryFindChemical(key, out var c)
            ? new ChemicalRef(key, c.Smiles, c.InChIKey)
            : new ChemicalRef(key, Text(chemical, "SMILES") ?? key, Text(chemical, "InChIKey") ?? key);
    }

    /// <summary>Reads a FINALES2 formulation list ([{chemical, fraction, fraction_type}]) into canonical key -&gt; mole
    /// fraction (zero fractions dropped, a chemical named twice summed) with the core's codec
    /// (<see cref="FormulationJson.TryDecodeMoleFractions"/>). False with a message naming every refused entry.</summary>
    public static bool TryParse(JsonElement formulation, out Dictionary<string, double> fractions, out string error)
    {
        var ok = FormulationJson.TryDecodeMoleFractions(formulation, DuplicateChemicalPolicy.Sum, out var decoded, out error);
        fractions = new Dictionary<string, double>(decoded, StringComparer.Ordinal);
        return ok;
    }

    /// <summary>Fractions rounded to <paramref name="digits"/> decimals (zeros dropped).</summary>
    public static Dictionary<string, double> Round(IReadOnlyDictionary<string, double> fractions, int digits) =>
        fractions.Select(kv => (kv.Key, V: Math.Round(kv.Value, digits, MidpointRounding.AwayFromZero)))
            .Where(p => p.V > 0).ToDictionary(p => p.Key, p => p.V, StringComparer.Ordinal);

    /// <summary>The point key: "key=fraction;..." (sorted by key, rounded) + "@T": the core's one point key
    /// (<see cref="ScienceApi.PointKey"/>).</summary>
    public static string PointKey(IReadOnlyDictionary<string, double> fractions, double temperature, int fractionDigits, int temperatureDigits) =>
        ScienceApi.PointKey(fractions, temperature, fractionDigits, temperatureDigits);
}

/// <summary>One objective value read from one result, at the point of its parameters.</summary>
public sealed record ObjectiveValue(
    string Objective, string PointKey, IReadOnlyDictionary<string, double> Formulation, double Temperature,
    double Value, double Rating, bool Success, Guid ResultId, string RequestId);

/// <summary>A (formulation, temperature) point with the values of every objective read for it.</summary>
public sealed record JoinedPoint(
    string PointKey, IReadOnlyDictionary<string, double> Formulation, double Temperature,
    IReadOnlyDictionary<string, double> Values, bool Failed, bool Complete);

/// <summary>What <see cref="ResultReader.Extract"/> read, and how many results it left out and why.</summary>
public sealed record ExtractedResults(IReadOnlyList<ObjectiveValue> Values, int Deleted, int BelowMinRating, IReadOnlyList<string> Unreadable);

/// <summary>Reads objective values out of FINALES2 results (pure: no IO).</summary>
public static class ResultReader
{
    /// <summary>The element at a dotted path of <paramref name="root"/> (array indices allowed), if present and not null.</summary>
    public static bool TryPath(JsonElement root, string path, out JsonElement value)
    {
        value = root;
        foreach (var seg in path.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty(seg, out var next)) value = next;
            else if (value.ValueKind == JsonValueKind.Array && int.TryParse(seg, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < value.GetArrayLength()) value = value[i];
            else return false;
        }
        return value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined);
    }

    /// <summary>The aggregated number at <c>path</c>: a number, or a list of numbers reduced by mean|median|first|last.
    /// NaN when absent or empty.</summary>
    public static double Aggregate(JsonElement data, string path, string aggregate)
    {
        if (!TryPath(data, path, out var v)) return double.NaN;
        if (v.ValueKind == JsonValueKind.Number) return v.GetDouble();
        if (v.ValueKind != JsonValueKind.Array) return double.NaN;
        var xs = v.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.Number).Select(x => x.GetDouble()).Where(double.IsFinite).ToArray();
        if (xs.Length == 0) return double.NaN;
        switch (aggregate)
        {
            case "first": return xs[0];
            case "last": return xs[^1];
            case "median":
                Array.Sort(xs);
                return xs.Length % 2 == 1 ? xs[xs.Length / 2] : 0.5 * (xs[xs.Length / 2 - 1] + xs[xs.Length / 2]);
            default: return xs.Average();
        }
    }

    /// <summary>
    /// The objective values of <paramref name="results"/>: for each result (not deleted) of an objective's quantity and
    /// method, the value at the objective's path, success and rating from the <c>meta</c> next to it; the point from the
    /// result's <c>parameters.&lt;method&gt;</c> (else its request's), the temperature falling back to the value's
    /// <c>temperature</c>. Results rated below <paramref name="minRating"/> are left out (unrated ones are kept).
    /// </summary>
    public static ExtractedResults Extract(
        IEnumerable<ResultInfo> results, IReadOnlyList<ObjectiveOptions> objectives,
        IReadOnlyDictionary<string, RequestInfo> requests, double minRating, int fractionDigits, int temperatureDigits)
    {
        var values = new List<ObjectiveValue>();
        var unreadable = new List<string>();
        int deleted = 0, low = 0;
        foreach (var r in results)
        {
            var mine = objectives.Where(o => o.Quantity == r.Quantity && o.Method == r.Method).ToList();
            if (mine.Count == 0) continue;
            if (r.Status == "deleted") { deleted++; continue; }
            var parameters = default(JsonElement);
            if (r.Result.TryGetProperty("parameters", out var ps) && ps.ValueKind == JsonValueKind.Object && ps.TryGetProperty(r.Method, out var p1)) parameters = p1;
            if (parameters.ValueKind != JsonValueKind.Object && requests.TryGetValue(r.RequestUuid, out var req)
                && req.Parameters.ValueKind == JsonValueKind.Object && req.Parameters.TryGetProperty(r.Method, out var p2)) parameters = p2;
            if (parameters.ValueKind != JsonValueKind.Object || !parameters.TryGetProperty("formulation", out var f))
            { unreadable.Add($"result {r.Uuid:D}: no parameters.{r.Method}.formulation"); continue; }
            if (!Formulations.TryParse(f, out var fractions, out var error)) { unreadable.Add($"result {r.Uuid:D}: {error}"); continue; }
            foreach (var o in mine)
            {
                var t = parameters.TryGetProperty("temperature", out var tv) && tv.ValueKind == JsonValueKind.Number ? tv.GetDouble() : double.NaN;
                if (double.IsNaN(t)) t = Aggregate(r.Data, o.Path[..Math.Max(0, o.Path.LastIndexOf('.'))] + ".temperature", "first");
                if (!double.IsFinite(t)) { unreadable.Add($"result {r.Uuid:D}: no temperature in parameters.{r.Method} or at data.{o.MetaPath.Replace(".meta", ".temperature")}"); continue; }
                var success = !TryPath(r.Data, o.MetaPath + ".success", out var s) || s.ValueKind != JsonValueKind.False;
                var rating = TryPath(r.Data, o.MetaPath + ".rating", out var rt) && rt.ValueKind == JsonValueKind.Number ? rt.GetDouble() : double.NaN;
                if (!double.IsNaN(rating) && rating < minRating) { low++; continue; }
                var value = Aggregate(r.Data, o.Path, o.Aggregate);
                if (success && !double.IsFinite(value))
                {
                    // Data of a quantity that this result does not carry (e.g. a densimeter run without viscosity).
                    if (!TryPath(r.Data, o.Path, out _)) continue;
                    unreadable.Add($"result {r.Uuid:D}: data.{o.Path} holds no finite number");
                    continue;
                }
                var rounded = Formulations.Round(fractions, fractionDigits);
                var tr = Math.Round(t, temperatureDigits, MidpointRounding.AwayFromZero);
                values.Add(new ObjectiveValue(o.EffectiveName, Formulations.PointKey(fractions, t, fractionDigits, temperatureDigits),
                    rounded, tr, success ? value : double.NaN, rating, success, r.Uuid, r.RequestUuid));
            }
        }
        return new ExtractedResults(values, deleted, low, unreadable);
    }

    /// <summary>Joins values per point (repeated measurements averaged, any failure marks the point failed), sorted by
    /// key; Complete when every objective has a successful value. The join is the core's
    /// (<see cref="ScienceApi.JoinByPoint"/>) on the values' formulation and temperature, which <see cref="Extract"/>
    /// already rounded to the configured digits; re-keyed under the finest rule the options allow (12 fraction and 6
    /// temperature digits) they keep exactly the configured points, whose key (<see cref="ObjectiveValue.PointKey"/>)
    /// names the joined point.</summary>
    public static IReadOnlyList<JoinedPoint> Join(IReadOnlyList<ObjectiveValue> values, IReadOnlyList<ObjectiveOptions> objectives) =>
        ScienceApi.JoinByPoint(values, v => v.Formulation, v => v.Temperature, 12, 6)
            .Select(g => g.Items).OrderBy(g => g[0].PointKey, StringComparer.Ordinal).Select(g =>
        {
            var first = g[0];
            var failed = g.Any(v => !v.Success);
            var vals = g.Where(v => v.Success).GroupBy(v => v.Objective).ToDictionary(x => x.Key, x => x.Average(v => v.Value));
            var complete = !failed && objectives.All(o => vals.ContainsKey(o.EffectiveName));
            return new JoinedPoint(first.PointKey, first.Formulation, first.Temperature, vals, failed, complete);
        }).ToList();

    /// <summary>Chimera merits (lower is better) of the complete points, in order; empty when there are none.</summary>
    public static double[] Merits(IReadOnlyList<JoinedPoint> complete, IReadOnlyList<ObjectiveOptions> objectives, out string error)
    {
        error = "";
        if (complete.Count == 0) return [];
        var rows = complete.Select(p => objectives.Select(o => p.Values[o.EffectiveName]).ToArray()).ToArray();
        return OptimizerFacade.TryChimera(rows, objectives.Select(x => x.Tolerance).ToArray(), objectives.Select(x => x.KindValue).ToArray(),
            objectives.Select(x => x.GoalValue).ToArray(), 1e-3, out var merits, out error) ? merits : [];
    }
}
