using System.Globalization;
using System.Net;

namespace Finales.Plotting;

/// <summary>What every chart shares: invariant numbers, escaped text and the colour palettes.</summary>
internal static class Svg
{
    public static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The palette of categorical charts (scatter series, legend entries).</summary>
    public static readonly string[] Categorical = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"];

    /// <summary>The palette of method comparisons (first method blue, second red).</summary>
    public static readonly string[] Methods = ["#1f77b4", "#d62728", "#2ca02c"];

    public static string Colour(string[] palette, int index) => palette[((index % palette.Length) + palette.Length) % palette.Length];

    public static string Text(string s) => WebUtility.HtmlEncode(s);

    /// <summary>A tick label with <paramref name="digits"/> significant digits; "n/a" for NaN.</summary>
    public static string Tick(double x, int digits) => double.IsNaN(x) ? "n/a" : x.ToString("G" + digits, Inv);
}
