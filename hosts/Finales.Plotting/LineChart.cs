using Finales.Plotting.Figures;

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
    /// <summary>One line per series, 640 x 400, one colour each and a legend entry with its label; non-finite points
    /// are left out (and a series without finite points), no finite point at all gives a "no data" chart.</summary>
    public static string Lines(IReadOnlyList<LineSeries> series, LineOptions options)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(options);
        return Figure.Lines(
            series.Select(s => s.Label).ToArray(),
            series.Select(s => s.X.ToArray()).ToArray(),
            series.Select(s => s.Y.ToArray()).ToArray(),
            options.XLabel, options.YLabel, options.Title!);
    }
}
