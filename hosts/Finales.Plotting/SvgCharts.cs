using System.Text;

namespace Finales.Plotting;

/// <summary>
/// Static SVG for chart files that must be images: the optimizer bench's regret charts (docs/bench/regret-*.svg), which
/// the README embeds as pictures (a page renderer shows no script, and Plotly.NET renders static images only through a
/// browser). Everything on a page uses <see cref="Charts"/>.
/// </summary>
public static class SvgCharts
{
    /// <summary>
    /// Median curves with a shaded band each (e.g. interquartile range) on a log10 y axis, 640 x 400, one colour per
    /// series and a legend. x runs from 1 to the largest point; y from the smallest positive value (at least 1e-8) to
    /// at least ten times it, labelled at every decade; values at or below the bottom are drawn on it.
    /// </summary>
    public static string LogBands(IReadOnlyList<BandSeries> series, BandOptions options)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(options);
        const double w = 640.0, h = 400.0, ml = 70.0, mr = 20.0, mt = 40.0, mb = 50.0;
        var values = series.SelectMany(s => s.Points).SelectMany(p => new[] { p.Low, p.Median, p.High }).Where(v => v > 0).ToList();
        double? lowest = options.DataMin ?? (values.Count > 0 ? values.Min() : null);
        double? highest = options.DataMax ?? (values.Count > 0 ? values.Max() : null);
        var ymin = lowest is { } lo ? Math.Max(1e-8, lo) : 1e-6;
        var ymax = highest is { } hi ? Math.Max(ymin * 10.0, hi) : 1.0;
        double Ly(double v) => Math.Log10(Math.Max(ymin, v));
        var evals = series.Select(s => s.Points.Count == 0 ? 0 : s.Points.Max(p => p.X)).DefaultIfEmpty(0).Max();
        double Px(int e) => ml + ((double)(e - 1) / Math.Max(1, evals - 1)) * (w - ml - mr);
        double Py(double v) => mt + (Ly(ymax) - Ly(v)) / (Ly(ymax) - Ly(ymin)) * (h - mt - mb);
        static string N(double x) => x.ToString("0.##", Svg.Inv);

        var sb = new StringBuilder();
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{N(w)}\" height=\"{N(h)}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append($"<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{N(ml)}\" y=\"22\" font-size=\"14\">{Svg.Text(options.Title)}</text>\n");
        sb.Append($"<line x1=\"{N(ml)}\" y1=\"{N(h - mb)}\" x2=\"{N(w - mr)}\" y2=\"{N(h - mb)}\" stroke=\"black\"/>\n<line x1=\"{N(ml)}\" y1=\"{N(mt)}\" x2=\"{N(ml)}\" y2=\"{N(h - mb)}\" stroke=\"black\"/>\n");
        var bottom = (int)Math.Floor(Ly(ymin));
        for (var e = 0; e <= (int)Math.Ceiling(Ly(ymax)) - bottom; e++)
        {
            var v = Math.Pow(10.0, bottom + e);
            if (v >= ymin && v <= ymax) sb.Append($"<text x=\"5\" y=\"{N(Py(v) + 4.0)}\">1e{(int)Math.Log10(v)}</text>\n");
        }
        foreach (var e in options.XTicks)
            if (e <= evals) sb.Append($"<text x=\"{N(Px(e) - 8.0)}\" y=\"{N(h - mb + 18.0)}\">{e}</text>\n");
        sb.Append($"<text x=\"{N(w / 2.0 - 60.0)}\" y=\"{N(h - 8.0)}\">{Svg.Text(options.XLabel)}</text>\n");
        for (var k = 0; k < series.Count; k++)
        {
            var points = series[k].Points;
            if (points.Count == 0) continue;
            var c = Svg.Colour(Svg.Methods, k);
            var band = points.Select(p => $"{N(Px(p.X))},{N(Py(p.High))}").Concat(points.Reverse().Select(p => $"{N(Px(p.X))},{N(Py(p.Low))}"));
            sb.Append($"<polygon points=\"{string.Join(" ", band)}\" fill=\"{c}\" fill-opacity=\"0.15\" stroke=\"none\"/>\n");
            sb.Append($"<polyline points=\"{string.Join(" ", points.Select(p => $"{N(Px(p.X))},{N(Py(p.Median))}"))}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\"/>\n");
            sb.Append($"<text x=\"{N(w - 160.0)}\" y=\"{N(mt + 16.0 * k)}\" fill=\"{c}\">{Svg.Text(series[k].Label)}</text>\n");
        }
        return sb.Append("</svg>\n").ToString();
    }
}
