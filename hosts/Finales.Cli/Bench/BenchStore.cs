using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Broker;

namespace Finales.Cli;

/// <summary>
/// `finales bench lists` (the broker's memory while it serves /all_requests/ from a large store) and
/// `finales bench waiters` (latency of a plain GET while many clients long-poll the pending queue). Both start their
/// own broker process (this build's, or another build's finales.dll with --cli, to compare before and after).
/// </summary>
public static class BenchStore
{
    private const string AdminPassword = "bench-admin";
    private static readonly Guid Tenant = Guid.Parse("b5e4c4a0-0000-4000-8000-00000000be4c");

    public static FinalesCommand Lists()
    {
        var requests = Opt.Int("--requests", "resolved requests in the store", 1_000_000, 1);
        var concurrent = Opt.Int("--concurrent", "clients reading at once in the second round", 4, 1, 1024);
        var keep = Opt.Text("--keep", "keep (and reuse) the store in DIR", "DIR");
        var cli = Opt.Text("--cli", "another build's finales.dll to run as the broker (e.g. the code before a change)", "DLL");
        var command = new FinalesCommand("lists", "broker memory while serving /all_requests/ from a large store (1 and 4 clients)")
        {
            Notes = """
                Stores N resolved requests (with results and events) in a SQLite store (once; a kept store is reused),
                then, each on a freshly started broker, GET /all_requests/ once and by --concurrent clients at once,
                reading the answers as they stream. Reports the broker's resident memory before and its peak (VmHWM)
                after each. --cli runs another build's finales.dll as the broker (e.g. the code before a change).
                """,
            Examples = ["./finales bench lists --requests 100000 --keep bench-lists"],
        };
        foreach (var o in new Option[] { requests, concurrent, keep, cli }) command.Options.Add(o);
        command.SetAction((parse, ct) => ListsAsync(parse.GetValue(requests), parse.GetValue(concurrent), parse.GetValue(keep), parse.GetValue(cli), ct));
        return command;
    }

