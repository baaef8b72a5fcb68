using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Finales.Tenants.Cell;
using Finales.Tenants.Conductivity;

namespace Finales.Demo;

/// <summary>One run of the demo: the process tree, the live view, the chaos and the report.</summary>
public sealed class DemoRun(DemoSettings s) : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly List<DemoChild> _children = [];
    private readonly List<string> _chaos = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly string _adminPassword = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
    private readonly string _dumpKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
    private DemoChild? _broker, _lab, _conductivity, _md, _optimizer;
    private string _url = "";
    private DemoHttp? _admin;
    private BrokerReader? _reader;
    private DemoLiveView _view = null!;
    private string _status = "starting";
    private int _disposed;

    private Guid TenantId(string name) => new(SHA256.HashData(Encoding.UTF8.GetBytes($"finales-demo|{s.Seed}|{name}"))[..16]);
    private Guid Requester => TenantId("optimizer");
    private Guid Lab => TenantId("asab");
    private Guid Reference => TenantId("reference");
    private Guid Conductivity => TenantId("conductivity");
    private Guid Md => TenantId("md");
    private string Log(string name) => Path.Combine(s.Dir, "logs", name + ".log");

    public int Execute()
    {
        _view = new DemoLiveView(s, _clock, () => new DemoProgress(_status, OptimizerIteration()), ReadLive);
        Directory.CreateDirectory(Path.Combine(s.Dir, "logs"));
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; Note("Ctrl-C: stopping the tenants and the broker; the report is still written"); _cts.Cancel(); };
        EventHandler onExit = (_, _) => KillAll();
        Console.CancelKeyPress += onCancel;
        AppDomain.CurrentDomain.ProcessExit += onExit;
        var interrupted = false;
        Exception? failure = null;
        try
        {
            RunAsync(_cts.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) { interrupted = true; }
        catch (Exception e) when (e is DemoException or InvalidOperationException or HttpRequestException or IOException)
        {
            failure = e;
            Note($"the demo stopped early: {e.Message}");
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        _status = "stopping tenants";
        StopTenants();
        if (!File.Exists(s.Store))
        {
            StopBroker();
            AppDomain.CurrentDomain.ProcessExit -= onExit;
            throw new DemoException($"{failure?.Message ?? "the broker never created its store"}; no report was written (logs: {Path.Combine(s.Dir, "logs")})");
        }
        var info = new DemoRunInfo(s.Preset, s.Iterations, s.Batch, s.Seed, s.Chaos, interrupted || failure is not null, _clock.Elapsed.TotalSeconds,
            OptimizerPosted(), _chaos, new Dictionary<string, string>
            {
                ["asab"] = Path.Combine(s.Dir, "asab-journal.db"),
                // The stand-in cell no longer runs in the demo; its (absent) journal stays listed so report.json keeps its shape.
                ["cell"] = Path.Combine(s.Dir, "cell-journal.db"),
                ["conductivity"] = Path.Combine(s.Dir, "conductivity-journal.db"),
                ["md"] = Path.Combine(s.Dir, "md-journal.db"),
            }, Requester);
        JsonObject report;
        string html;
        try
        {
            // The report reads the broker's final state over its HTTP API, so the broker stops only afterwards.
            var (snapshot, brokerAudit) = ReadFinal().GetAwaiter().GetResult();
            report = DemoReport.Compute(snapshot, brokerAudit, s.Store, info);
            html = DemoReport.Write(report, s.ReportDir);
        }
        catch (Exception e) when (e is DemoException or HttpRequestException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            // Only paths of files this run wrote are printed: here the store and the logs, not a report.
            throw new DemoException($"{(failure is null ? "" : failure.Message + "; ")}no report was written: {e.Message} (store: {s.Store}, logs: {Path.Combine(s.Dir, "logs")})");
        }
        finally
        {
            _status = "stopping the broker";
            StopBroker();
            AppDomain.CurrentDomain.ProcessExit -= onExit;
        }
        var audit = report["audit"]!;
        var ok = audit["ok"]!.GetValue<bool>();
        Console.WriteLine();
        Console.WriteLine($"audit: {(ok ? "ok" : "FAILED")}: {audit["requests_checked"]} requests, {audit["resolved"]} resolved with exactly one current result, " +
                          $"{audit["pending"]} pending, {audit["lost"]} lost, {audit["duplicates"]} duplicated; event log replay " +
                          $"{(audit["store_audit_problems"]!.AsArray().Count == 0 ? "matches the stored state" : "FOUND PROBLEMS")}");
        foreach (var p in audit["store_audit_problems"]!.AsArray().Concat(audit["request_problems"]!.AsArray())) Console.WriteLine("  problem: " + p);
        var dv = report["density_viscosity"]!["pearson_r"];
        var best = report["best"] is JsonObject b
            ? string.Join(", ", s.Preset.Objectives.Select(o => $"{o.Name} {DemoChemistry.F(b[o.Name]!.GetValue<double>())}")) + $" at {b["formulation"]}"
            : "no complete point";
        Console.WriteLine($"best: {best}");
        Console.WriteLine($"density-viscosity Pearson r: {(dv is null ? "n/a" : DemoChemistry.F(dv.GetValue<double>()))}");
        Console.WriteLine($"store:  {s.Store}");
        Console.WriteLine($"run:    {s.Dir} (configs, tenant journals, logs/)");
        Console.WriteLine($"report: {html}");
        Console.WriteLine($"json:   {Path.Combine(s.ReportDir, "report.json")}");
        if (failure is not null) { Console.Error.WriteLine($"finales demo: {failure.Message}"); return 2; }
        return interrupted ? 130 : ok ? 0 : 3;
    }

    private async Task RunAsync(CancellationToken ct)
    {
        var port = Finales.Hosting.Loopback.FreePort();
        var url = $"http://127.0.0.1:{port}";
        _status = "starting the broker";
        _url = url;
        _broker = Child("broker", $"serve --db \"{s.Store}\" --urls {url} --quiet --lease-seconds 30",
            new Dictionary<string, string> { ["FINALES_ADMIN_PASSWORD"] = _adminPassword, ["FINALES_DUMP_KEY"] = _dumpKey });
        _broker.Start();
        await DemoHttp.WaitUp(url, _broker, TimeSpan.FromSeconds(60), ct);
        _admin = new DemoHttp(url, "admin", _adminPassword);
        _reader = new BrokerReader(_admin, _dumpKey);
        Note($"broker up on {url} (pid {_broker.Pid}), store {s.Store}");
        _status = "registering capabilities, tenants and users";
        var lammps = s.Lammps;
        if (s.LammpsMissing)
            Note($"LAMMPS ({s.Md.Lammps}) is not installed: the demo runs without the MD tenant" +
                 (DemoPreset.Parse(s.Preset.Name).UsesMd ? $" and the {s.Preset.Name} preset without its MD conductivity level" : "") +
                 " (sudo apt-get install -y lammps packmol slurm-wlm munge)");
        await Register(url, lammps is not null, ct);
        var asabConfig = TenantConfig("asab", Lab, "asab-pw", url, new JsonObject { ["Asab"] = AsabSection() });
        var condConfig = TenantConfig("conductivity", Conductivity, "conductivity-pw", url, new JsonObject
        {
            ["Conductivity"] = new JsonObject { ["SimulatedSeconds"] = Math.Round(60 * s.TimeScale, 3) },
        });
        var mdConfig = lammps is null ? null : TenantConfig("md", Md, "md-pw", url, new JsonObject
        {
            ["Md"] = DemoMd.Section(s.Md, lammps, Path.Combine(s.Dir, "md-jobs"), s.Seed),
        });
        var requests = s.Preset.Requests;
        var optimizerConfig = TenantConfig("optimizer", Requester, "optimizer-pw", url, new JsonObject
        {
            ["Optimizer"] = new JsonObject
            {
                ["Objectives"] = s.Preset.OptimizerObjectives(),
                ["Requests"] = s.Preset.OptimizerRequests(),
                ["BatchSize"] = s.Batch,
                // One batch in flight at a time: the next suggestions see the previous batch's results. B points carry
                // at most ceil(B x share) requests of a shared capability (the core's RequestShare spreads them evenly).
                ["QueueCap"] = requests.Sum(r => (int)Math.Ceiling(s.Batch * r.Share - 1e-9)),
                ["MinRating"] = 0,
                ["PollIntervalSeconds"] = 0.3,
                ["Seed"] = s.Seed,
                ["MaxIterations"] = s.Iterations,
                ["Chemicals"] = new JsonArray(DemoChemistry.All.Select(c => (JsonNode?)c.Name).ToArray()),
                ["TemperatureMin"] = DemoChemistry.TemperatureMin,
                ["TemperatureMax"] = DemoChemistry.TemperatureMax,
                ["Candidates"] = 500,
            },
        });
        _lab = Child("asab", $"tenant asab --config \"{asabConfig}\"");
        _conductivity = Child("conductivity", $"tenant conductivity --config \"{condConfig}\"");
        _optimizer = Child("optimizer", $"tenant optimizer --config \"{optimizerConfig}\"");
        _md = mdConfig is null ? null : Child("md", $"tenant md --config \"{mdConfig}\"");
        _lab.Start();
        _conductivity.Start();
        _md?.Start();
        Note($"tenants started: asab (simulated lab robot, time scale {s.TimeScale}, pid {_lab.Pid}), conductivity (pid {_conductivity.Pid})" +
             (_md is null ? "" : $", md (primitive model, {(s.Md.Slurm ? "slurm" : "local")} executor, {s.Md.ProductionNs} ns production, pid {_md.Pid})"));
        await PostReferenceSeries(url, ct);
        if (_md is not null && s.Md.Points > 0) await PostMdSeries(url, ct);
        // The optimizer's design space is the intersection of the limitations the offering tenants publish at start
        // (ASAB its stock-derived reach, which replaces the demo's registration). It starts only once they have, so its
        // first (seeded, random) batch never depends on which of them it happened to read first.
        await WaitForLimitations(_lab, "asab", ct);
        if (_md is not null) await WaitForLimitations(_md, "md", ct);
        _optimizer.Start();
        Note($"optimizer tenant started (pid {_optimizer.Pid}): {s.Preset.Description}; batch {s.Batch}, {s.Iterations} iterations, seed {s.Seed}");
        _status = "running";
        using var liveCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var live = Task.Run(() => _view.Run(liveCts.Token), CancellationToken.None);
        try
        {
            var chaosDone = !s.Chaos;
            while (_optimizer.IsRunning)
            {
                if (!chaosDone && OptimizerIteration() >= Math.Max(1, (s.Iterations + 1) / 2))
                {
                    await Chaos(ct);
                    chaosDone = true;
                }
                await Task.Delay(200, ct);
            }
            if (_optimizer.ExitCode is not 0)
                throw new DemoException($"the optimizer tenant exited with code {_optimizer.ExitCode}; see {Log("optimizer")}");
            Note($"optimizer tenant finished {OptimizerIteration()} iterations; waiting for the last results");
            _status = "draining the queue";
            var deadline = DateTime.UtcNow.AddSeconds(180);
            while (true)
            {
                var counts = (await _reader.Snapshot(ct)).StatusCounts();
                var open = counts.GetValueOrDefault("pending") + counts.GetValueOrDefault("reserved");
                if (open == 0) break;
                if (DateTime.UtcNow > deadline) { Note($"{open} requests still open after 180 s; stopping anyway (the audit counts them as pending)"); break; }
                await Task.Delay(300, ct);
            }
            _status = "campaign finished";
        }
        finally
        {
            liveCts.Cancel();
            await live;
        }
    }

    /// <summary>
    /// The low-fidelity reference series: one conductivity/polynomial_interpolation request per iteration for the
    /// conductivity tenant, LiPF6 in EC at seeded salt contents and temperatures (Fig. 7 compares it with the lab).
    /// Its model covers LiPF6 in EC/PC only, which the ASAB stocks cannot reach, so these are not optimizer inputs.
    /// </summary>
    private async Task PostReferenceSeries(string url, CancellationToken ct)
    {
        using var http = new DemoHttp(url, "reference", "reference-pw");
        var random = new Random(s.Seed);
        for (var i = 0; i < s.Iterations; i++)
        {
            var li = Math.Round(0.02 + 0.1 * random.NextDouble(), 4);
            var t = Math.Round(DemoChemistry.TemperatureMin + (DemoChemistry.TemperatureMax - DemoChemistry.TemperatureMin) * random.NextDouble(), 2);
            var body = new JsonObject
            {
                ["quantity"] = "conductivity",
                ["methods"] = new JsonArray("polynomial_interpolation"),
                ["parameters"] = new JsonObject
                {
                    ["polynomial_interpolation"] = new JsonObject
                    {
                        ["formulation"] = DemoChemistry.Formulation(new Dictionary<string, double> { ["LiPF6"] = li, ["EC"] = 1 - li }),
                        ["temperature"] = t,
                    },
                },
                ["tenant_uuid"] = Reference.ToString("D"),
            };
            await http.PostOk("/requests/", body.ToJsonString(), ct);
        }
        Note($"posted a low-fidelity reference series of {s.Iterations} salt-in-EC requests for the conductivity tenant");
    }

    /// <summary>The MD series: one conductivity/molecular_dynamics request per salt content of <see cref="DemoMd.SaltSeries"/>
    /// for the MD tenant (Fig. 7 and 8), posted by the reference requester.</summary>
    private async Task PostMdSeries(string url, CancellationToken ct)
    {
        using var http = new DemoHttp(url, "reference", "reference-pw");
        var series = DemoMd.SaltSeries(s.Md.Points);
        foreach (var salt in series)
        {
            await http.PostOk("/requests/", DemoMd.ConductivityRequest(salt, Reference).ToJsonString(), ct);
            await http.PostOk("/requests/", DemoMd.RdfRequest(salt, Reference).ToJsonString(), ct);
        }
        Note($"posted an MD series of {series.Count} conductivity/molecular_dynamics and {series.Count} radial_density_function/molacular_dynamics requests (LiPF6 in {DemoMd.Solvent}, x = {string.Join(", ", series)}) for the MD tenant");
    }

    /// <summary>Waits until a tenant's log says it registered its limitations on the broker (the hosting kit's start-up
    /// line), at most 120 s; a tenant that exits or takes longer stops the demo naming its log.</summary>
    private async Task WaitForLimitations(DemoChild child, string name, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            if (File.Exists(Log(name)))
            {
                await using var f = new FileStream(Log(name), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var r = new StreamReader(f);
                if ((await r.ReadToEndAsync(ct)).Contains("Registered limitations of tenant", StringComparison.Ordinal)) return;
            }
            if (!child.IsRunning) throw new DemoException($"the {name} tenant exited with code {child.ExitCode} before registering its limitations; see {Log(name)}");
            if (DateTime.UtcNow > deadline) throw new DemoException($"the {name} tenant did not register its limitations within 120 s; see {Log(name)}");
            await Task.Delay(200, ct);
        }
    }

    private static readonly System.Text.RegularExpressions.Regex PostedLine =
        new(@"Iteration (\d+): (?:posted|adopted) ([0-9a-fA-F-]{36}) ([^\s:]+)", System.Text.RegularExpressions.RegexOptions.Compiled);

    /// <summary>
    /// What the optimizer tenant says it posted: its log lines "Iteration N: posted ID quantity/method for ...", and
    /// "Iteration N: adopted ID quantity/method: ..." for a post the broker stored but whose answer a broker kill lost.
    /// </summary>
    private List<PostedRequest> OptimizerPosted()
    {
        var path = Log("optimizer");
        if (!File.Exists(path)) return [];
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var r = new StreamReader(f);
        var list = new List<PostedRequest>();
        while (r.ReadLine() is { } line)
            if (PostedLine.Match(line) is { Success: true } m)
                list.Add(new PostedRequest(Guid.Parse(m.Groups[2].Value), int.Parse(m.Groups[1].Value), m.Groups[3].Value));
        return list;
    }

    private int OptimizerIteration() { var p = OptimizerPosted(); return p.Count == 0 ? 0 : p.Max(x => x.Iteration); }

    private DemoChild Child(string name, string arguments, Dictionary<string, string>? env = null)
    {
        var c = new DemoChild(name, arguments, Log(name), env ?? new Dictionary<string, string>());
        _children.Add(c);
        return c;
    }

    private string TenantConfig(string name, Guid uuid, string password, string url, JsonObject extra)
    {
        var config = new JsonObject
        {
            ["Tenant"] = new JsonObject
            {
                ["BrokerUrl"] = url, ["Username"] = name, ["Password"] = password, ["TenantUuid"] = uuid.ToString("D"),
                ["JournalPath"] = Path.Combine(s.Dir, name + "-journal.db"),
                ["PollIntervalSeconds"] = 0.2, ["LeaseSeconds"] = 15, ["MaxBackoffSeconds"] = 2, ["InitialBackoffSeconds"] = 0.2,
                ["Seed"] = s.Seed, ["ShutdownGraceSeconds"] = 3,
            },
            ["Logging"] = new JsonObject { ["LogLevel"] = new JsonObject { ["Default"] = "Information", ["Microsoft"] = "Warning", ["System.Net.Http"] = "Warning", ["Finales.Devices"] = "Warning" } },
        };
        foreach (var (k, v) in extra.ToArray()) { extra.Remove(k); config[k] = v; }
        var path = Path.Combine(s.Dir, name + ".json");
        File.WriteAllText(path, config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        return path;
    }

    /// <summary>Capabilities from the FINALES2 corpus, the tenants and their users, through the admin routes.</summary>
    private async Task Register(string url, bool withMd, CancellationToken ct)
    {
        var admin = _admin!;
        var caps = new List<string> { "density/vibrating_tube_densimetry.json", "conductivity/polynomial_interpolation.json" };
        if (withMd) caps.AddRange(["conductivity/molecular_dynamics.json", "radial_density_function/molacular_dynamics.json"]);
        foreach (var cap in caps)
            await admin.PostOk("/admin/capabilities", await File.ReadAllTextAsync(Path.Combine(s.Data.CapabilitiesDirectory, cap), ct), ct);
        var condLimitations = JsonNode.Parse(new ConductivityWorker(new CoreConductivityModel()).LimitationsJson())!;
        var tenants = new (string Name, Guid Id, JsonNode Limitations, string User, string Password)[]
        {
            ("optimizer", Requester, new JsonArray(), "optimizer", "optimizer-pw"),
            ("reference-series", Reference, new JsonArray(), "reference", "reference-pw"),
            ("asab-lab", Lab, AsabLimitations(), "asab", "asab-pw"),
            ("conductivity-model", Conductivity, condLimitations, "conductivity", "conductivity-pw"),
        }.ToList();
        // The MD tenant publishes its own limitations when it starts.
        if (withMd) tenants.Add(("md-primitive", Md, new JsonArray(), "md", "md-pw"));
        foreach (var t in tenants)
        {
            await admin.PostOk("/admin/tenants", new JsonObject
            {
                ["name"] = t.Name, ["uuid"] = t.Id.ToString("D"), ["limitations"] = t.Limitations, ["contact_person"] = "finales demo",
            }.ToJsonString(), ct);
            await admin.PostOk("/admin/users", new JsonObject
            {
                ["username"] = t.User, ["password"] = t.Password, ["roles"] = new JsonArray("tenant"), ["tenants"] = new JsonArray(t.Id.ToString("D")),
            }.ToJsonString(), ct);
        }
        Note($"registered {caps.Count} capabilities (corpus), tenants {string.Join(", ", tenants.Select(t => t.Name))} and their users");
    }

    /// <summary>
    /// The ASAB tenant's section: the example config (tenants/Finales.Tenants.Asab/asab.example.json, shipped with the
    /// CLI) with absolute paths to the shipped example graph and stocks, simulated devices at the demo's time scale, the
    /// demo's seed and its temperature range, and a work directory inside the run folder.
    /// </summary>
    private JsonObject AsabSection()
    {
        var example = s.Data.AsabExampleConfig;
        var asab = (JsonNode.Parse(File.ReadAllText(example))?["Asab"] as JsonObject)?.DeepClone().AsObject()
                   ?? throw new DemoException($"{example} has no \"Asab\" section");
        asab["Simulated"] = true;
        asab["TimeScale"] = s.TimeScale;
        asab["Seed"] = s.Seed;
        asab["GraphDirectory"] = s.Data.AsabGraphDirectory;
        asab["StocksFile"] = s.Data.AsabStocksFile;
        asab["WorkDirectory"] = Path.Combine(s.Dir, "asab-work");
        asab["TemperatureMinK"] = DemoChemistry.TemperatureMin;
        asab["TemperatureMaxK"] = DemoChemistry.TemperatureMax;
        return asab;
    }

    /// <summary>The ASAB tenant registered with the demo's design space (inside its reach); it publishes its own at start.</summary>
    private static JsonArray AsabLimitations() => new(new JsonObject
    {
        ["quantity"] = "density", ["method"] = "vibrating_tube_densimetry", ["limitations"] = DemoChemistry.DesignLimitations(),
    });

    /// <summary>
    /// Chaos, once, when the optimizer has posted its middle iteration: kill -9 the ASAB tenant while it holds a request
    /// (its journal and the broker's lease bring the work back), restart it, then kill -9 and restart the broker.
    /// </summary>
    private async Task Chaos(CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        Guid? held = null;
        while (held is null && DateTime.UtcNow < deadline)
        {
            held = (await _reader!.Snapshot(ct)).ReservedBy(Lab);
            if (held is null) await Task.Delay(50, ct);
        }
        _lab!.KillHard();
        Note(held is { } h ? $"chaos: kill -9 of the ASAB tenant while it held request {h:D}" : "chaos: kill -9 of the ASAB tenant (it held no request within 30 s)");
        _chaos.Add(held is { } h2 ? $"kill -9 of the ASAB tenant while it held request {h2:D}; restarted after 1 s" : "kill -9 of the ASAB tenant (holding nothing); restarted after 1 s");
        await Task.Delay(1000, ct);
        _lab.Start();
        Note($"chaos: ASAB tenant restarted (pid {_lab.Pid}); its journal resumes the interrupted work");
        await Task.Delay(1500, ct);
        _broker!.KillHard();
        Note("chaos: kill -9 of the broker");
        await Task.Delay(2000, ct);
        _broker.Start();
        Note($"chaos: broker restarted on the same store (pid {_broker.Pid}); the tenants reconnect");
        _chaos.Add("kill -9 of the broker; restarted on the same store and port after 2 s");
    }

    private void Note(string message) => _view.Note(message);

    /// <summary>The broker's state for the live view, or null while it cannot answer: a short patience, so during a
    /// chaos restart the view waits for its next tick.</summary>
    private async Task<BrokerSnapshot?> ReadLive(CancellationToken ct)
    {
        if (_reader is null) return null;
        try { return await _reader.Snapshot(ct, TimeSpan.FromSeconds(2)); }
        catch (DemoException) { return null; }
    }

    /// <summary>Tenants stop first (they release unfinished work); the broker stays up for the report's reads.</summary>
    private void StopTenants()
    {
        foreach (var child in _children.Where(c => c != _broker)) child.Stop(TimeSpan.FromSeconds(8));
    }

    private void StopBroker() => _broker?.Stop(TimeSpan.FromSeconds(8));

    /// <summary>
    /// The broker's final state and its own audit, over its HTTP API. A broker that is not running (it failed, or the run
    /// was interrupted during a chaos restart) is started again on the same store for these reads.
    /// </summary>
    private async Task<(BrokerSnapshot Snapshot, IReadOnlyList<string> Audit)> ReadFinal()
    {
        if (_broker is null || _reader is null) throw new DemoException("the broker never answered, so there is nothing to report");
        if (!_broker.IsRunning)
        {
            _broker.Start();
            await DemoHttp.WaitUp(_url, _broker, TimeSpan.FromSeconds(60), CancellationToken.None);
        }
        var snapshot = await _reader.Snapshot(CancellationToken.None, TimeSpan.FromSeconds(30));
        return (snapshot, await _reader.Audit(CancellationToken.None));
    }

    private void KillAll()
    {
        foreach (var child in _children) try { child.KillHard(); } catch (InvalidOperationException) { }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        foreach (var child in _children) child.Dispose();
        _admin?.Dispose();
        _cts.Dispose();
    }
}
