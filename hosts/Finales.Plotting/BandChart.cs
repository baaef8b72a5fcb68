using Finales.Plotting.Figures;

namespace Finales.Plotting;

/// <summary>Options of <see cref="Charts.LogBands"/>.</summary>
/// <param name="Title">Text above the plot.</param>
/// <param name="XLabel">Text under the x axis.</param>
/// <param name="XTicks">x values to label (those beyond the last point are left out).</param>
/// <param name="DataMin">Smallest positive value the data holds (e.g. over every raw curve, not only the band);
/// null = the smallest positive band value.</param>
/// <param name="DataMax">Largest value the data holds; null = the largest band value.</param>
public sealed record BandOptions(string Title, string XLabel, IReadOnlyList<int> XTicks, double? DataMin = null, double? DataMax = null);

public static partial class Charts
{
    /// <summary>
    /// Median curves with a shaded band each (e.g. interquartile range) on a log10 y axis, 640 x 400, one colour per
    /// series and a legend. x runs from 1 to the largest point; y from the smallest positive value (at least 1e-8) to
    /// at least ten times it, a tick at every decade; values at or below the bottom are drawn on it.
    /// </summary>
    public static string LogBands(IReadOnlyList<BandSeries> series, BandOptions options)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(options);
        return Figure.LogBands(
            series.Select(s => s.Label).ToArray(),
            series.Select(s => s.Points.Select(p => p.X).ToArray()).ToArray(),
            series.Select(s => s.Points.Select(p => p.Median).ToArray()).ToArray(),
            series.Select(s => s.Points.Select(p => p.Low).ToArray()).ToArray(),
            series.Select(s => s.Points.Select(p => p.High).ToArray()).ToArray(),
            options.Title, options.XLabel, options.XTicks.ToArray(), options.DataMin, options.DataMax);
    }
}
