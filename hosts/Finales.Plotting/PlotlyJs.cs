using System.Reflection;

namespace Finales.Plotting;

/// <summary>
/// plotly.js as Plotly.NET ships it (an embedded resource of the Plotly.NET assembly, the version
/// <c>Globals.PLOTLYJS_VERSION</c>): the one script every chart fragment needs, included once per page.
/// Nothing is fetched from the network.
/// </summary>
public static class PlotlyJs
{
    private static readonly Lazy<string> Text = new(Load);

    /// <summary>The plotly.js version the package embeds.</summary>
    public const string Version = global::Globals.PLOTLYJS_VERSION;

    /// <summary>The minified plotly.js text (about 3.6 MB).</summary>
    public static string Source => Text.Value;

    /// <summary>"&lt;script&gt;plotly.js&lt;/script&gt;" for a standalone file such as the demo report.</summary>
    public static string InlineTag() => "<script>" + Source + "</script>";

    private static string Load()
    {
        var assembly = typeof(Plotly.NET.GenericChart).Assembly;
        var name = $"Plotly.NET.plotly-{Version}.min.js";
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{assembly.GetName().Name} has no embedded resource {name}; resources: {string.Join(", ", assembly.GetManifestResourceNames())}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
