using System.Text.Json.Nodes;
using Finales.Core;
using Finales.Optimizer.Interop;

namespace Finales.Demo;

/// <summary>One formulation + temperature with a successful value for every objective of the goal.</summary>
public sealed record CompletePoint(string Key, double[] Objectives);

/// <summary>The numbers the live view and the report share: complete points, Chimera merits, percentiles (Pearson r is the campaign figures' own).</summary>
public static class DemoMetrics
{
    /// <summary>The point key rule of the demo: fractions to 6 decimals (as the demo writes formulations), temperatures
    /// to 0.01 K (the optimizer tenant's default rule).</summary>
    public const int FractionDigits = 6, TemperatureDigits = 2;

    /// <summary>Joins observations per (formulation, temperature) with the core's observation join
    /// (<see cref="ScienceApi.JoinByPoint"/>); keeps points where every objective has a successful value.</summary>
    public static List<CompletePoint> CompletePoints(IEnumerable<ObservationSpec> observations, DemoPreset preset)
    {
        var points = new List<CompletePoint>();
        foreach (var g in ScienceApi.JoinByPoint(observations, o => o.Formulation, o => o.Temperature, FractionDigits, TemperatureDigits))
        {
            var values = preset.Objectives.Select(obj =>
            {
                var xs = g.Items.Where(o => o.Quantity == obj.Name && o.Success && !double.IsNaN(o.Value)).Select(o => o.Value).ToArray();
                return xs.Length == 0 ? double.NaN : xs.Average();
            }).ToArray();
            if (values.All(v => !double.IsNaN(v))) points.Add(new CompletePoint(g.Key, values));
        }
        return points;
    }

    /// <summary>The core's point key (<see cref="ScienceApi.PointKey"/>) under the demo's rule.</summary>
    public static string Key(IReadOnlyDictionary<string, double> formulation, double temperature) =>
        ScienceApi.PointKey(formulation, temperature, FractionDigits, TemperatureDigits);

    /// <summary>Mean of data.{quantity}.values, meta.success and meta.rating of one result.</summary>
    public static (double Value, bool Success, double Rating) Value(JsonNode? data, string quantity)
    {
        var q = data?[quantity];
        var values = (q?["values"] as JsonArray)?.Select(v => v!.GetValue<double>()).ToArray() ?? [];
        var success = q?["meta"]?["success"]?.GetValue<bool>() == true && values.Length > 0;
        var rating = q?["meta"]?["rating"]?.GetValue<double>() ?? double.NaN;
        return (values.Length > 0 ? values.Average() : double.NaN, success, rating);
    }

    /// <summary>Chimera merits (lower is better) of the points under the preset's hierarchy.</summary>
    public static double[] Merits(double[][] objectives, DemoPreset preset)
    {
        if (objectives.Length == 0) return [];
        var o = preset.Objectives;
        if (!OptimizerFacade.TryChimera(objectives, o.Select(x => x.Tolerance).ToArray(), o.Select(x => Enum.Parse<ObjectiveKind>(x.Kind, ignoreCase: true)).ToArray(),
                o.Select(x => Enum.Parse<ObjectiveGoal>(x.Goal, ignoreCase: true)).ToArray(), 0.001, out var merits, out var error))
            throw new InvalidOperationException("Chimera refused the demo's objectives: " + error);
        return merits;
    }

    /// <summary>Nearest-rank percentile; NaN for an empty list.</summary>
    public static double Percentile(IEnumerable<double> values, double p)
    {
        var xs = values.OrderBy(v => v).ToArray();
        if (xs.Length == 0) return double.NaN;
        var rank = (int)Math.Ceiling(p / 100.0 * xs.Length) - 1;
        return xs[Math.Clamp(rank, 0, xs.Length - 1)];
    }
}
