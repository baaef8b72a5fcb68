using System.Globalization;
using Finales.Client;
using Finales.Hosting;
using Microsoft.Extensions.Logging;

namespace Finales.Tenants.Optimizer;

/// <summary>
/// A snapshot of the optimizer's progress for live views (immutable; a new one after every change).
/// Merits are Chimera merits over the current data (lower is better, 0 = best so far). State is one of starting,
/// waiting, suggesting, posted, broker-unreachable, done, stopped; Detail says why it waits (or the outage reason).
/// Posted counts requests this process posted; Observations the objective values read; OpenRequests the own requests
/// pending or reserved; BestFormulation maps chemical names to mole fractions; BestValues objective names to values.
/// </summary>
public sealed record OptimizerProgress(
    // starting | waiting | suggesting | posted | broker-unreachable | done | stopped
    string State,
    // Why the tenant waits (queue full, no limitations yet, ...) or the last error; empty otherwise.
    string Detail,
    int Iteration,
    int MaxIterations,
    // Requests this process posted.
    int Posted,
    // Objective values read from results (after the deleted / rating filters).
    int Observations,
    // Points with a value for every objective.
    int CompletePoints,
    int FailedPoints,
    // Own requests pending or reserved.
    int OpenRequests,
    double BestMerit,
    // Best point: chemical name (or key) -> mole fraction; empty before the first complete point.
    IReadOnlyDictionary<string, double> BestFormulation,
    double BestTemperature,
    // Objective name -> value at the best point.
    IReadOnlyDictionary<string, double> BestValues,
    // The points posted in the last iteration, with predicted merit and std.
    IReadOnlyList<PlannedPoint> LastSuggestions,
    DateTime UpdatedUtc)
{
    public static OptimizerProgress Initial(int maxIterations) =>
        new("starting", "", 0, maxIterations, 0, 0, 0, 0, 0, double.NaN, new Dictionary<string, double>(), double.NaN,
            new Dictionary<string, double>(), [], DateTime.UtcNow);
}

/// <summary>Receives progress snapshots (an alternative to the <see cref="OptimizerTenant.ProgressChanged"/> event).</summary>
public interface IOptimizerProgress
{
    void Report(OptimizerProgress progress);
}

/// <summary>
/// The optimizer tenant: a FINALES2 requester. Each iteration reads capabilities, limitations, results and all
/// requests, plans with <see cref="OptimizerPlanner"/> (GP-UCB + Chimera, validated, deduplicated, under the queue
/// cap) and posts the planned requests. Only stock FINALES2 routes are used (login, GET /capabilities/,
/// /limitations/, /results_requested/, /all_requests/, POST /requests/), so it works against any FINALES2 server.
/// Broker outages are retried with the kit's seeded backoff and logged once; a POST that fails in an outage is not
/// retried blindly: the next iteration re-reads the requests, so a request that did land is never posted twice.
/// <code>
/// using var tenant = new OptimizerTenant(tenantOptions, optimizerOptions, logger);
/// tenant.ProgressChanged += p =&gt; Console.WriteLine($"{p.Iteration}: best merit {p.BestMerit}");
/// await tenant.RunAsync(stoppingToken);   // returns after MaxIterations (0 = until cancelled)
/// </code>
/// </summary>
public sealed class OptimizerTenant : IDisposable
{
    private readonly TenantOptions _t;
    private readonly OptimizerOptions _o;
    private readonly ILogger _log;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly TimeProvider _time;
    private readonly BrokerOutage _outage;
    private readonly IOptimizerProgress? _sink;
    private string _lastWait = "";
    private volatile OptimizerProgress _progress;
    private int _posted;
    private HashSet<Guid>? _known; // this tenant's requests that this process posted or has seen; null before the first read

    public OptimizerPlanner Planner { get; }
    public BrokerClient Client { get; }

    /// <summary>The latest progress snapshot (thread-safe to read at any time).</summary>
    public OptimizerProgress Progress => _progress;

    /// <summary>Raised after every progress change, on the tenant's loop (keep handlers short).</summary>
    public event Action<OptimizerProgress>? ProgressChanged;

    /// <param name="tenant">The broker connection (the kit's <c>Tenant</c> section; journal and lease keys are unused).</param>
    /// <param name="options">What to optimise (<c>Optimizer</c> section).</param>
    /// <param name="logger">Structured log of every decision.</param>
    /// <param name="sink">Optional progress receiver.</param>
    /// <param name="http">Optional HTTP client (tests); otherwise one with <c>Tenant:HttpTimeoutSeconds</c>.</param>
    /// <param name="time">The clock of polling and backoff; <see cref="TimeProvider.System"/> if null.</param>
    public OptimizerTenant(TenantOptions tenant, OptimizerOptions options, ILogger logger, IOptimizerProgress? sink = null, HttpClient? http = null,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        var problems = tenant.Problems().Concat(options.Problems()).ToList();
        if (problems.Count > 0) throw new ArgumentException("invalid optimizer tenant options: " + string.Join("; ", problems));
        _t = tenant;
        _o = options;
        _log = logger;
        _sink = sink;
        _ownsHttp = http is null;
        _http = http ?? new HttpClient { Timeout = TimeSpan.FromSeconds(tenant.HttpTimeoutSeconds) };
        _time = time ?? TimeProvider.System;
        _outage = new BrokerOutage(tenant, logger, _time);
        Client = new BrokerClient(tenant.BrokerUrl, tenant.Username, tenant.Password, _http);
        Planner = new OptimizerPlanner(options, tenant.TenantUuid);
        _progress = OptimizerProgress.Initial(options.MaxIterations) with { UpdatedUtc = _time.GetUtcNow().UtcDateTime };
    }

