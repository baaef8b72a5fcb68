using Finales.Plotting.Figures;

namespace Finales.Plotting;

/// <summary>One point of a scatter chart; <see cref="Series"/> picks the colour (and the legend entry);
/// <see cref="YError"/>, when given, is drawn as a symmetric error bar (y +- YError).</summary>
public sealed record ScatterPoint(double X, double Y, int Series, double? YError = null);

/// <summary>Options of <see cref="Charts.Scatter"/>.</summary>
/// <param name="XLabel">Text under the x axis.</param>
/// <param name="YLabel">Text beside the y axis.</param>
/// <param name="Diagonal">Square ranges and a dashed y = x line (requested vs achieved).</param>
/// <param name="Line">Join the points in x order.</param>
/// <param name="Legend">One name per series, in series order; null = no legend.</param>
public sealed record ScatterOptions(string XLabel, string YLabel, bool Diagonal = false, bool Line = false, IReadOnlyList<string>? Legend = null);

/// <summary>One evaluation count of a band chart: the median and the band around it (e.g. quartiles).</summary>
public sealed record BandPoint(int X, double Median, double Low, double High);

/// <summary>A named curve with its band, drawn in one colour.</summary>
public sealed record BandSeries(string Label, IReadOnlyList<BandPoint> Points);

/// <summary>
/// The charts of Finales as HTML fragments drawn by Plotly.NET 6.0.0 (hosts/Finales.Plotting.Figures): a &lt;div&gt;
/// and the &lt;script&gt; that draws the figure into it with the page's global <c>Plotly</c>. The page includes plotly.js
/// once (<see cref="PlotlyJs"/>); a fragment references no URL. Pure: equal data give equal text.
/// </summary>
public static partial class Charts
{
    /// <summary>A scatter (or line) plot, 480 x 360, one trace per series (legend names in series order), error bars
    /// where a point has a <see cref="ScatterPoint.YError"/>; non-finite points are left out, and no finite point at
    /// all gives a "no data" chart.</summary>
    public static string Scatter(IReadOnlyList<ScatterPoint> points, ScatterOptions options)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(options);
        return Figure.Scatter(
            points.Select(p => p.X).ToArray(),
            points.Select(p => p.Y).ToArray(),
            points.Select(p => p.YError ?? double.NaN).ToArray(),
            points.Select(p => p.Series).ToArray(),
            options.Legend?.ToArray()!,
            options.XLabel, options.YLabel, options.Diagonal, options.Line);
    }
}
