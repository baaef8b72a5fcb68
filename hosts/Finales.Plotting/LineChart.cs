namespace Finales.Plotting;

/// <summary>One named curve of a line chart (e.g. the RDF of one composition); x and y have equal length.</summary>
public sealed record LineSeries(string Label, IReadOnlyList<double> X, IReadOnlyList<double> Y);

/// <summary>Options of <see cref="Charts.Lines"/>.</summary>
/// <param name="XLabel">Text under the x axis.</param>
/// <param name="YLabel">Text beside the y axis.</param>
/// <param name="Title">Text above the plot; null = none.</param>
public sealed record LineOptions(string XLabel, string YLabel, string? Title = null);

public static partial class Charts
{
    /// <summary>One line per series, one colour each and a legend entry with its label; non-finite points are left
    /// out, and no finite point at all gives a "no data" chart.</summary>
    public static string Lines(IReadOnlyList<LineSeries> series, LineOptions options)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(options);
        var points = new List<ScatterPoint>();
        for (var k = 0; k < series.Count; k++)
            for (var i = 0; i < Math.Min(series[k].X.Count, series[k].Y.Count); i++)
                points.Add(new ScatterPoint(series[k].X[i], series[k].Y[i], k));
        return Scatter(points, new ScatterOptions(options.XLabel, options.YLabel, Line: true, Legend: series.Select(s => s.Label).ToList()));
    }
}
