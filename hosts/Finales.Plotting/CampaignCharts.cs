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
            Charts.Scatter(data.Conductivity.Select(c => new ScatterPoint(c.LiPF6, c.Value, (int)c.Source, c.Error)).ToList(),
                new ScatterOptions("LiPF6 mole fraction (achieved)", "conductivity / S m^-1", Legend: Sources))));

        var r = data.PearsonR is { } pr ? pr.ToString("F3", CultureInfo.InvariantCulture) : "n/a (fewer than 3 points)";
        figures.Add(new CampaignFigure("density-viscosity",
            $"Density vs viscosity, {Count(data.DensityViscosity.Count, "lab measurement")}, Pearson r = {r}",
            Charts.Scatter(data.DensityViscosity.Select(p => new ScatterPoint(p.Viscosity, p.Density, 0)).ToList(),
                new ScatterOptions("viscosity / mPa s", "density / g cm^-3"))));

        figures.Add(new CampaignFigure("progress",
            "Optimizer progress: per requesting tenant, the highest lab conductivity (two_electrode) found so far, over its requests in the order posted",
            Charts.Lines(data.Progress.Select(s => new LineSeries(Label(tenantName(s.Requester)), s.Points.Select(p => (double)p.Index).ToList(), s.Points.Select(p => p.BestSoFar).ToList())).ToList(),
                new LineOptions("lab result number (request order)", "best conductivity so far / S m^-1"))));

        var rdfRequests = data.Rdfs.Select(c => c.Request).Distinct().Count();
        figures.Add(rdfRequests == 0
            ? new CampaignFigure("rdf", "There are no RDF results (radial_density_function/molacular_dynamics) yet.", "")
            : new CampaignFigure("rdf", $"Radial distribution functions g(r), {Count(rdfRequests, "MD result")}, one line per pair and composition",
                Charts.Lines(data.Rdfs.Select(c => new LineSeries(Label($"{c.Pair} at {c.Composition}"), c.Radius, c.G)).ToList(),
                    new LineOptions("r / Å", "g(r)"))));
        return figures;
    }

    /// <summary>
    /// A label from stored text (tenant names, chemical keys, pair titles) with angle brackets shown as ‹ ›: a chart's
    /// script embeds its labels, and no stored text may end or open a tag in the page that embeds the chart.
    /// </summary>
    public static string Label(string text) => text.Replace('<', '‹').Replace('>', '›');

    private static string Count(int n, string what) => n == 1 ? $"1 {what}" : $"{n.ToString("N0", CultureInfo.InvariantCulture)} {what}s";
}
