using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Broker;
using Finales.Broker.WebConsole;
using Finales.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Finales.Cli;

/// <summary>
/// `finales bench console`: server time of the web console's pages on a SQLite store holding many requests (stored
/// once with the store's preload; a kept store is reused). The broker runs in this process on a loopback port; each
/// page is fetched --gets times one after another with an admin's session cookie, timed from request to last byte.
/// </summary>
public static class BenchConsole
{
    private static readonly Guid Tenant = Guid.Parse("b5e4c4a0-0000-4000-8000-00000000be4c");

    public static FinalesCommand Create()
    {
        var requests = Opt.Int("--requests", "resolved requests in the store", 1_000_000, 1);
        var gets = Opt.Int("--gets", "GETs of each page", 200, 1);
        var keepDir = Opt.Text("--keep", "keep the store in DIR and reuse it on the next run", "DIR");
        var command = new FinalesCommand("console", "server time of the web console's pages on a store of 1,000,000 requests")
        {
            Errors = ErrorStyle.IndentedJson,
            Notes = """
                Stores N resolved requests in a SQLite store (once; a kept store is reused), starts the broker on it in
                this process and times --gets GETs of each console page (overview, its live panel, the queue's first
                and a deep page, the queue filtered by capability, by status and by tenant, a request page, the
                campaign view, its live panel, figures and drawing script) with an admin's session. Reports p50 and
                p99 in ms per page, and what one refresh of the overview's and the campaign view's numbers costs.
                """,
            Examples = ["./finales bench console --requests 1000000 --gets 200 --keep /tmp/console-store"],
        };
        command.Options.Add(requests);
        command.Options.Add(gets);
        command.Options.Add(keepDir);
        command.SetAction(parse => Run(parse.GetValue(requests), parse.GetValue(gets), parse.GetValue(keepDir)));
        return command;
    }

