using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Optimizer;

namespace Finales.Cli.Demo;

/// <summary>A goal of the demo: the Chimera hierarchy the campaign optimises.</summary>
public sealed record DemoPreset(string Name, string Description, ObjectiveSpec[] Objectives)
{
    public static readonly DemoPreset Electrolyte = new("electrolyte",
        "conductivity >= 0.8 S/m (absolute), then viscosity minimised (20 % relative), then density minimised",
        [
            new ObjectiveSpec("conductivity", "max", 0.8, "absolute"),
            new ObjectiveSpec("viscosity", "min", 0.2, "relative"),
            new ObjectiveSpec("density", "min", 0.0, "relative"),
        ]);

    /// <summary>The paper's goal: maximise viscosity, then minimise density.</summary>
    public static readonly DemoPreset Paper = new("paper",
        "viscosity maximised (10 % relative), then density minimised (the paper's goal)",
        [
            new ObjectiveSpec("viscosity", "max", 0.1, "relative"),
            new ObjectiveSpec("density", "min", 0.0, "relative"),
        ]);

    public static DemoPreset Parse(string name) => name switch
    {
        "electrolyte" => Electrolyte,
        "paper" => Paper,
        _ => throw new CliError($"--preset must be electrolyte or paper, got '{name}'"),
    };

    /// <summary>The capabilities the goal needs, and the observation quantities each one yields.</summary>
    public bool NeedsConductivity => Objectives.Any(o => o.Quantity == "conductivity");
}

/// <summary>One request the campaign posted.</summary>
public sealed record PostedRequest(Guid Id, int Iteration, int Point, string Quantity, string Method, IReadOnlyDictionary<string, double> Formulation, double Temperature);

/// <summary>Progress of one iteration, as the campaign saw it when the iteration ended.</summary>
public sealed record IterationProgress(int Iteration, int CompletePoints, double BestMerit, double ElapsedSeconds);

/// <summary>
/// The requester loop of `finales demo` (STAND-IN for the optimizer tenant while tenants/Finales.Tenants.Optimizer is
/// not in the build): each iteration asks the optimizer core (GP-UCB + Chimera, <see cref="OptimizerFacade.Suggest"/>)
/// for a batch of formulations, posts for each one a density/vibrating_tube_densimetry request (density + viscosity;
/// the ASAB tenant) and, when the goal needs conductivity, a conductivity/two_electrode request; plus one low-fidelity
/// reference request per iteration for the conductivity tenant. Then it waits for the results and feeds the lab's
/// back as observations.
/// </summary>
public sealed class DemoCampaign(DemoHttp http, Guid requester, DemoPreset preset, int iterations, int batch, int seed, Action<string> log)
{
    public const string LabSource = "lab", PolynomialSource = "polynomial";

    private readonly ConcurrentQueue<PostedRequest> _posted = new();
    private readonly Dictionary<Guid, JsonNode> _results = new();
    private readonly List<IterationProgress> _progress = [];
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    public IReadOnlyList<PostedRequest> Posted => _posted.ToArray();
    public IReadOnlyList<IterationProgress> Progress { get { lock (_progress) return _progress.ToArray(); } }
    public volatile int Iteration;
    public double BestMerit { get { lock (_progress) return _progress.Count == 0 ? double.NaN : _progress[^1].BestMerit; } }
    /// <summary>The objectives of the best point so far, e.g. "conductivity 0.81, viscosity 2.48, density 1.25".</summary>
    public volatile string BestPoint = "none yet";
    public TimeSpan IterationTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Runs the campaign; <paramref name="afterPost"/> is called after each iteration's requests are posted (chaos hook).</summary>
    public async Task RunAsync(Func<int, CancellationToken, Task> afterPost, CancellationToken ct)
    {
        var limitations = DemoChemistry.DesignLimitations().ToJsonString();
        for (var it = 1; it <= iterations; it++)
        {
            ct.ThrowIfCancellationRequested();
            Iteration = it;
            var d = OptimizerFacade.DefaultOptions;
            var options = new SuggestOptions(batch, seed * 7919 + it, d.SqrtBeta, d.Delta, d.BetaScale, d.MinRating, LabSource, 500,
                d.Softness, d.TemperatureMin, d.TemperatureMax);
            var outcome = OptimizerFacade.Suggest(limitations, preset.Objectives, Observations(), [], options);
            if (!outcome.Ok) throw new CliError($"the optimizer refused iteration {it}: {outcome.Error}");
            var ids = new List<Guid>();
            var point = _posted.Count == 0 ? 0 : _posted.Max(p => p.Point) + 1;
            foreach (var s in outcome.Value)
            {
                var byName = s.Formulation.ToDictionary(kv => DemoChemistry.Find(kv.Key)?.Name ?? kv.Key, kv => kv.Value);
                var temperature = Math.Round(s.Temperature, 2);
                ids.Add(await Post(it, point, "density", "vibrating_tube_densimetry", byName, temperature, ct));
                if (preset.NeedsConductivity) ids.Add(await Post(it, point, "conductivity", "two_electrode", byName, temperature, ct));
                point++;
            }
            ids.Add(await LowFidelityReference(it, point, ct));
            log($"iteration {it}/{iterations}: posted {ids.Count} requests for {outcome.Value.Length} formulations and one low-fidelity reference");
            await afterPost(it, ct);
            await WaitForResults(ids, ct);
            var best = BestMeritNow(out var complete);
            lock (_progress) _progress.Add(new IterationProgress(it, complete, best, _clock.Elapsed.TotalSeconds));
            log($"iteration {it}/{iterations}: {complete} complete points, best {BestPoint}");
        }
    }

