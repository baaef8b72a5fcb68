using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Broker;

namespace Finales.Cli;

/// <summary>
/// `finales bench broker`: the closed tenant cycle (post request, list pending for its quantity/method, reserve,
/// post result, get result by request) by N workers for S seconds, against any FINALES2-compatible server
/// (only stock routes are used), or against a broker this command starts itself (--self).
/// </summary>
public static class BenchBroker
{
    private static readonly string[] CallNames = ["post_request", "pending", "reserve", "post_result", "get_result", "claim"];

    /// <summary>The options of one run, parsed by <see cref="Create"/>.</summary>
    private sealed record Settings(string? Url, string? User, string? Password, string? Tenant, int Workers, double Seconds, bool Self,
        string? Postgres, bool PrivatePostgres, int Preload, string? Keep, double? Warmup, bool Claim, int ConsolePages);

    public static FinalesCommand Create()
    {
        var url = Opt.Text("--url", "the server to measure (or --self)", "URL");
        var user = Opt.Text("--user", "a user of that server", "U");
        var password = Opt.Text("--password", "its password", "P");
        var tenant = Opt.Text("--tenant", "the tenant to act for (default: the first tenant GET /tenants/ lists)", "UUID");
        var workers = Opt.Int("--workers", "concurrent workers", 8, 1, 256);
        var seconds = Opt.Number("--seconds", "measuring time", 10, 0.001, helpName: "S");
        var self = Opt.Switch("--self", "start a broker process and measure it");
        var postgres = Opt.Text("--postgres", "with --self: a PostgreSQL store instead of a fresh SQLite file", "CONN");
        var privatePostgres = Opt.Switch("--private-postgres", "with --self: start a private PostgreSQL cluster (fsync on) and measure on it");
        var preload = Opt.Int("--preload", "with --self: resolved requests stored before measuring", 0, 0);
        var keep = Opt.Text("--keep", "with --self: keep the store in DIR", "DIR");
        var warmup = Opt.OptionalNumber("--warmup", "warm-up seconds before measuring (default 1, with --self 3)", 0, helpName: "S");
        var claim = Opt.Switch("--claim", "use POST /requests/claim instead of pending + reserve");
        var consolePages = Opt.Int("--console-pages", "with --self: open console overview pages polling their live panel", 0, 0, 1000);
        var command = new FinalesCommand("broker", "closed tenant cycle against any FINALES2-compatible server (or --self)")
        {
            Notes = """
                Runs the closed tenant cycle (post request, list pending for its quantity/method, reserve, post result,
                get result by request) with N workers for S seconds and prints JSON: cycles/s, p50/p99 ms per call, errors.
                Only FINALES2 routes are used, so any compatible server can be measured. The server must offer the
                capability conductivity/polynomial_interpolation and the user must be allowed to act for --tenant
                (default: the first tenant GET /tenants/ lists).

                --self       start a broker process on a fresh SQLite file (or --postgres CONN), register the corpus
                             capability, a tenant and a user, and measure it; also reports the broker's CPU and peak
                             memory and the CPU of this load generator per cycle
                --private-postgres  with --self: initdb a private PostgreSQL cluster in the store directory (the
                             newest server under /usr/lib/postgresql, as the postgres user when run as root; the
                             server's defaults, so fsync and synchronous commit on), measure on a fresh database in it,
                             also report the server's CPU per cycle (postmaster and its children), then stop it
                --preload N  with --self: store N resolved requests (with results and events) before measuring
                --keep DIR   with --self: keep the store in DIR (default: a temp dir, deleted afterwards)
                --claim      use Finales' one-round-trip POST /requests/claim instead of listing pending requests and
                             reserving one (not a FINALES2 route): post request, claim, post result, get result
                --console-pages N  with --self: N open console overview pages (an admin's session each fetching
                             /ui/overview/live every second, as the page does) during warm-up and measurement
                """,
            Examples =
            [
                "./finales bench broker --self --seconds 10",
                "./finales bench broker --self --seconds 10 --console-pages 10",
                "./finales bench broker --self --private-postgres --seconds 20 --warmup 10",
                "./finales bench broker --url http://127.0.0.1:13371 --user admin --password change-me",
            ],
        };
        foreach (var o in new Option[] { url, user, password, tenant, workers, seconds, self, postgres, privatePostgres, preload, keep, warmup, claim, consolePages })
            command.Options.Add(o);
        command.SetAction(parse => Run(new Settings(parse.GetValue(url), parse.GetValue(user), parse.GetValue(password), parse.GetValue(tenant),
            parse.GetValue(workers), parse.GetValue(seconds), parse.GetValue(self), parse.GetValue(postgres), parse.GetValue(privatePostgres), parse.GetValue(preload),
            parse.GetValue(keep), parse.GetValue(warmup), parse.GetValue(claim), parse.GetValue(consolePages))));
        return command;
    }

