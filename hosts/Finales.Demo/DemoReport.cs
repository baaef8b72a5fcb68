using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Plotting;
using Finales.Tenants.Cell;

namespace Finales.Demo;

/// <summary>What the report needs besides the store: the run's settings and what the demo itself did.</summary>
/// <summary>One request the optimizer tenant says it posted (from its log): id, its iteration, capability.</summary>
public sealed record PostedRequest(Guid Id, int Iteration, string Capability);

public sealed record DemoRunInfo(DemoPreset Preset, int Iterations, int Batch, int Seed, bool Chaos, bool Interrupted, double ElapsedSeconds,
    IReadOnlyList<PostedRequest> Posted, IReadOnlyList<string> ChaosLog, IReadOnlyDictionary<string, string> Journals, Guid Requester);

/// <summary>
/// The end-of-run report, computed from the broker's state as its HTTP API returns it (<see cref="BrokerSnapshot"/>,
/// the broker's own audit) and the tenants' journals:
/// report.json with every number, report.html with inline CSS, plotly.js inlined once and the Plotly charts of
/// Finales.Plotting (no network needed).
/// </summary>
public static class DemoReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The report of a run: <paramref name="brokerAudit"/> is what GET /admin/audit found, <paramref name="storePath"/>
    /// the store the broker ran on (named in the report).</summary>
    public static JsonObject Compute(BrokerSnapshot snapshot, IReadOnlyList<string> brokerAudit, string storePath, DemoRunInfo run)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var names = snapshot.TenantNames;
        var requests = snapshot.Requests;
        var results = snapshot.Results;
        var events = snapshot.Events;
        var current = results.Where(r => r.Status == "original").GroupBy(r => r.Request).ToDictionary(g => g.Key, g => g.First());
        var iterationOf = run.Posted.GroupBy(p => p.Id).ToDictionary(g => g.Key, g => g.Min(p => p.Iteration));

        // The figures' data, read by the campaign figures of Finales.Plotting (shared with the console's campaign view).
        var figures = CampaignFigures.Extract(Records(requests.Where(rq => current.ContainsKey(rq.Id)).Select(rq => (rq, current[rq.Id]))));

        // Fig. 6: requested vs achieved compositions (lab results carry the achieved formulation in run_info).
        var compositions = new JsonArray();
        foreach (var g in figures.Compositions.GroupBy(c => c.Request))
        {
            var requested = g.ToDictionary(c => c.Chemical, c => c.Requested);
            var achieved = g.ToDictionary(c => c.Chemical, c => c.Achieved);
            compositions.Add(new JsonObject
            {
                ["request"] = g.Key.ToString("D"),
                ["requested"] = Obj(requested),
                ["achieved"] = Obj(achieved),
                ["deviation"] = Math.Sqrt(DemoChemistry.All.Sum(c => Math.Pow(requested.GetValueOrDefault(c.Name) - achieved.GetValueOrDefault(c.Name), 2))),
            });
        }
        var conductivity = new JsonArray(figures.Conductivity.Select(c => (JsonNode?)new JsonObject
        {
            ["request"] = c.Request.ToString("D"), ["method"] = CampaignFigures.MethodOf(c.Source), ["lipf6"] = c.LiPF6, ["temperature"] = c.Temperature, ["value"] = c.Value,
        }).ToArray());
        // Figs. 7 and 8: the MD tenant's conductivities (with their error) and Li RDFs; unusable results are counted.
        var mdPoints = figures.Conductivity.Where(c => c.Source == CampaignSource.Simulation).OrderBy(c => c.LiPF6).Select(c => (JsonNode?)new JsonObject
        {
            ["request"] = c.Request.ToString("D"), ["lipf6"] = c.LiPF6, ["temperature"] = c.ResultTemperature, ["value"] = c.Value, ["error"] = c.Error,
        }).ToArray();
        var mdCurves = CampaignFigures.LiCurves(figures).OrderBy(c => c.LiPF6).Select(c => (JsonNode?)new JsonObject
        {
            ["request"] = c.Request.ToString("D"), ["lipf6"] = c.LiPF6, ["pair"] = c.Pair,
            ["radius"] = new JsonArray(c.Radius.Select(x => (JsonNode?)x).ToArray()), ["g"] = new JsonArray(c.G.Select(x => (JsonNode?)x).ToArray()),
        }).ToArray();

        // The optimizer's observations: density requests give each point its iteration.
        var iterationOfKey = new Dictionary<string, int>();
        foreach (var o in figures.Observations.Where(o => o.Quantity == "density"))
            if (iterationOf.TryGetValue(o.Request, out var rit))
            {
                var key = DemoMetrics.Key(o.FormulationBySmiles, o.Temperature ?? double.NaN);
                iterationOfKey[key] = Math.Min(rit, iterationOfKey.GetValueOrDefault(key, int.MaxValue));
            }
        var observations = figures.Observations.Select(Observation).ToList();

        // Optimizer progress: merits of the complete lab points (final hierarchy), best so far per iteration.
        var points = DemoMetrics.CompletePoints(observations.Where(o => o.Source == "lab"), run.Preset);
        var merits = DemoMetrics.Merits(points.Select(x => x.Objectives).ToArray(), run.Preset);
        var progress = new JsonArray();
        var lastIteration = run.Posted.Count == 0 ? 0 : run.Posted.Max(x => x.Iteration);
        for (var it = 1; it <= lastIteration; it++)
        {
            var upto = Enumerable.Range(0, points.Count).Where(i => iterationOfKey.TryGetValue(points[i].Key, out var pit) && pit <= it).ToArray();
            progress.Add(new JsonObject
            {
                ["iteration"] = it,
                ["complete_points"] = upto.Length,
                ["best_merit"] = upto.Length == 0 ? null : upto.Min(i => merits[i]),
            });
        }
        JsonObject? best = null;
        if (points.Count > 0)
        {
            var bi = Array.IndexOf(merits, merits.Min());
            best = new JsonObject { ["point"] = points[bi].Key, ["formulation"] = Readable(points[bi].Key), ["merit"] = merits[bi] };
            for (var k = 0; k < run.Preset.Objectives.Length; k++) best[run.Preset.Objectives[k].Name] = points[bi].Objectives[k];
        }

        // Per-tenant throughput and latency from the status history: created -> reserved -> resolved.
        var tenants = new JsonArray();
        var byRequest = events.GroupBy(e => e.Request).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var (uuid, name) in names.OrderBy(kv => kv.Value, StringComparer.Ordinal))
        {
            var waits = new List<double>();
            var works = new List<double>();
            var resolvedTimes = new List<DateTime>();
            foreach (var (_, evs) in byRequest)
            {
                var posted1 = evs.FirstOrDefault(e => e.Kind == "result_posted" && e.Tenant == uuid);
                if (posted1 is null) continue;
                var created = evs.First(e => e.Kind is "created" or "created_unsolicited");
                var reserved = evs.LastOrDefault(e => e.Kind == "reserved" && e.Seq < posted1.Seq);
                resolvedTimes.Add(posted1.Time);
                if (reserved is null) continue;
                waits.Add((reserved.Time - created.Time).TotalSeconds);
                works.Add((posted1.Time - reserved.Time).TotalSeconds);
            }
            var firstClaim = events.Where(e => e.Kind == "reserved" && e.Holder == uuid).Select(e => (DateTime?)e.Time).Min();
            var lastResult = resolvedTimes.Count == 0 ? (DateTime?)null : resolvedTimes.Max();
            var span = firstClaim is { } f && lastResult is { } l ? (l - f).TotalSeconds : 0;
            tenants.Add(new JsonObject
            {
                ["tenant"] = uuid.ToString("D"),
                ["name"] = name,
                ["posted"] = events.Count(e => e.Kind == "created" && e.Requester == uuid),
                ["claimed"] = events.Count(e => e.Kind == "reserved" && e.Holder == uuid),
                ["resolved"] = resolvedTimes.Count,
                ["active_seconds"] = Math.Round(span, 3),
                ["throughput_per_minute"] = span > 0 ? Math.Round(resolvedTimes.Count / (span / 60.0), 3) : null,
                ["wait_seconds"] = Stats(waits),
                ["work_seconds"] = Stats(works),
            });
        }

        var counts = new JsonObject
        {
            ["requests"] = requests.Count,
            ["results"] = results.Count,
            ["by_status"] = new JsonObject(requests.GroupBy(r => r.Status).OrderBy(g => g.Key).Select(g => KeyValuePair.Create(g.Key, (JsonNode?)g.Count()))),
            ["by_capability"] = new JsonObject(requests.GroupBy(r => r.Quantity + "/" + r.Method).OrderBy(g => g.Key).Select(g => KeyValuePair.Create(g.Key,
                (JsonNode?)new JsonObject { ["requests"] = g.Count(), ["resolved"] = g.Count(r => r.Status == "resolved") }))),
        };

        return new JsonObject
        {
            ["preset"] = run.Preset.Name,
            ["goal"] = run.Preset.Description,
            ["objectives"] = JsonSerializer.SerializeToNode(run.Preset.Objectives.Select(o => new { name = o.Name, quantity = o.Quantity, method = o.Method, path = o.Path, goal = o.Goal, tolerance = o.Tolerance, kind = o.Kind })),
            ["seed"] = run.Seed,
            ["iterations_requested"] = run.Iterations,
            ["iterations_done"] = lastIteration,
            ["batch"] = run.Batch,
            ["chaos"] = run.Chaos ? new JsonArray(run.ChaosLog.Select(s => (JsonNode?)s).ToArray()) : null,
            ["interrupted"] = run.Interrupted,
            ["elapsed_seconds"] = Math.Round(run.ElapsedSeconds, 1),
            ["store"] = Path.GetFullPath(storePath),
            ["counts"] = counts,
            ["compositions"] = compositions,
            ["conductivity"] = conductivity,
            ["density_viscosity"] = new JsonObject
            {
                ["points"] = new JsonArray(figures.DensityViscosity.Select(x => (JsonNode?)new JsonObject { ["density"] = x.Density, ["viscosity"] = x.Viscosity }).ToArray()),
                ["pearson_r"] = figures.PearsonR,
            },
            ["md_conductivity"] = new JsonObject
            {
                ["points"] = new JsonArray(mdPoints),
                ["skipped"] = figures.SimulationSkipped,
            },
            ["md_rdf"] = new JsonObject
            {
                ["curves"] = new JsonArray(mdCurves),
                ["skipped"] = figures.RdfSkipped,
            },
            ["progress"] = progress,
            ["best"] = best,
            ["tenants"] = tenants,
            ["audit"] = Audit(brokerAudit, requests, results, run),
        };
    }

    /// <summary>A point key ("InChIKey=x;...;@T", <see cref="DemoMetrics.Key"/>) as "LiPF6 0.1075, EC 0.1, ... at 313.15 K",
    /// chemicals in the demo's table order.</summary>
    private static string Readable(string key)
    {
        var at = key.LastIndexOf('@');
        var parts = key[..at].Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p =>
        {
            var eq = p.LastIndexOf('=');
            var chemical = DemoChemistry.Find(p[..eq]);
            return (Order: chemical is null ? int.MaxValue : Array.IndexOf(DemoChemistry.All, chemical), Name: chemical?.Name ?? p[..eq],
                Fraction: double.Parse(p[(eq + 1)..], CultureInfo.InvariantCulture));
        });
        return string.Join(", ", parts.OrderBy(p => p.Order).Select(p => $"{p.Name} {DemoChemistry.F(p.Fraction)}"))
            + $" at {DemoChemistry.F(double.Parse(key[(at + 1)..], CultureInfo.InvariantCulture), 6)} K";
    }

    /// <summary>For the live view: complete lab points so far and the objectives of the best one, from the store.</summary>
    public static (int Complete, string Best) LiveBest(BrokerSnapshot snapshot, DemoPreset preset)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var requests = snapshot.Requests.ToDictionary(r => r.Id);
        var figures = CampaignFigures.Extract(Records(snapshot.Results.Where(r => r.Status == "original" && requests.ContainsKey(r.Request))
            .Select(res => (requests[res.Request], res))));
        var observations = figures.Observations.Where(o => o.Source != CampaignSource.Model).Select(Observation);
        var points = DemoMetrics.CompletePoints(observations, preset);
        if (points.Count == 0) return (0, "none yet");
        var merits = DemoMetrics.Merits(points.Select(x => x.Objectives).ToArray(), preset);
        var bi = Array.IndexOf(merits, merits.Min());
        return (points.Count, string.Join(", ", preset.Objectives.Select((o, k) => $"{o.Name} {DemoChemistry.F(points[bi].Objectives[k])}")));
    }

    /// <summary>Requests with their current result as the campaign figures read them.</summary>
    private static IEnumerable<CampaignRecord> Records(IEnumerable<(StoredRequest Request, StoredResult Result)> pairs) =>
        pairs.Select(x => new CampaignRecord(x.Request.Id, x.Request.Seq, x.Request.Quantity, x.Request.Method, x.Request.Requester,
            x.Request.Body.ToJsonString(), x.Result.Body.ToJsonString()));

    /// <summary>A campaign observation for the optimizer's join; the model's are "polynomial", the lab's and MD's "lab".</summary>
    private static Finales.Optimizer.Interop.ObservationSpec Observation(CampaignObservation o) =>
        new(o.FormulationBySmiles.ToDictionary(kv => kv.Key, kv => kv.Value), o.Temperature ?? double.NaN, o.Source == CampaignSource.Model ? "polynomial" : "lab",
            o.Quantity, o.Value ?? double.NaN, o.Rating, o.Success, false);

    private static JsonNode? Num(double x) => double.IsNaN(x) ? null : x;
    private static JsonObject Obj(Dictionary<string, double> d) => new(DemoChemistry.All.Select(c => KeyValuePair.Create(c.Name, (JsonNode?)d.GetValueOrDefault(c.Name))));

    private static JsonObject Stats(List<double> xs) => new()
    {
        ["n"] = xs.Count,
        ["mean"] = xs.Count == 0 ? null : Math.Round(xs.Average(), 4),
        ["median"] = Num(Math.Round(DemoMetrics.Percentile(xs, 50), 4)),
        ["p95"] = Num(Math.Round(DemoMetrics.Percentile(xs, 95), 4)),
        ["max"] = xs.Count == 0 ? null : Math.Round(xs.Max(), 4),
    };

    /// <summary>
    /// The audit: the broker's own (event log replayed through the state machine and compared with the stored
    /// projections), then per request: resolved = exactly one current result, pending/reserved = none; at most one
    /// result per request (no duplicated work); every request the optimizer tenant logged as posted is stored and nothing else was
    /// posted in its name; every result a tenant journal says it posted is that request's current result.
    /// </summary>
    private static JsonObject Audit(IReadOnlyList<string> storeProblems, IReadOnlyList<StoredRequest> requests, IReadOnlyList<StoredResult> results, DemoRunInfo run)
    {
        var problems = new List<string>();
        var byRequest = results.GroupBy(r => r.Request).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var r in requests)
        {
            var all = byRequest.GetValueOrDefault(r.Id) ?? [];
            var originals = all.Count(x => x.Status == "original");
            switch (r.Status)
            {
                case "resolved" when originals != 1: problems.Add($"request {r.Id:D} is resolved with {originals} current results"); break;
                case "pending" or "reserved" when originals != 0: problems.Add($"request {r.Id:D} is {r.Status} but has {originals} current results"); break;
            }
            if (all.Count > 1) problems.Add($"request {r.Id:D} has {all.Count} results (duplicated work): {string.Join(", ", all.Select(x => x.Id.ToString("D")))}");
        }
        var stored = requests.Select(r => r.Id).ToHashSet();
        var lost = run.Posted.Where(p => !stored.Contains(p.Id)).Select(p => p.Id.ToString("D")).ToList();
        foreach (var l in lost) problems.Add($"request {l} was posted (optimizer tenant log) but is not in the store (lost)");
        var postedIds = run.Posted.Select(p => p.Id).ToHashSet();
        var unexpected = requests.Where(r => r.Requester == run.Requester && !postedIds.Contains(r.Id)).ToList();
        foreach (var u in unexpected) problems.Add($"request {u.Id:D} is stored in the optimizer tenant's name but its log never reported posting it (duplicate post?)");
        var journalEntries = 0;
        var currentByRequest = results.Where(r => r.Status == "original").ToDictionary(r => r.Request, r => r.Id);
        var open = new JsonObject();
        foreach (var (tenant, path) in run.Journals)
        {
            var rows = BrokerReader.Journal(path);
            journalEntries += rows.Count;
            foreach (var row in rows.Where(x => x.State == "posted"))
                if (row.Result is not { } rid || !currentByRequest.TryGetValue(row.Request, out var cur) || cur != rid)
                    problems.Add($"journal of {tenant}: request {row.Request:D} posted as result {row.Result?.ToString("D") ?? "?"}, which is not its current result in the store");
            open[tenant] = rows.Count(x => x.State is "claimed" or "working" or "result-ready");
        }
        var statuses = requests.GroupBy(r => r.Status).ToDictionary(g => g.Key, g => g.Count());
        return new JsonObject
        {
            ["ok"] = storeProblems.Count == 0 && problems.Count == 0,
            ["requests_checked"] = requests.Count,
            ["resolved"] = statuses.GetValueOrDefault("resolved"),
            ["pending"] = statuses.GetValueOrDefault("pending") + statuses.GetValueOrDefault("reserved"),
            ["results"] = results.Count,
            ["campaign_posted"] = run.Posted.Count,
            ["lost"] = lost.Count,
            ["duplicates"] = byRequest.Count(kv => kv.Value.Count > 1) + unexpected.Count,
            ["journal_entries_checked"] = journalEntries,
            ["journal_open_entries"] = open,
            ["store_audit_problems"] = new JsonArray(storeProblems.Select(x => (JsonNode?)x).ToArray()),
            ["request_problems"] = new JsonArray(problems.Select(x => (JsonNode?)x).ToArray()),
        };
    }

    /// <summary>Writes report.json and report.html into <paramref name="dir"/>; returns the HTML path.</summary>
    public static string Write(JsonObject report, string dir)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "report.json"), report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var html = Path.Combine(dir, "report.html");
        File.WriteAllText(html, Html(report));
        return html;
    }

    private static string H(string s) => WebUtility.HtmlEncode(s);
    private static string N(double x, int d = 4) => double.IsNaN(x) ? "n/a" : x.ToString("G" + d, Inv);
    private static double D(JsonNode? n) => n is null ? double.NaN : n.GetValue<double>();

    private static string Html(JsonObject r)
    {
        var sb = new StringBuilder();
        var audit = r["audit"]!.AsObject();
        var ok = audit["ok"]!.GetValue<bool>();
        sb.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Finales demo report</title><style>")
          .Append("body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}h1{margin-bottom:0}")
          .Append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}")
          .Append(".ok{color:#1a7f37;font-weight:bold}.bad{color:#c62828;font-weight:bold}.charts{display:flex;flex-wrap:wrap;gap:16px}")
          .Append("figure{margin:0;border:1px solid #ddd;padding:8px}figcaption{font-size:90%;color:#555;max-width:460px}svg text{font-size:11px}")
          .Append("</style>").Append(PlotlyJs.InlineTag()).Append("</head><body>");
        sb.Append($"<h1>Finales demo</h1><p>Goal ({H(r["preset"]!.ToString())}): {H(r["goal"]!.ToString())}. Seed {r["seed"]}, ")
          .Append($"{r["iterations_done"]}/{r["iterations_requested"]} iterations of batch {r["batch"]}, {r["elapsed_seconds"]} s")
          .Append(r["interrupted"]!.GetValue<bool>() ? " (<b>interrupted</b>)" : "").Append(".</p>");
        sb.Append($"<h2>Audit: <span class=\"{(ok ? "ok" : "bad")}\">{(ok ? "OK" : "FAILED")}</span></h2><p>{audit["requests_checked"]} requests checked: ")
          .Append($"{audit["resolved"]} resolved with exactly one current result, {audit["pending"]} still pending; {audit["lost"]} lost, {audit["duplicates"]} duplicated; ")
          .Append($"the event log replays to the stored state ({audit["store_audit_problems"]!.AsArray().Count} problems); ")
          .Append($"{audit["journal_entries_checked"]} tenant journal entries agree with the store.</p>");
        foreach (var p in audit["store_audit_problems"]!.AsArray().Concat(audit["request_problems"]!.AsArray())) sb.Append($"<p class=\"bad\">{H(p!.ToString())}</p>");
        if (r["chaos"] is JsonArray chaos) { sb.Append("<h2>Chaos</h2><ul>"); foreach (var c in chaos) sb.Append($"<li>{H(c!.ToString())}</li>"); sb.Append("</ul>"); }
        if (r["best"] is JsonObject best)
        {
            sb.Append("<h2>Best formulation</h2><p>").Append(H(best["formulation"]!.ToString())).Append(" (mole fractions)<br>");
            sb.Append(string.Join(", ", best.Where(kv => kv.Key is not ("point" or "formulation")).Select(kv => $"{H(kv.Key)} {N(D(kv.Value))}"))).Append("</p>");
        }
        sb.Append("<h2>Tenants</h2><table><tr><th>tenant</th><th>posted</th><th>claimed</th><th>resolved</th><th>results/min</th><th>wait median s</th><th>wait p95 s</th><th>work median s</th><th>work p95 s</th></tr>");
        foreach (var t in r["tenants"]!.AsArray())
            sb.Append($"<tr><th>{H(t!["name"]!.ToString())}</th><td>{t["posted"]}</td><td>{t["claimed"]}</td><td>{t["resolved"]}</td><td>{N(D(t["throughput_per_minute"]))}</td>")
              .Append($"<td>{N(D(t["wait_seconds"]!["median"]))}</td><td>{N(D(t["wait_seconds"]!["p95"]))}</td><td>{N(D(t["work_seconds"]!["median"]))}</td><td>{N(D(t["work_seconds"]!["p95"]))}</td></tr>");
        sb.Append("</table><div class=\"charts\">");
        var comps = r["compositions"]!.AsArray();
        var fig6 = new List<(double, double, int)>();
        var series = new[] { "LiPF6", "EC", "EMC", "DMC" };
        foreach (var c in comps)
            for (var k = 0; k < series.Length; k++) fig6.Add((D(c!["requested"]![series[k]]), D(c["achieved"]![series[k]]), k));
        sb.Append(Figure("Requested vs achieved mole fraction per chemical (Fig. 6); the dashed diagonal is a perfect mix",
            Scatter(fig6, "requested mole fraction", "achieved mole fraction", diagonal: true, legend: series)));
        var md = r["md_conductivity"]!["points"]!.AsArray();
        var cond = r["conductivity"]!.AsArray().Where(c => c!["method"]!.ToString() is "two_electrode" or "polynomial_interpolation")
            .Select(c => (D(c!["lipf6"]), D(c["value"]), c["method"]!.ToString() == "two_electrode" ? 0 : 1, (double?)null))
            .Concat(md.Select(c => (D(c!["lipf6"]), D(c["value"]), 2, c["error"] is null ? (double?)null : D(c["error"])))).ToList();
        var noMd = md.Count == 0 ? $" No MD results{Skipped(r["md_conductivity"]!)}." : Skipped(r["md_conductivity"]!) is { Length: > 0 } sk ? $" MD results{sk}." : "";
        var fig7 = "Conductivity vs LiPF6 mole fraction (Fig. 7): MD (Einstein-Helfand, error bar one standard error) next to the low-fidelity model and the lab measurements." + noMd;
        sb.Append(cond.Count == 0 ? $"<figure><p>{H(fig7)}</p></figure>" : Figure(fig7,
            Scatter(cond, "LiPF6 mole fraction (achieved)", "conductivity / S m^-1", legend: ["two_electrode (lab)", "polynomial_interpolation (model)", "molecular_dynamics (MD)"])));
        var rdfs = r["md_rdf"]!["curves"]!.AsArray();
        var rdfNote = Skipped(r["md_rdf"]!);
        sb.Append(rdfs.Count == 0
            ? $"<figure><p>{H($"Li RDFs per composition (Fig. 8): no MD results{rdfNote}.")}</p></figure>"
            : Figure($"Li RDFs g(r) per composition (Fig. 8), pair {string.Join(", ", rdfs.Select(c => c!["pair"]!.ToString()).Distinct())}{rdfNote}",
                Charts.Lines(rdfs.Select(c => new LineSeries(Label(D(c!["lipf6"])),
                    c["radius"]!.AsArray().Select(D).ToList(), c["g"]!.AsArray().Select(D).ToList())).ToList(),
                    new LineOptions("r / Angstrom", "g(r)"))));
        var dv = r["density_viscosity"]!;
        var dvPoints = dv["points"]!.AsArray().Select(p => (D(p!["viscosity"]), D(p["density"]), 0)).ToList();
        sb.Append(Figure($"Density vs viscosity (Fig. 9), Pearson r = {N(D(dv["pearson_r"]))}", Scatter(dvPoints, "viscosity / mPa s", "density / g cm^-3")));
        var prog = r["progress"]!.AsArray().Where(p => p!["best_merit"] is not null).Select(p => ((double)p!["iteration"]!.GetValue<int>(), D(p["best_merit"]), 0)).ToList();
        sb.Append(Figure("Optimizer progress: best Chimera merit so far per iteration (lower is better)", Scatter(prog, "iteration", "best merit", line: true)));
        sb.Append("</div><h2>Requests</h2><table><tr><th>capability</th><th>requests</th><th>resolved</th></tr>");
        foreach (var (k, v) in r["counts"]!["by_capability"]!.AsObject()) sb.Append($"<tr><th>{H(k)}</th><td>{v!["requests"]}</td><td>{v["resolved"]}</td></tr>");
        sb.Append($"</table><p>Store: {H(r["store"]!.ToString())}. All numbers are in report.json next to this file.</p></body></html>");
        return sb.ToString();
    }

    /// <summary>A legend label of a composition: "x(LiPF6) = 0.09".</summary>
    private static string Label(double salt) => "x(LiPF6) = " + salt.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Figure(string caption, string chart) => $"<figure>{chart}<figcaption>{H(caption)}</figcaption></figure>";

    private static string Skipped(JsonNode figure) => figure["skipped"]!.GetValue<int>() is var n and > 0 ? $" ({n} unusable result{(n == 1 ? "" : "s")} left out)" : "";

    private static string Scatter(List<(double X, double Y, int Series)> pts, string xLabel, string yLabel, bool diagonal = false, bool line = false, string[]? legend = null) =>
        Scatter(pts.Select(p => (p.X, p.Y, p.Series, (double?)null)).ToList(), xLabel, yLabel, diagonal, line, legend);

    private static string Scatter(List<(double X, double Y, int Series, double? Error)> pts, string xLabel, string yLabel, bool diagonal = false, bool line = false, string[]? legend = null) =>
        Charts.Scatter(pts.Select(p => new ScatterPoint(p.X, p.Y, p.Series, p.Error)).ToList(), new ScatterOptions(xLabel, yLabel, diagonal, line, legend));
}
