using System.Text;

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
/// The charts of Finales as self-contained inline SVG (no script, no fonts, no network): a scatter (or line) plot for
/// the demo report and a log-scale median-with-band chart for the optimizer bench. Pure: data in, SVG text out.
/// </summary>
public static partial class Charts
{
    /// <summary>An inline SVG scatter (or line) plot, 460 x 320, with axes and five ticks per axis; non-finite points
    /// are left out, and no finite point at all gives a "no data" chart.</summary>
    public static string Scatter(IReadOnlyList<ScatterPoint> points, ScatterOptions options)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(options);
        const int W = 460, Hh = 320, L = 60, R = 15, T = 15, B = 45;
        var pts = points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        var sb = new StringBuilder($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{Hh}\" viewBox=\"0 0 {W} {Hh}\">");
        if (pts.Count == 0) return sb.Append($"<text x=\"{W / 2}\" y=\"{Hh / 2}\" text-anchor=\"middle\">no data</text></svg>").ToString();
        double x0 = pts.Min(p => p.X), x1 = pts.Max(p => p.X), y0 = pts.Min(p => p.Y), y1 = pts.Max(p => p.Y);
        if (options.Diagonal) { x0 = y0 = Math.Min(x0, y0); x1 = y1 = Math.Max(x1, y1); }
        if (x1 - x0 < 1e-12) { x0 -= 0.5; x1 += 0.5; }
        if (y1 - y0 < 1e-12) { y0 -= 0.5; y1 += 0.5; }
        double padX = (x1 - x0) * 0.05, padY = (y1 - y0) * 0.05;
        x0 -= padX; x1 += padX; y0 -= padY; y1 += padY;
        string Px(double x) => (L + (x - x0) / (x1 - x0) * (W - L - R)).ToString("F1", Svg.Inv);
        string Py(double y) => (Hh - B - (y - y0) / (y1 - y0) * (Hh - T - B)).ToString("F1", Svg.Inv);
        sb.Append($"<rect x=\"{L}\" y=\"{T}\" width=\"{W - L - R}\" height=\"{Hh - T - B}\" fill=\"none\" stroke=\"#888\"/>");
        for (var i = 0; i <= 4; i++)
        {
            var xv = x0 + (x1 - x0) * i / 4; var yv = y0 + (y1 - y0) * i / 4;
            sb.Append($"<text x=\"{Px(xv)}\" y=\"{Hh - B + 14}\" text-anchor=\"middle\">{Svg.Tick(xv, 3)}</text>");
            sb.Append($"<text x=\"{L - 4}\" y=\"{Py(yv)}\" text-anchor=\"end\" dominant-baseline=\"middle\">{Svg.Tick(yv, 3)}</text>");
        }
        sb.Append($"<text x=\"{(L + W - R) / 2}\" y=\"{Hh - 8}\" text-anchor=\"middle\">{Svg.Text(options.XLabel)}</text>");
        sb.Append($"<text transform=\"translate(14 {(T + Hh - B) / 2}) rotate(-90)\" text-anchor=\"middle\">{Svg.Text(options.YLabel)}</text>");
        if (options.Diagonal) sb.Append($"<line x1=\"{Px(x0)}\" y1=\"{Py(x0)}\" x2=\"{Px(x1)}\" y2=\"{Py(x1)}\" stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>");
        if (options.Line && pts.Count > 1)
            sb.Append("<polyline fill=\"none\" stroke=\"#1f77b4\" points=\"").Append(string.Join(" ", pts.OrderBy(p => p.X).Select(p => $"{Px(p.X)},{Py(p.Y)}"))).Append("\"/>");
        foreach (var p in pts)
            sb.Append($"<circle cx=\"{Px(p.X)}\" cy=\"{Py(p.Y)}\" r=\"3.5\" fill=\"{Svg.Colour(Svg.Categorical, p.Series)}\" fill-opacity=\"0.75\"/>");
        if (options.Legend is { } legend)
            for (var i = 0; i < legend.Count; i++)
            {
                var y = T + 12 + i * 15;
                sb.Append($"<circle cx=\"{L + 12}\" cy=\"{y}\" r=\"4\" fill=\"{Svg.Colour(Svg.Categorical, i)}\"/><text x=\"{L + 20}\" y=\"{y}\" dominant-baseline=\"middle\">{Svg.Text(legend[i])}</text>");
            }
        return sb.Append("</svg>").ToString();
    }
}