    private static string F(double v) => double.IsFinite(v) ? v.ToString("G4", CultureInfo.InvariantCulture) : "n/a";

    private void Publish(OptimizerProgress p)
    {
        _progress = p;
        try
        {
            ProgressChanged?.Invoke(p);
            _sink?.Report(p);
        }
        catch (Exception e)
        {
            _log.LogWarning(e, "A progress handler threw: {Error}", e.Message);
        }
    }

    private void Update(Func<OptimizerProgress, OptimizerProgress> change) => Publish(change(_progress) with { UpdatedUtc = _time.GetUtcNow().UtcDateTime });

    /// <summary>Reads one snapshot from the broker (four GETs plus one per requested capability).</summary>
    public async Task<BrokerSnapshot> ReadAsync(CancellationToken ct)
    {
        var caps = await Client.CapabilitiesAsync(false, ct);
        var lims = await Client.LimitationsAsync(true, ct);
        var results = new List<ResultInfo>();
        foreach (var (q, m) in Planner.Objectives.Select(o => (o.Quantity, o.Method)).Distinct())
            results.AddRange(await Client.ResultsAsync(q, m, null, ct));
        var requests = await Client.AllRequestsAsync(ct);
        return new BrokerSnapshot(caps, lims, results, requests);
    }

    /// <summary>Runs iterations until <see cref="OptimizerOptions.MaxIterations"/> (0 = until cancelled).</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var objectives = string.Join(" > ", Planner.Objectives.Select(o =>
            $"{o.EffectiveName} {o.Goal} ({o.Kind} {o.Tolerance.ToString(CultureInfo.InvariantCulture)}, {o.Quantity}/{o.Method} data.{o.Path})"));
        _log.LogInformation("Optimizer tenant {Tenant} starting on {Broker} as {User}: objectives {Objectives}; requests {Requests} per point; " +
                            "batch {Batch}, queue cap {Cap}, min rating {MinRating}, seed {Seed}, max iterations {Max}",
            _t.TenantUuid, _t.BrokerUrl, _t.Username, objectives, string.Join(", ", Planner.Targets.Select(t => t.Describe())), _o.BatchSize, _o.QueueCap, _o.MinRating, _o.Seed,
            _o.MaxIterations == 0 ? "unlimited" : _o.MaxIterations.ToString(CultureInfo.InvariantCulture));
        var iteration = 0;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                BrokerSnapshot snap;
                try
                {
                    snap = await ReadAsync(stoppingToken);
                    _outage.Succeeded();
                    Adopt(snap, iteration);
                }
                catch (Exception e) when (IsOutage(e, stoppingToken))
                {
                    await OutageAsync("reading results and requests", e, stoppingToken);
                    continue;
                }
                catch (BrokerException e) when (e.StatusCode is 401 or 403)
                {
                    throw new InvalidOperationException($"the broker refused user '{_t.Username}' ({e.StatusCode}): {e.Detail}", e);
                }

                var plan = Planner.Decide(snap);
                if (plan.Wait.Length > 0)
                {
                    if (plan.Wait != _lastWait)
                        _log.LogInformation("Waiting: {Reason}; {Observations} observations, {Complete} complete points, best merit {Best}",
                            plan.Wait, plan.Observations, plan.CompletePoints, F(plan.BestMerit));
                    _lastWait = plan.Wait;
                    Update(p => Apply(p, plan) with { State = "waiting", Detail = plan.Wait });
                    await Task.Delay(TimeSpan.FromSeconds(_o.PollIntervalSeconds), _time, stoppingToken);
                    continue;
                }
                _lastWait = "";
                iteration++;
                _log.LogInformation("Iteration {Iteration}: {Observations} observations, {Complete} complete points, {Failed} failed, {Open} own requests open; " +
                                    "best merit so far {BestMerit} at {Best}{BestValues}; mode {Mode}",
                    iteration, plan.Observations, plan.CompletePoints, plan.FailedPoints, plan.OpenRequests, F(plan.BestMerit),
                    plan.Best is null ? "none yet" : OptimizerPlanner.Describe(plan.Best.Formulation, plan.Best.Temperature),
                    plan.Best is null ? "" : " (" + string.Join(", ", plan.Best.Values.Select(kv => $"{kv.Key} {F(kv.Value)}")) + ")", plan.Mode);
                foreach (var s in plan.Skipped) _log.LogInformation("Iteration {Iteration}: suggestion skipped: {Reason}", iteration, s);
                Update(p => Apply(p, plan) with { State = "suggesting", Detail = "", Iteration = iteration });

                var posted = new List<PlannedPoint>();
                try
                {
                    foreach (var point in plan.Points)
                    {
                        foreach (var r in point.Requests)
                        {
                            var id = await Client.PostRequestJsonAsync(r.Body, stoppingToken);
                            Interlocked.Increment(ref _posted);
                            _known!.Add(id);
                            _log.LogInformation("Iteration {Iteration}: posted {RequestId} {Capability} for {Point}: predicted merit {Merit} +- {Std}, acquisition {Acquisition}",
                                iteration, id, r.Target, OptimizerPlanner.Describe(point.Formulation, point.Temperature), F(point.PredictedMerit), F(point.PredictedStd), F(point.Acquisition));
                        }
                        posted.Add(point);
                    }
                    _outage.Succeeded();
                }
                catch (Exception e) when (IsOutage(e, stoppingToken))
                {
                    // Not retried here: the next iteration re-reads the requests, so one that did land is not posted twice
                    // (it is adopted instead; see Adopt).
                    await OutageAsync("posting requests", e, stoppingToken);
                }
                catch (BrokerException e)
                {
                    _log.LogError("Iteration {Iteration}: the broker refused a request ({Status}): {Detail}; it will not be retried as is", iteration, e.StatusCode, e.Detail);
                }
                Update(p => p with { State = "posted", Posted = _posted, LastSuggestions = posted });
                if (_o.MaxIterations > 0 && iteration >= _o.MaxIterations)
                {
                    _log.LogInformation("Reached {Max} iterations; posted {Posted} requests; best merit {Best}", _o.MaxIterations, _posted, F(_progress.BestMerit));
                    Update(p => p with { State = "done" });
                    return;
                }
                await Task.Delay(TimeSpan.FromSeconds(_o.PollIntervalSeconds), _time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        Update(p => p with { State = "stopped" });
        _log.LogInformation("Optimizer tenant {Tenant} stopped after {Iterations} iterations; posted {Posted} requests", _t.TenantUuid, iteration, _posted);
    }

    /// <summary>
    /// Keeps the log and the posted count true when the broker stored a request whose answer never reached this process
    /// (it committed the post, then the connection or the broker died): such a request of this tenant turns up in a later
    /// read, and is adopted, logged once as "Iteration N: adopted ID quantity/method" and counted as posted. The planner
    /// already treats it as this tenant's own, so it is not posted again. At the first read, requests of this tenant
    /// stored before this process started are only counted.
    /// </summary>
    private void Adopt(BrokerSnapshot snap, int iteration)
    {
        var own = Planner.Own(snap);
        if (_known is null)
        {
            _known = own.Select(r => r.Uuid).ToHashSet();
            if (_known.Count > 0) _log.LogInformation("Found {Count} requests of this tenant stored before this run", _known.Count);
            return;
        }
        foreach (var r in own.Where(r => _known.Add(r.Uuid)))
        {
            Interlocked.Increment(ref _posted);
            _log.LogWarning("Iteration {Iteration}: adopted {RequestId} {Quantity}/{Method}: stored in this tenant's name, but the answer to its post " +
                            "never arrived (lost in an outage)", iteration, r.Uuid, r.Quantity, string.Join("|", r.Methods));
        }
    }

    private OptimizerProgress Apply(OptimizerProgress p, Plan plan)
    {
        var best = plan.Best;
        IReadOnlyDictionary<string, double> named = best is null
            ? p.BestFormulation
            : best.Formulation.ToDictionary(kv => NameOf(kv.Key), kv => kv.Value);
        return p with
        {
            Observations = plan.Observations,
            CompletePoints = plan.CompletePoints,
            FailedPoints = plan.FailedPoints,
            OpenRequests = plan.OpenRequests,
            BestMerit = best is null ? p.BestMerit : plan.BestMerit,
            BestFormulation = named,
            BestTemperature = best?.Temperature ?? p.BestTemperature,
            BestValues = best?.Values ?? p.BestValues,
            Posted = _posted,
        };
    }

    private static string NameOf(string key)
    {
        try { return Finales.Core.ScienceApi.FindChemical(key).Name; }
        catch (Finales.Core.ScienceException) { return key; }
    }

    private static bool IsOutage(Exception e, CancellationToken ct) =>
        !ct.IsCancellationRequested && e switch
        {
            HttpRequestException => true,
            TaskCanceledException => true, // HttpClient timeout
            System.Net.Sockets.SocketException => true,
            BrokerException b => b.StatusCode >= 500 || b.StatusCode == 429,
            System.Text.Json.JsonException => true, // a half-written answer from a dying broker
            IOException => true,
            _ => false,
        };

    private async Task OutageAsync(string what, Exception e, CancellationToken ct)
    {
        if (_outage.Failed(what, e, out var reason)) Update(p => p with { State = "broker-unreachable", Detail = reason });
        await _outage.BackOffAsync(what, ct);
    }

    public void Dispose()
    {
        ((IDisposable)Client).Dispose();
        if (_ownsHttp) _http.Dispose();
    }
}