    private static async Task<int> ListsAsync(int n, int concurrent, string? keep, string? cli, CancellationToken ct)
    {
        var dir = keep ?? Path.Combine(Path.GetTempPath(), "finales-bench-lists-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var db = Path.Combine(dir, "bench.db");
        try
        {
            long stored;
            using (var store = SqlBrokerStore.OpenSqlite(db))
            {
                stored = (await store.StatusCountsAsync(ct)).Values.Sum();
                if (stored < n)
                {
                    var (request, result) = Bodies();
                    var sw = Stopwatch.StartNew();
                    store.Preload(n - (int)stored, request, result, Tenant, "conductivity", "polynomial_interpolation", done =>
                    {
                        if (done % 100_000 == 0) Console.Error.WriteLine($"preload: {stored + done:N0}/{n:N0} requests ({sw.Elapsed.TotalSeconds:F0} s)");
                    });
                    stored = n;
                }
            }
            var report = new JsonObject { ["requests_stored"] = stored, ["broker"] = cli ?? "this build" };
            foreach (var clients in new[] { 1, concurrent })
            {
                using var broker = Broker.Start($"--db \"{db}\"", cli);
                var idle = BenchBroker.RssMb(broker.Pid);
                var sw = Stopwatch.StartNew();
                var bytes = await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(() => broker.Drain("/all_requests/"), ct)));
                report[$"clients_{clients}"] = new JsonObject
                {
                    ["rss_before_mb"] = idle,
                    ["peak_rss_mb"] = BenchBroker.PeakRssMb(broker.Pid),
                    ["rss_after_mb"] = BenchBroker.RssMb(broker.Pid),
                    ["seconds"] = Math.Round(sw.Elapsed.TotalSeconds, 1),
                    ["bytes_per_answer"] = bytes[0],
                };
            }
            Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        finally
        {
            if (keep is null) try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    public static FinalesCommand Waiters()
    {
        var waiters = Opt.Int("--waiters", "clients long-polling the pending queue", 1000, 1);
        var pending = Opt.Int("--pending", "pending requests posted first", 200, 0);
        var gets = Opt.Int("--gets", "plain GET /pending_requests/ calls timed without and with the waiters", 200, 1);
        var cli = Opt.Text("--cli", "another build's finales.dll to run as the broker", "DLL");
        var command = new FinalesCommand("waiters", "latency of a plain GET while 1,000 clients long-poll the pending queue")
        {
            Notes = """
                On a fresh SQLite broker: posts --pending requests of conductivity/polynomial_interpolation, then keeps
                --waiters clients long-polling GET /pending_requests/?quantity=conductivity&method=two_electrode&wait_seconds=60
                (nothing they wait for arrives), and times --gets plain GET /pending_requests/ calls one after another,
                without and with the waiters. Reports p50 and p99 in ms and the broker's CPU use meanwhile.
                """,
            Examples = ["./finales bench waiters --waiters 200"],
        };
        foreach (var o in new Option[] { waiters, pending, gets, cli }) command.Options.Add(o);
        command.SetAction(parse => Waiters(parse.GetValue(waiters), parse.GetValue(pending), parse.GetValue(gets), parse.GetValue(cli)));
        return command;
    }

    private static int Waiters(int waiters, int pending, int gets, string? cli)
    {
        var dir = Path.Combine(Path.GetTempPath(), "finales-bench-waiters-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            using var broker = Broker.Start($"--db \"{Path.Combine(dir, "bench.db")}\"", cli);
            broker.Seed();
            var (request, _) = Bodies();
            for (var i = 0; i < pending; i++) broker.Send(HttpMethod.Post, "/requests/", request, 200);
            var report = new JsonObject { ["waiters"] = waiters, ["pending_requests"] = pending, ["broker"] = cli ?? "this build" };
            report["without_waiters"] = broker.TimeGets(gets);
            using var stop = new CancellationTokenSource();
            var handler = new SocketsHttpHandler { MaxConnectionsPerServer = waiters + 16 };
            using var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
            var polls = Enumerable.Range(0, waiters).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    using var msg = new HttpRequestMessage(HttpMethod.Get, broker.Url + "/pending_requests/?quantity=conductivity&method=two_electrode&wait_seconds=60");
                    msg.Headers.Authorization = new AuthenticationHeaderValue("Bearer", broker.Token);
                    try { using var r = await http.SendAsync(msg, stop.Token); }
                    catch (OperationCanceledException) { }
                }
            })).ToArray();
            // Every waiter connected and waiting before the measurement starts.
            Thread.Sleep(TimeSpan.FromSeconds(3));
            var cpuBefore = broker.CpuSeconds();
            var sw = Stopwatch.StartNew();
            var with = broker.TimeGets(gets);
            with["broker_cpu_share"] = Math.Round((broker.CpuSeconds() - cpuBefore) / sw.Elapsed.TotalSeconds, 2);
            report["with_waiters"] = with;
            stop.Cancel();
            try { Task.WaitAll(polls); } catch (AggregateException) { }
            Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    private static (string Request, string Result) Bodies()
    {
        var request = JsonNode.Parse(BenchBroker.Corpus("examples/requests/conductivity/polynomial_interpolation.json"))!;
        request["tenant_uuid"] = Tenant.ToString("D");
        var result = JsonNode.Parse(BenchBroker.Corpus("examples/results/conductivity/polynomial_interpolation.json"))!;
        result["tenant_uuid"] = Tenant.ToString("D");
        result["request_uuid"] = "REQUEST_UUID";
        return (request.ToJsonString(), result.ToJsonString());
    }

    /// <summary>A broker process of its own on a free loopback port, logged in as admin.</summary>
    private sealed class Broker : IDisposable
    {
        private readonly Process _process;
        private readonly HttpClient _http = new() { Timeout = TimeSpan.FromMinutes(30) };
        public string Url { get; }
        public string Token { get; }
        public int Pid => _process.Id;

        private Broker(Process process, string url)
        {
            _process = process;
            Url = url;
            BenchBroker.WaitUp(url, process);
            Token = BenchBroker.Login(_http, url, "admin", AdminPassword);
        }

        public static Broker Start(string storeArgs, string? cliDll)
        {
            var url = $"http://127.0.0.1:{Finales.Hosting.Loopback.FreePort()}";
            var dll = cliDll ?? typeof(BenchStore).Assembly.Location;
            var psi = new ProcessStartInfo("dotnet", $"\"{dll}\" serve {storeArgs} --urls {url} --quiet")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            psi.Environment["FINALES_ADMIN_PASSWORD"] = AdminPassword;
            var p = Process.Start(psi) ?? throw new UsageError("could not start the broker");
            p.OutputDataReceived += (_, _) => { };
            p.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("broker: " + e.Data); };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            try { return new Broker(p, url); }
            catch
            {
                p.Kill(true);
                throw;
            }
        }

        public string Send(HttpMethod method, string path, string? body, int expect)
        {
            using var msg = new HttpRequestMessage(method, Url + path);
            msg.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            if (body is not null) msg.Content = new StringContent(body, Encoding.UTF8, "application/json");
            using var r = _http.Send(msg);
            var text = r.Content.ReadAsStringAsync().Result;
            if ((int)r.StatusCode != expect && !((int)r.StatusCode == 409 && expect == 201))
                throw new UsageError($"{method} {path} answered {(int)r.StatusCode}: {text[..Math.Min(300, text.Length)]}");
            return text;
        }

        /// <summary>Registers the capability, tenant and limitations the bench requests need (the admin acts for the tenant).</summary>
        public void Seed()
        {
            Send(HttpMethod.Post, "/admin/capabilities", BenchBroker.Corpus("serialized_quantities/conductivity/polynomial_interpolation.json"), 201);
            Send(HttpMethod.Post, "/admin/capabilities", BenchBroker.Corpus("serialized_quantities/conductivity/two_electrode.json"), 201);
            var limitations = BenchBroker.Corpus("examples/limitations/conductivity/polynomial_interpolation.json");
            Send(HttpMethod.Post, "/admin/tenants", $"{{\"name\":\"bench-tenant\",\"uuid\":\"{Tenant:D}\",\"limitations\":{limitations},\"contact_person\":\"bench\"}}", 201);
        }

        /// <summary>Reads a whole answer as it streams, without keeping it; returns its length in bytes.</summary>
        public long Drain(string path)
        {
            using var msg = new HttpRequestMessage(HttpMethod.Get, Url + path);
            msg.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            using var r = _http.Send(msg, HttpCompletionOption.ResponseHeadersRead);
            if (!r.IsSuccessStatusCode) throw new UsageError($"GET {path} answered {(int)r.StatusCode}");
            using var s = r.Content.ReadAsStream();
            var buffer = new byte[1 << 16];
            long total = 0;
            int read;
            while ((read = s.Read(buffer)) > 0) total += read;
            return total;
        }

        public JsonObject TimeGets(int n)
        {
            var ms = new List<double>(n);
            for (var i = 0; i < n; i++)
            {
                var sw = Stopwatch.StartNew();
                Send(HttpMethod.Get, "/pending_requests/", null, 200);
                ms.Add(sw.Elapsed.TotalMilliseconds);
            }
            ms.Sort();
            return new JsonObject { ["gets"] = n, ["p50_ms"] = Math.Round(ms[ms.Count / 2], 2), ["p99_ms"] = Math.Round(ms[(int)(ms.Count * 0.99)], 2) };
        }

        public double CpuSeconds() => ProcStat.CpuSeconds(Pid);

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(true);
                _process.WaitForExit();
            }
            _process.Dispose();
            _http.Dispose();
        }
    }
}