    private static int Run(int n, int gets, string? keep)
    {
        var dir = keep ?? Path.Combine(Path.GetTempPath(), "finales-bench-console-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var db = Path.Combine(dir, "bench.db");
        try
        {
            Preload(db, n);
            var port = Loopback.FreePort();
            var options = new BrokerOptions { Urls = $"http://127.0.0.1:{port}", DbPath = db, Quiet = true };
            var app = BrokerHost.BuildAsync(options).GetAwaiter().GetResult();
            var svc = app.Services.GetRequiredService<BrokerService>();
            svc.EnsureAdminAsync("bench-admin").GetAwaiter().GetResult();
            if (!svc.Current.TenantRecords.Any(t => t.Uuid == Tenant))
                svc.AddTenantAsync(JsonSerializer.SerializeToElement(new { uuid = Tenant.ToString("D"), name = "bench tenant", limitations = Array.Empty<object>() })).GetAwaiter().GetResult();
            app.StartAsync().GetAwaiter().GetResult();
            try
            {
                var admin = svc.Current.Users["admin"];
                var cookies = new CookieContainer();
                cookies.Add(new Uri(options.Urls), new Cookie(ConsoleAuth.CookieName, svc.Tokens.Issue("admin", admin.TokenVersion, svc.UtcNow), "/ui"));
                using var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = new Uri(options.Urls), Timeout = TimeSpan.FromMinutes(5) };
                var reads = (IConsoleReadModel)svc.Store;
                var newest = reads.QueueAsync(new QueueFilter(null, null, null, null, null, null, null), long.MaxValue, 1).GetAwaiter().GetResult();
                var deep = newest.Count > 0 ? newest[0].Seq - 100 * ConsoleReads.PageSize : long.MaxValue;
                var pages = new (string Name, string Path)[]
                {
                    ("overview", "/ui/overview"),
                    ("overview_live", "/ui/overview/live"),
                    ("queue", "/ui/queue"),
                    ("queue_page_100", $"/ui/queue?before={deep}"),
                    ("queue_capability", "/ui/queue?capability=conductivity"),
                    ("queue_status_resolved", "/ui/queue?status=resolved"),
                    ("queue_status_pending_none_stored", "/ui/queue?status=pending"),
                    ("queue_status_pending_capability_none_stored", "/ui/queue?status=pending&capability=conductivity"),
                    ("queue_status_reserved_none_stored", "/ui/queue?status=reserved"),
                    ("queue_status_retracted_none_stored", "/ui/queue?status=retracted"),
                    ("queue_tenant", $"/ui/queue?tenant={Tenant:D}"),
                    ("request", newest.Count > 0 ? $"/ui/requests/{newest[0].Uuid:D}" : "/ui/overview"),
                    ("campaign", "/ui/campaign"),
                    ("campaign_live", "/ui/campaign/live"),
                    ("campaign_figures", "/ui/campaign/figures"),
                    ("campaign_plot_script", "/ui/campaign/plots/conductivity.js"),
                };
                var report = new JsonObject { ["requests_stored"] = svc.Store.StatusCountsAsync().GetAwaiter().GetResult().Values.Sum(), ["gets_per_page"] = gets };
                // What one refresh of the overview's shared numbers costs the store (the pages themselves read the cache).
                var sw = Stopwatch.StartNew();
                reads.StatusCountsByCapabilityAsync(null).GetAwaiter().GetResult();
                report["overview_counts_ms"] = Math.Round(sw.Elapsed.TotalMilliseconds, 1);
                sw.Restart();
                reads.TenantActivityAsync(svc.UtcNow.AddHours(-1)).GetAwaiter().GetResult();
                report["overview_activity_last_hour_ms"] = Math.Round(sw.Elapsed.TotalMilliseconds, 1);
                // What one refresh of the campaign view costs (reads of its capabilities, extraction, drawing); the
                // pages read the shared cache.
                var campaign = new CampaignCache(svc).Get(null).GetAwaiter().GetResult();
                report["campaign_refresh_ms"] = Math.Round(campaign.Took.TotalMilliseconds, 1);
                report["campaign_results_read"] = campaign.Reads.Sum(r => r.Results);
                // A tenant role that sees none of them: every capability's whole scan window is read and filtered out.
                var scoped = new CampaignCache(svc).Get([Guid.NewGuid()]).GetAwaiter().GetResult();
                report["campaign_refresh_tenant_seeing_none_ms"] = Math.Round(scoped.Took.TotalMilliseconds, 1);
                foreach (var (name, path) in pages) report[name] = Time(http, path, gets);
                Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                return 0;
            }
            finally
            {
                app.StopAsync().GetAwaiter().GetResult();
                ((IDisposable)app).Dispose();
            }
        }
        finally
        {
            if (keep is null) try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    private static void Preload(string db, int n)
    {
        using var store = SqlBrokerStore.OpenSqlite(db);
        var stored = store.StatusCountsAsync().GetAwaiter().GetResult().Values.Sum();
        if (stored >= n) return;
        var request = JsonNode.Parse(BenchBroker.Corpus("examples/requests/conductivity/polynomial_interpolation.json"))!;
        request["tenant_uuid"] = Tenant.ToString("D");
        var result = JsonNode.Parse(BenchBroker.Corpus("examples/results/conductivity/polynomial_interpolation.json"))!;
        result["tenant_uuid"] = Tenant.ToString("D");
        result["request_uuid"] = "REQUEST_UUID";
        var sw = Stopwatch.StartNew();
        store.Preload(n - (int)stored, request.ToJsonString(), result.ToJsonString(), Tenant, "conductivity", "polynomial_interpolation", done =>
        {
            if (done % 100_000 == 0) Console.Error.WriteLine($"preload: {stored + done:N0}/{n:N0} requests ({sw.Elapsed.TotalSeconds:F0} s)");
        });
    }

    /// <summary>
    /// N open overview pages (for `bench broker --self --console-pages N`): each fetches the live panel every second with
    /// an admin's session cookie, as the page's console.js does, until disposed. Counts the fetches and the failures.
    /// </summary>
    internal sealed class OpenPages : IDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly HttpClient http;
        private readonly Task[] pages;
        private long fetches;
        private long failures;

        public OpenPages(string url, string adminToken, int n)
        {
            var cookies = new CookieContainer();
            cookies.Add(new Uri(url), new Cookie(ConsoleAuth.CookieName, adminToken, "/ui"));
            http = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = new Uri(url) };
            pages = Enumerable.Range(0, n).Select(_ => Task.Run(Poll)).ToArray();
        }

        public long Fetches => Interlocked.Read(ref fetches);
        public long Failures => Interlocked.Read(ref failures);

        private async Task Poll()
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            try
            {
                do
                {
                    try
                    {
                        using var r = await http.GetAsync("/ui/overview/live", stop.Token);
                        await r.Content.ReadAsByteArrayAsync(stop.Token);
                        Interlocked.Increment(ref r.StatusCode == HttpStatusCode.OK ? ref fetches : ref failures);
                    }
                    catch (HttpRequestException) { Interlocked.Increment(ref failures); }
                } while (await timer.WaitForNextTickAsync(stop.Token));
            }
            catch (OperationCanceledException) { }
        }

        public void Dispose()
        {
            stop.Cancel();
            Task.WaitAll(pages);
            http.Dispose();
            stop.Dispose();
        }
    }

    private static JsonObject Time(HttpClient http, string path, int gets)
    {
        var ms = new List<double>(gets);
        for (var i = 0; i < gets + 5; i++)
        {
            var sw = Stopwatch.StartNew();
            using var r = http.GetAsync(path).GetAwaiter().GetResult();
            var body = r.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult();
            sw.Stop();
            if (r.StatusCode != HttpStatusCode.OK) throw new UsageError($"GET {path} answered {(int)r.StatusCode}");
            if (i >= 5) ms.Add(sw.Elapsed.TotalMilliseconds);
        }
        ms.Sort();
        double P(double q) => Math.Round(ms[Math.Min(ms.Count - 1, (int)Math.Ceiling(q * ms.Count) - 1)], 1);
        return new JsonObject { ["p50_ms"] = P(0.5), ["p99_ms"] = P(0.99) };
    }
}
