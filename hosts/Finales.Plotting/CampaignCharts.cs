using System.Globalization;

namespace Finales.Plotting;

/// <summary>One drawn campaign figure: a stable key, its caption and the chart's HTML fragment (empty when there is nothing to draw).</summary>
public sealed record CampaignFigure(string Key, string Caption, string Fragment);

/// <summary>The campaign figures drawn with <see cref="Charts"/> from <see cref="CampaignData"/> (the console's campaign view; the demo report can draw the same).</summary>
public static class CampaignCharts
{
    /// <summary>The legend of the conductivity figure, in <see cref="CampaignSource"/> order.</summary>
    public static readonly IReadOnlyList<string> Sources = ["two_electrode (lab)", "polynomial_interpolation (model)", "molecular_dynamics (simulation)"];

    /// <summary>
    /// The five figures, in this order: compositions, conductivity, density-viscosity, progress, rdf.
    /// <paramref name="tenantName"/> names a requesting tenant in the progress legend.
    /// </summary>
    public static IReadOnlyList<CampaignFigure> Draw(CampaignData data, Func<Guid, string> tenantName)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(tenantName);
        var figures = new List<CampaignFigure>();

        var chemicals = data.Compositions.Select(c => c.Chemical).Distinct().Order(StringComparer.Ordinal).ToList();
        var chemicalLabels = chemicals.Select(Label).ToList();
        figures.Add(new CampaignFigure("compositions",
            $"Requested vs achieved mole fraction per chemical, {Count(data.Compositions.Select(c => c.Request).Distinct().Count(), "density measurement")} (vibrating_tube_densimetry; achieved = data.run_info.formulation); the dashed diagonal is a perfect mix",
            Charts.Scatter(data.Compositions.Select(c => new ScatterPoint(c.Requested, c.Achieved, chemicals.IndexOf(c.Chemical))).ToList(),
                new ScatterOptions("requested mole fraction", "achieved mole fraction", Diagonal: true, Legend: chemicalLabels))));

        figures.Add(new CampaignFigure("conductivity",
            $"Conductivity vs LiPF6 mole fraction by source: {string.Join(", ", Enum.GetValues<CampaignSource>().Select(s => $"{data.Conductivity.Count(c => c.Source == s)} {Sources[(int)s]}"))}; error bars: the MD result's Einstein-Helfand standard error",
            Charts.Scatter(data.Conductivity.Select(c => new ScatterPoint(c.LiPF6, c.Value, (int)c.Source)).ToList(),
                new ScatterOptions("LiPF6 mole fraction (achieved)", "conductivity / S m^-1", Legend: Sources))));

        var r = data.PearsonR is { } pr ? pr.ToString("F3", CultureInfo.InvariantCulture) : "n/a (fewer than 3 points)";
        figures.Add(new CampaignFigure("density-viscosity",
            $"Density vs viscosity, {Count(data.DensityViscosity.Count, "lab measurement")}, Pearson r = {r}",
            Charts.Scatter(data.DensityViscosity.Select(p => new ScatterPoint(p.Viscosity, p.Density, 0)).ToList(),
                new ScatterOptions("viscosity / mPa s", "density / g cm^-3"))));

        var progress = data.Progress.Select((s, i) => (Series: s, Index: i)).ToList();
        figures.Add(new CampaignFigure("progress",
            "Optimizer progress: per requesting tenant, the highest lab conductivity (two_electrode) found so far, over its requests in the order posted",
            Charts.Scatter(progress.SelectMany(s => s.Series.Points.Select(p => new ScatterPoint(p.Index, p.BestSoFar, s.Index))).ToList(),
                new ScatterOptions("lab result number (request order)", "best conductivity so far / S m^-1", Line: true, Legend: progress.Select(s => Label(tenantName(s.Series.Requester))).ToList()))));

        var rdfRequests = data.Rdfs.Select(c => c.Request).Distinct().Count();
        figures.Add(rdfRequests == 0
            ? new CampaignFigure("rdf", "There are no RDF results (radial_density_function/molacular_dynamics) yet.", "")
            : new CampaignFigure("rdf", $"Radial distribution functions g(r), {Count(rdfRequests, "MD result")}, one line per pair and composition",
                Charts.Scatter(data.Rdfs.SelectMany((c, i) => c.Radius.Zip(c.G, (x, y) => new ScatterPoint(x, y, i))).ToList(),
                    new ScatterOptions("r / Å", "g(r)", Line: true, Legend: data.Rdfs.Select(c => Label($"{c.Pair} at {c.Composition}")).ToList()))));
        return figures;
    }

    /// <summary>
    /// A label from stored text (tenant names, chemical keys, pair titles) with angle brackets shown as ‹ ›: a chart's
    /// script embeds its labels, and no stored text may end or open a tag in the page that embeds the chart.
    /// </summary>
    public static string Label(string text) => text.Replace('<', '‹').Replace('>', '›');

    private static string Count(int n, string what) => n == 1 ? $"1 {what}" : $"{n.ToString("N0", CultureInfo.InvariantCulture)} {what}s";
}
