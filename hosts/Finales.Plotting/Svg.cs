using System.Globalization;
using System.Net;

namespace Finales.Plotting;

/// <summary>What the SVG chart needs: invariant numbers, escaped text and the colour palette.</summary>
internal static class Svg
{
    public static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The palette of method comparisons (first method blue, second red).</summary>
    public static readonly string[] Methods = ["#1f77b4", "#d62728", "#2ca02c"];

    public static string Colour(string[] palette, int index) => palette[((index % palette.Length) + palette.Length) % palette.Length];

    public static string Text(string s) => WebUtility.HtmlEncode(s);
}
