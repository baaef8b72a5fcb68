using System.Text.Json;
using Finales.Client;
using Finales.Core;
using Finales.Core.Interop;
using Finales.Optimizer;
using Finales.Optimizer.Interop;

namespace Finales.Tenants.Optimizer;

/// <summary>
/// Formulation keys: chemicals by canonical key (the InChIKey of a chemical the core knows, found by SMILES, InChIKey or
/// name; otherwise the SMILES as written), fractions rounded to <c>FractionDigits</c>, temperature to
/// <c>TemperatureDigits</c>. Two requests with the same key ask for the same experiment.
/// </summary>
public static class Formulations
{
    /// <summary>The canonical key of a <c>chemical</c> object ({SMILES, InChIKey, name}); null when it names nothing
    /// (the core's codec, <see cref="FormulationJson.ChemicalKey"/>).</summary>
    public static string? KeyOf(JsonElement chemical) => FormulationJson.ChemicalKey(chemical);

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

/// <summary>Reads objective values out of FINALES2 results (pure: no IO): the optimizer's
/// <see cref="ObservationReader"/> (F#) does the reading and the join; this class only maps the client's records.</summary>
public static class ResultReader
{
    /// <summary>The element at a dotted path of <paramref name="root"/> (array indices allowed), if present and not null.</summary>
    public static bool TryPath(JsonElement root, string path, out JsonElement value) => ObservationReader.TryPath(root, path, out value);

    /// <summary>The aggregated number at <c>path</c>: a number, or a list of numbers reduced by mean|median|first|last.
    /// NaN when absent or empty.</summary>
    public static double Aggregate(JsonElement data, string path, string aggregate) =>
        ObservationReader.Aggregate(data, path, aggregate) ?? double.NaN;

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
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(objectives);
        ArgumentNullException.ThrowIfNull(requests);
        var parameters = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
        foreach (var (id, r) in requests) parameters.TryAdd(id, r.Parameters);
        var x = ObservationReader.Extract(
            results.Select(r => new ResultSpec
            {
                Id = r.Uuid, RequestId = r.RequestUuid, Quantity = r.Quantity, Method = r.Method, Status = r.Status, Body = r.Result, Data = r.Data,
            }),
            objectives.Select(Source).ToList(), parameters, minRating, fractionDigits, temperatureDigits);
        var values = x.Values.Select(v => new ObjectiveValue(v.Objective, v.PointKey, v.Formulation, v.TemperatureKelvin,
            v.Value ?? double.NaN, v.Rating ?? double.NaN, v.Success, v.ResultId, v.RequestId)).ToList();
        return new ExtractedResults(values, x.Deleted, x.BelowMinRating, x.Unreadable);
    }

    private static ObjectiveSourceSpec Source(ObjectiveOptions o) =>
        new() { Name = o.EffectiveName, Quantity = o.Quantity, Method = o.Method, Path = o.Path, Aggregate = o.Aggregate };

    /// <summary>Joins values per point (repeated measurements averaged, any failure marks the point failed), sorted by
    /// key; Complete when every objective has a successful value: the optimizer's join
    /// (<see cref="ObservationReader.Join"/>, on the core's point key).</summary>
    public static IReadOnlyList<JoinedPoint> Join(IReadOnlyList<ObjectiveValue> values, IReadOnlyList<ObjectiveOptions> objectives)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(objectives);
        var specs = values.Select(v => new ObservedValueSpec
        {
            Objective = v.Objective, PointKey = v.PointKey, Formulation = v.Formulation, TemperatureKelvin = v.Temperature,
            Value = v.Success ? v.Value : null, Rating = double.IsNaN(v.Rating) ? null : v.Rating, Success = v.Success,
            ResultId = v.ResultId, RequestId = v.RequestId,
        }).ToList();
        return ObservationReader.Join(specs, objectives.Select(o => o.EffectiveName).ToList())
            .Select(p => new JoinedPoint(p.PointKey, p.Formulation, p.TemperatureKelvin, p.Values, p.Failed, p.Complete)).ToList();
    }

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