    private static int Run(Settings a)
    {
        if (a.PrivatePostgres && a.Postgres is not null) throw new UsageError("--private-postgres and --postgres exclude each other: the one starts its own server, the other names one");
        if (!a.Self && (a.PrivatePostgres || a.Postgres is not null)) throw new UsageError($"{(a.PrivatePostgres ? "--private-postgres" : "--postgres")} needs --self (it chooses the store of the broker the bench starts)");
        if (a.Self) return RunSelf(a, a.Workers, a.Seconds, a.Claim);
        var url = a.Url ?? throw new UsageError("--url is required (or --self)");
        var user = a.User ?? throw new UsageError("--user is required");
        var password = a.Password ?? throw new UsageError("--password is required");
        var report = Measure(url.TrimEnd('/'), user, password, a.Tenant, a.Workers, a.Seconds, a.Warmup ?? 1, a.Claim);
        Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    /// <summary>The text of a FINALES2 corpus file shipped with the CLI (BundledData).</summary>
    internal static string Corpus(string relative) => File.ReadAllText(BundledData.Corpus(relative));

    private static int RunSelf(Settings a, int workers, double seconds, bool claim)
    {
        var keep = a.Keep;
        var dir = keep ?? Path.Combine(Path.GetTempPath(), "finales-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        using var cluster = a.PrivatePostgres ? StartCluster(Path.Combine(dir, "postgres")) : null;
        var pg = cluster?.ConnectionString("bench") ?? a.Postgres;
        var storeArgs = pg is null ? $"--db \"{Path.Combine(dir, "bench.db")}\"" : $"--postgres \"{pg}\"";
        // A fixed tenant id, so a kept store (--keep) can be measured again without re-seeding.
        var tenant = Guid.Parse("b5e4c4a0-0000-4000-8000-00000000be4c");
        var preload = a.Preload;
        if (preload > 0)
        {
            var options = new BrokerOptions { DbPath = Path.Combine(dir, "bench.db"), Postgres = pg };
            using var store = BrokerHost.OpenStore(options);
            var request = JsonNode.Parse(Corpus("examples/requests/conductivity/polynomial_interpolation.json"))!;
            request["tenant_uuid"] = tenant.ToString("D");
            var result = JsonNode.Parse(Corpus("examples/results/conductivity/polynomial_interpolation.json"))!;
            result["tenant_uuid"] = tenant.ToString("D");
            result["request_uuid"] = "REQUEST_UUID";
            var sw = Stopwatch.StartNew();
            store.Preload(preload, request.ToJsonString(), result.ToJsonString(), tenant, "conductivity", "polynomial_interpolation", done =>
            {
                if (done % 50000 == 0 || done == preload)
                    Console.Error.WriteLine($"preload: {done:N0}/{preload:N0} requests ({sw.Elapsed.TotalSeconds:F0} s)");
            });
        }
        var port = Finales.Hosting.Loopback.FreePort();
        var url = $"http://127.0.0.1:{port}";
        var dll = typeof(BenchBroker).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet", $"\"{dll}\" serve {storeArgs} --urls {url} --quiet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.Environment["FINALES_ADMIN_PASSWORD"] = "bench-admin";
        using var server = Process.Start(psi) ?? throw new UsageError("could not start the broker");
        server.OutputDataReceived += (_, _) => { };
        server.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("broker: " + e.Data); };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            WaitUp(url, server);
            using var http = new HttpClient();
            var admin = Login(http, url, "admin", "bench-admin");
            void Post(string path, string body)
            {
                using var msg = new HttpRequestMessage(HttpMethod.Post, url + path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                msg.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin);
                using var r = http.Send(msg);
                if ((int)r.StatusCode >= 300 && (int)r.StatusCode != 409)
                    throw new UsageError($"seeding {path} failed: {(int)r.StatusCode} {r.Content.ReadAsStringAsync().Result}");
            }
            Post("/admin/capabilities", Corpus("serialized_quantities/conductivity/polynomial_interpolation.json"));
            var limitations = Corpus("examples/limitations/conductivity/polynomial_interpolation.json");
            Post("/admin/tenants", $"{{\"name\":\"bench-tenant\",\"uuid\":\"{tenant:D}\",\"limitations\":{limitations},\"contact_person\":\"bench\"}}");
            Post("/admin/users", $"{{\"username\":\"bench\",\"password\":\"bench-pw\",\"roles\":[\"tenant\"],\"tenants\":[\"{tenant:D}\"]}}");
            using var pages = a.ConsolePages > 0 ? new BenchConsole.OpenPages(url, admin, a.ConsolePages) : null;
            // Warm up (JIT, tiered compilation, connection pools) outside the measured window.
            Measure(url, "bench", "bench-pw", tenant.ToString("D"), workers, a.Warmup ?? 3, 0, claim);
            var cpuBefore = ProcStat.CpuSeconds(server.Id);
            var clientBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var serverBefore = cluster?.CpuSeconds() ?? 0;
            var report = Measure(url, "bench", "bench-pw", tenant.ToString("D"), workers, seconds, 0, claim);
            var cpu = ProcStat.CpuSeconds(server.Id) - cpuBefore;
            var serverCpu = (cluster?.CpuSeconds() ?? 0) - serverBefore;
            var clientCpu = (Process.GetCurrentProcess().TotalProcessorTime - clientBefore).TotalSeconds;
            // CPU the broker spent per cycle in the measured window: independent of what else the machine runs.
            var totalCycles = report["cycles"]!.GetValue<long>();
            report["broker_cpu_ms_per_cycle"] = totalCycles == 0 ? 0 : Math.Round(cpu * 1000.0 / totalCycles, 3);
            // The load generator shares the machine: its CPU per cycle is what the broker could not use.
            report["client_cpu_ms_per_cycle"] = totalCycles == 0 ? 0 : Math.Round(clientCpu * 1000.0 / totalCycles, 3);
            if (cluster is not null)
            {
                // The database server shares the machine too (its processes that ran through the whole window).
                report["postgres_cpu_ms_per_cycle"] = totalCycles == 0 ? 0 : Math.Round(serverCpu * 1000.0 / totalCycles, 3);
                report["postgres_server"] = $"private cluster, fsync on: {cluster.Version}";
            }
            report["store"] = pg is null ? "sqlite" : "postgresql";
            report["preloaded_requests"] = preload;
            report["broker_peak_rss_mb"] = PeakRssMb(server.Id);
            report["broker_rss_mb"] = RssMb(server.Id);
            report["console_pages"] = a.ConsolePages;
            report["console_live_fetches"] = pages?.Fetches ?? 0;
            report["console_live_failures"] = pages?.Failures ?? 0;
            Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        finally
        {
            if (!server.HasExited) { server.Kill(true); server.WaitForExit(); }
            cluster?.Dispose(); // stopped before its directory goes
            if (keep is null) try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    /// <summary>A private cluster (the server's defaults, fsync on) with the database <c>bench</c>; a kept one is started again.</summary>
    private static PrivatePostgres StartCluster(string dir)
    {
        PrivatePostgres? cluster = null;
        try
        {
            cluster = PrivatePostgres.Start(dir, Finales.Hosting.Loopback.FreePort(), m => Console.Error.WriteLine(m));
            if (!cluster.Kept) cluster.CreateDatabase("bench");
            return cluster;
        }
        catch (Exception e) when (e is InvalidOperationException or Npgsql.NpgsqlException)
        {
            cluster?.Dispose();
            throw new UsageError(e.Message);
        }
    }

    internal static double PeakRssMb(int pid) => ProcStatus(pid, "VmHWM:");
    internal static double RssMb(int pid) => ProcStatus(pid, "VmRSS:");

    private static double ProcStatus(int pid, string key)
    {
        try
        {
            var line = File.ReadAllLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(key));
            return line is null ? double.NaN : Math.Round(double.Parse(line[key.Length..].Trim().Split(' ')[0]) / 1024.0, 1);
        }
        catch (IOException) { return double.NaN; }
    }

    internal static void WaitUp(string url, Process server)
    {
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (server.HasExited) throw new UsageError($"the broker exited with code {server.ExitCode}");
            try { if (http.GetAsync(url + "/").Result.IsSuccessStatusCode) return; } catch (AggregateException) { }
            Thread.Sleep(100);
        }
        throw new UsageError($"the broker did not answer on {url} within 60 s");
    }

    internal static string Login(HttpClient http, string url, string user, string password)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = user, ["password"] = password });
        using var r = http.PostAsync(url + "/user_management/authenticate", form).Result;
        var body = r.Content.ReadAsStringAsync().Result;
        if (!r.IsSuccessStatusCode) throw new UsageError($"login as {user} failed: {(int)r.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>Runs the cycle; returns the JSON report.</summary>
    public static JsonObject Measure(string url, string user, string password, string? tenant, int workers, double seconds, double warmup, bool claim = false)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = workers * 2, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        var token = Login(http, url, user, password);
        if (tenant is null)
        {
            using var msg = new HttpRequestMessage(HttpMethod.Get, url + "/tenants/");
            msg.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var r = http.Send(msg);
            var list = JsonDocument.Parse(r.Content.ReadAsStringAsync().Result).RootElement;
            if (list.GetArrayLength() == 0) throw new UsageError("the server has no tenants; pass --tenant UUID");
            tenant = list[0].GetProperty("tenant_uuid").GetString();
        }
        var request = JsonNode.Parse(Corpus("examples/requests/conductivity/polynomial_interpolation.json"))!;
        request["tenant_uuid"] = tenant;
        var requestJson = request.ToJsonString();
        var resultNode = JsonNode.Parse(Corpus("examples/results/conductivity/polynomial_interpolation.json"))!;
        resultNode["tenant_uuid"] = tenant;
        // The result body with a placeholder for the request id, filled in per cycle (the client's own cost stays small).
        const string placeholder = "00000000-0000-0000-0000-0000000000ff";
        resultNode["request_uuid"] = placeholder;
        var resultTemplate = resultNode.ToJsonString();
        var latencies = Enumerable.Range(0, CallNames.Length).Select(_ => new List<double>[workers]).ToArray();
        for (var c = 0; c < CallNames.Length; c++) for (var w = 0; w < workers; w++) latencies[c][w] = new List<double>(1 << 16);
        var cycles = new long[workers];
        var errors = new long[workers];
        var firstErrors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var measuring = false;
        var stopAt = DateTime.UtcNow.AddSeconds(warmup + seconds);
        var measureFrom = DateTime.UtcNow.AddSeconds(warmup);

        async Task<(int Status, string Body)> Call(int w, int callIndex, HttpMethod method, string path, string? body)
        {
            using var msg = new HttpRequestMessage(method, url + path);
            msg.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (body is not null) msg.Content = new StringContent(body, Encoding.UTF8, "application/json");
            var t0 = Stopwatch.GetTimestamp();
            using var r = await http.SendAsync(msg);
            var text = await r.Content.ReadAsStringAsync();
            if (measuring) latencies[callIndex][w].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            return ((int)r.StatusCode, text);
        }

        async Task Worker(int w)
        {
            while (DateTime.UtcNow < stopAt)
            {
                if (!measuring && DateTime.UtcNow >= measureFrom) measuring = true;
                try
                {
                    var (s1, b1) = await Call(w, 0, HttpMethod.Post, "/requests/", requestJson);
                    if (s1 != 200) throw new InvalidOperationException($"post request: {s1} {b1}");
                    var id = JsonSerializer.Deserialize<string>(b1)!;
                    if (claim)
                    {
                        // The oldest pending request, which another worker may have posted.
                        var (sc, bc) = await Call(w, 5, HttpMethod.Post, "/requests/claim?quantity=conductivity&method=polynomial_interpolation&lease_seconds=60", null);
                        if (sc != 200) throw new InvalidOperationException($"claim: {sc} {bc}");
                        using var claimed = JsonDocument.Parse(bc);
                        id = claimed.RootElement.GetProperty("uuid").GetString()!;
                    }
                    else
                    {
                        var (s2, b2) = await Call(w, 1, HttpMethod.Get, "/pending_requests/?quantity=conductivity&method=polynomial_interpolation", null);
                        if (s2 != 200 || !b2.Contains(id)) throw new InvalidOperationException($"pending list: {s2}, own request {(b2.Contains(id) ? "listed" : "missing")}");
                        var (s3, b3) = await Call(w, 2, HttpMethod.Post, $"/requests/{id}/update_status/?request_id={id}&new_status=reserved", null);
                        if (s3 != 200) throw new InvalidOperationException($"reserve: {s3} {b3}");
                    }
                    var (s4, b4) = await Call(w, 3, HttpMethod.Post, "/results/", resultTemplate.Replace(placeholder, id));
                    if (s4 != 200) throw new InvalidOperationException($"post result: {s4} {b4}");
                    var (s5, b5) = await Call(w, 4, HttpMethod.Get, $"/results_requested/{id}", null);
                    if (s5 != 200 || b5 == "null") throw new InvalidOperationException($"get result: {s5} {b5}");
                    if (measuring) cycles[w]++;
                }
                catch (Exception e) when (e is InvalidOperationException or HttpRequestException or TaskCanceledException)
                {
                    if (measuring) errors[w]++;
                    if (firstErrors.Count < 5) firstErrors.Enqueue(e.Message);
                }
            }
        }

        var sw = Stopwatch.StartNew();
        Task.WaitAll(Enumerable.Range(0, workers).Select(w => Task.Run(() => Worker(w))).ToArray());
        var elapsed = sw.Elapsed.TotalSeconds - warmup;
        var report = new JsonObject
        {
            ["url"] = url,
            ["workers"] = workers,
            ["seconds"] = Math.Round(elapsed, 2),
            ["cycles"] = cycles.Sum(),
            ["cycles_per_s"] = Math.Round(cycles.Sum() / elapsed, 1),
            ["errors"] = errors.Sum(),
        };
        var all = latencies.SelectMany(c => c.SelectMany(x => x)).ToArray();
        report["p50_ms"] = Percentile(all, 50);
        report["p99_ms"] = Percentile(all, 99);
        var calls = new JsonObject();
        for (var c = 0; c < CallNames.Length; c++)
        {
            var xs = latencies[c].SelectMany(x => x).ToArray();
            if (xs.Length == 0) continue; // the calls of the other cycle (claim or pending + reserve)
            calls[CallNames[c]] = new JsonObject { ["count"] = xs.Length, ["p50_ms"] = Percentile(xs, 50), ["p99_ms"] = Percentile(xs, 99), ["max_ms"] = xs.Length == 0 ? 0 : Math.Round(xs.Max(), 2) };
        }
        report["calls"] = calls;
        if (!firstErrors.IsEmpty) report["first_errors"] = new JsonArray(firstErrors.Select(e => (JsonNode?)e).ToArray());
        report["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}";
        report["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd");
        // The tiering knob `./finales` sets for long-running commands (README, "Warm-up"); a --self broker inherits it.
        report["dotnet_tc_call_counting_delay_ms"] = Environment.GetEnvironmentVariable("DOTNET_TC_CallCountingDelayMs") ?? "runtime default (100)";
        return report;
    }

    private static double Percentile(double[] xs, double p)
    {
        if (xs.Length == 0) return 0;
        Array.Sort(xs);
        var rank = (int)Math.Ceiling(p / 100.0 * xs.Length) - 1;
        return Math.Round(xs[Math.Clamp(rank, 0, xs.Length - 1)], 2);
    }
}
