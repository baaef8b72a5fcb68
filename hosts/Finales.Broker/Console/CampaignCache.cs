using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Finales.Plotting;

namespace Finales.Broker.WebConsole;

/// <summary>
/// One figure of the campaign view as the page shows it: its HTML without script, its caption, and the script that
/// draws it (served as /ui/campaign/plots/{key}.js right after the HTML, so the page runs no inline script).
/// </summary>
public sealed record CampaignFigureView(string Key, string Caption, string Html, string Script);

/// <summary>The campaign view of one scope: the figures, a version that changes when a figure does, and what was read.</summary>
public sealed record CampaignView(
    IReadOnlyList<CampaignFigureView> Figures, string Version, IReadOnlyList<CampaignRead> Reads, int Unreadable, DateTime At, TimeSpan Took) : IStamped
{
    /// <summary>MD conductivity results that give no point (<see cref="CampaignData.SimulationSkipped"/>).</summary>
    public int SimulationSkipped { get; init; }

    /// <summary>RDF results without a usable Li curve (<see cref="CampaignData.RdfSkipped"/>).</summary>
    public int RdfSkipped { get; init; }
}

/// <summary>How many current results of one capability the view read.</summary>
public sealed record CampaignRead(string Quantity, string Method, int Results, int Limit);

/// <summary>
/// The campaign figures over the whole store, per scope (everything, or what one set of tenants may see), refreshed on
/// demand like the overview (<see cref="ScopeCache{T}"/>). Bounded whatever the store holds: per capability the
/// figures need, the newest <see cref="PerCapability"/> current results (RDFs: <see cref="RdfResults"/>) among the
/// newest <see cref="ScanFactor"/> times as many results of that capability.
/// </summary>
public sealed class CampaignCache
{
    public const int PerCapability = 500;
    public const int RdfResults = 6;
    public const int ScanFactor = 20;
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(2);

    private readonly BrokerService svc;
    private readonly ScopeCache<CampaignView> cache;

    public CampaignCache(BrokerService svc)
    {
        this.svc = svc;
        cache = new ScopeCache<CampaignView>(() => svc.UtcNow, MaxAge, Compute);
    }

    /// <summary>The view of what <paramref name="tenants"/> may see (null: everything).</summary>
    public Task<CampaignView> Get(IReadOnlyList<Guid>? tenants) => cache.Get(tenants);

    /// <summary>The limit of one capability's read.</summary>
    public static int LimitOf(string quantity) => quantity == "radial_density_function" ? RdfResults : PerCapability;

    private async Task<CampaignView> Compute(IReadOnlyList<Guid>? tenants)
    {
        var now = svc.UtcNow;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var store = ConsoleReads.Reads(svc);
        var records = new List<CampaignRecord>();
        var reads = new List<CampaignRead>();
        foreach (var (quantity, method) in CampaignFigures.Capabilities)
        {
            var limit = LimitOf(quantity);
            var rows = await store.CampaignResultsAsync(quantity, method, tenants, limit, limit * ScanFactor);
            reads.Add(new CampaignRead(quantity, method, rows.Count, limit));
            records.AddRange(rows.Select(r => new CampaignRecord(r.Request, r.RequestSeq, quantity, method, r.Requester, r.RequestBody, r.ResultBody)));
        }
        var data = CampaignFigures.Extract(records);
        var names = svc.Current.TenantRecords.ToDictionary(t => t.Uuid, t => t.Name);
        // A requester the caller may not see is not named (the console's rule for tenant registrations).
        string Name(Guid t) => (tenants is null || tenants.Contains(t)) && names.TryGetValue(t, out var n) ? n : "another tenant";
        var figures = new List<CampaignFigureView>();
        foreach (var f in CampaignCharts.Draw(data, Name))
        {
            var (html, js) = Split(f.Fragment, "campaign-" + f.Key);
            figures.Add(new CampaignFigureView(f.Key, f.Caption, html, js));
        }
        var version = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\u0001", figures.Select(f => f.Caption + "\u0002" + f.Html + "\u0002" + f.Script)))))[..16];
        return new CampaignView(figures, version, reads, data.Unreadable, now, System.Diagnostics.Stopwatch.GetElapsedTime(started))
        {
            SimulationSkipped = data.SimulationSkipped,
            RdfSkipped = data.RdfSkipped,
        };
    }

    private static readonly Regex Script = new(@"<script\b[^>]*>([\s\S]*?)</script\s*>", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex Id = new("\\bid=\"([^\"]+)\"", RegexOptions.CultureInvariant);

    /// <summary>
    /// A chart fragment as its HTML without scripts and the scripts' text; the chart's own element id (a new one per
    /// drawing) becomes <paramref name="id"/>, so a redraw finds the element the page already has.
    /// </summary>
    public static (string Html, string Script) Split(string fragment, string id)
    {
        var js = string.Join("\n", Script.Matches(fragment).Select(m => m.Groups[1].Value));
        var html = Script.Replace(fragment, "");
        if (Id.Match(html) is { Success: true } m)
        {
            html = html.Replace(m.Groups[1].Value, id, StringComparison.Ordinal);
            js = js.Replace(m.Groups[1].Value, id, StringComparison.Ordinal);
        }
        return (html, js);
    }
}