    /// <summary>
    /// Each iteration also asks the low-fidelity model (the conductivity tenant) for one seeded salt-in-EC formulation:
    /// a reference series of conductivity vs salt content for the report (Fig. 7). The model covers LiPF6 in EC/PC only,
    /// which the ASAB stocks cannot reach, so these points are not optimizer observations.
    /// </summary>
    private async Task<Guid> LowFidelityReference(int it, int point, CancellationToken ct)
    {
        var random = new Random(seed * 104729 + it);
        var li = Math.Round(0.02 + 0.1 * random.NextDouble(), 4);
        var byName = new Dictionary<string, double> { ["LiPF6"] = li, ["EC"] = 1 - li, ["EMC"] = 0, ["DMC"] = 0 };
        var t = Math.Round(DemoChemistry.TemperatureMin + (DemoChemistry.TemperatureMax - DemoChemistry.TemperatureMin) * random.NextDouble(), 2);
        return await Post(it, point, "conductivity", "polynomial_interpolation", byName, t, ct);
    }

    private async Task<Guid> Post(int it, int point, string quantity, string method, Dictionary<string, double> byName, double temperature, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["quantity"] = quantity,
            ["methods"] = new JsonArray(method),
            ["parameters"] = new JsonObject
            {
                [method] = new JsonObject { ["formulation"] = DemoChemistry.Formulation(byName), ["temperature"] = temperature },
            },
            ["tenant_uuid"] = requester.ToString("D"),
        };
        var answer = await http.PostOk("/requests/", body.ToJsonString(), ct);
        var id = Guid.Parse(JsonSerializer.Deserialize<string>(answer)!);
        _posted.Enqueue(new PostedRequest(id, it, point, quantity, method, byName, temperature));
        return id;
    }

    private async Task WaitForResults(List<Guid> ids, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + IterationTimeout;
        var open = ids.Where(id => !_results.ContainsKey(id)).ToList();
        while (open.Count > 0)
        {
            foreach (var id in open.ToArray())
            {
                var (status, body) = await http.Send(HttpMethod.Get, $"/results_requested/{id:D}", null, ct);
                if (status == 200 && body.Trim() != "null")
                {
                    lock (_results) _results[id] = JsonNode.Parse(body)!["result"]!["data"]!;
                    open.Remove(id);
                }
            }
            if (open.Count == 0) break;
            if (DateTime.UtcNow > deadline)
            {
                log($"iteration {Iteration}: {open.Count} requests still without a result after {IterationTimeout.TotalSeconds:F0} s; going on without them");
                break;
            }
            await Task.Delay(300, ct);
        }
    }

    /// <summary>Every result received so far, as optimizer observations keyed by SMILES.</summary>
    private List<ObservationSpec> Observations()
    {
        var list = new List<ObservationSpec>();
        foreach (var p in _posted)
        {
            if (p.Method == "polynomial_interpolation") continue;
            JsonNode? data;
            lock (_results) if (!_results.TryGetValue(p.Id, out data)) continue;
            var formulation = p.Formulation.ToDictionary(kv => DemoChemistry.Find(kv.Key)!.Smiles, kv => kv.Value);
            var source = p.Method == "polynomial_interpolation" ? PolynomialSource : LabSource;
            foreach (var quantity in p.Quantity == "density" ? new[] { "density", "viscosity" } : ["conductivity"])
            {
                var (value, success, rating) = Value(data, quantity);
                list.Add(new ObservationSpec(formulation, p.Temperature, source, quantity, success ? value : double.NaN, rating, success, false));
            }
        }
        return list;
    }

    /// <summary>Mean of data.{quantity}.values, meta.success and meta.rating of one result.</summary>
    public static (double Value, bool Success, double Rating) Value(JsonNode? data, string quantity)
    {
        var q = data?[quantity];
        var values = (q?["values"] as JsonArray)?.Select(v => v!.GetValue<double>()).ToArray() ?? [];
        var success = q?["meta"]?["success"]?.GetValue<bool>() == true && values.Length > 0;
        var rating = q?["meta"]?["rating"]?.GetValue<double>() ?? double.NaN;
        return (values.Length > 0 ? values.Average() : double.NaN, success, rating);
    }

    /// <summary>The smallest Chimera merit over the complete lab points so far (lower is better).</summary>
    private double BestMeritNow(out int complete)
    {
        var points = DemoMetrics.CompletePoints(Observations().Where(o => o.Source == LabSource), preset);
        complete = points.Count;
        var merits = DemoMetrics.Merits(points.Select(p => p.Objectives).ToArray(), preset);
        if (merits.Length == 0) return double.NaN;
        var best = Array.IndexOf(merits, merits.Min());
        BestPoint = string.Join(", ", preset.Objectives.Select((o, k) => $"{o.Quantity} {DemoChemistry.F(points[best].Objectives[k])}"));
        return merits[best];
    }
}
