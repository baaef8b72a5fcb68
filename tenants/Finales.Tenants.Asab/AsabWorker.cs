using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Core;
using Finales.Core.Interop;
using Finales.Devices;
using Finales.Devices.Fluidics;
using Finales.Devices.Lims;
using Finales.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Finales.Tenants.Asab;

/// <summary>One hardware action of the procedure (for logs and tests): what, which pump, along which route, how much, how fast.</summary>
public sealed record ProcedureStep(string Phase, string Pump, string Route, double VolumeMl, double FlowMlPerS);

/// <summary>What the worker did for one request.</summary>
public sealed record AsabRun(Guid RequestId, SamplePlan? Plan, IReadOnlyList<ProcedureStep> Steps, DensityViscosityResult? Measurement,
    WorkOutcome Outcome, double? WasteGainGrams);

/// <summary>
/// The ASAB lab tenant's worker for <c>density/vibrating_tube_densimetry</c>: project the requested formulation onto the
/// stocks, fill and prime the syringes, mix through the mixer (flows = volume fraction x total flow), provide the sample
/// to the densimeter/viscometer, measure through the LIMS interface, drain the cell with gas, clean it with solvent and
/// drain again. Reports the achieved formulation, every replicate, the temperature and a rating
/// min(mix rating, floor(instrument quality / 2)) per quantity. Failures become failed results (meta.success false,
/// meta.message); cancellation is passed on (the kit releases the request).
/// </summary>
public sealed class AsabWorker : ITenantWorker, IAsyncDisposable
{
    public static readonly TenantCapability Capability = new("density", "vibrating_tube_densimetry");

    private readonly AsabPlanner _planner;
    private readonly IAsabHardware _hw;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HashSet<string> _primedPumps = new();
    private readonly Dictionary<string, double> _reservoirMl;
    private readonly ConcurrentQueue<AsabRun> _runs = new();

    public AsabWorker(AsabPlanner planner, IAsabHardware hardware, ILogger? logger = null)
    {
        _planner = planner ?? throw new ArgumentNullException(nameof(planner));
        _hw = hardware ?? throw new ArgumentNullException(nameof(hardware));
        _logger = logger ?? NullLogger.Instance;
        _reservoirMl = planner.Stocks.Stocks.ToDictionary(s => s.Name, s => s.VolumeMl);
        // Fail at start for a layout that cannot serve any request: every fixed route must exist.
        _ = planner.DrainRoute;
        _ = planner.Route("filling the cleaning pump", Settings.Solvent, Settings.CleaningPump);
        _ = planner.Route("cleaning the cell", Settings.CleaningPump, Settings.Waste, Settings.Mixer, Settings.CellInlet);
    }

    private AsabSettings Settings => _planner.Settings;
    public AsabPlanner Planner => _planner;
    public IAsabHardware Hardware => _hw;
    /// <summary>Every request processed, in order.</summary>
    public IReadOnlyList<AsabRun> Runs => _runs.ToList();
    /// <summary>Stock left in each reservoir by this process's bookkeeping, mL.</summary>
    public IReadOnlyDictionary<string, double> ReservoirMl { get { lock (_reservoirMl) return new Dictionary<string, double>(_reservoirMl); } }

    public IReadOnlyList<TenantCapability> Capabilities { get; } = [Capability];

    /// <summary>FINALES2 limitations: one formulation alternative with every chemical of the stocks, fraction 0..the
    /// largest reachable mole fraction (<see cref="MixingPlan.MaximumFractions"/>), molPerMol; temperature as configured.</summary>
    public string LimitationsJson()
    {
        var max = _planner.Stocks.Plan.MaximumFractions;
        var limitations = Finales.Core.Interop.LimitationsJson.DesignSpace(
            _planner.Stocks.Chemicals.Select(name =>
                new DesignComponentSpec(name, new FractionInterval(0.0, Math.Round(max[name], 6, MidpointRounding.ToZero)))),
            Settings.TemperatureMinK, Settings.TemperatureMaxK);
        return new JsonArray(Finales.Core.Interop.LimitationsJson.TenantEntry(Capability.Quantity, Capability.Method, limitations)).ToJsonString(Relaxed);
    }

    public async Task<WorkOutcome> ProcessAsync(WorkItem item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try { return await ProcessLockedAsync(item.RequestId, item.Parameters, cancellationToken).ConfigureAwait(false); }
        finally { _gate.Release(); }
    }

    /// <summary>Runs the procedure for one request's parameters (the kit calls it through <see cref="ProcessAsync"/>).</summary>
    public async Task<WorkOutcome> ProcessLockedAsync(Guid requestId, JsonElement parameters, CancellationToken ct)
    {
        var steps = new List<ProcedureStep>();
        SamplePlan? plan = null;
        DensityViscosityResult? measured = null;
        double? wasteBefore = await WeighAsync(ct).ConfigureAwait(false);
        var formulationEcho = parameters.ValueKind == JsonValueKind.Object && parameters.TryGetProperty("formulation", out var f) && f.ValueKind == JsonValueKind.Array
            ? JsonNode.Parse(f.GetRawText())! : new JsonArray();
        double? temperature = parameters.ValueKind == JsonValueKind.Object && parameters.TryGetProperty("temperature", out var t) && t.ValueKind == JsonValueKind.Number
            ? t.GetDouble() : Settings.TemperatureMinK;
        WorkOutcome outcome;
        try
        {
            var request = _planner.ParseRequest(parameters);
            temperature = request.TemperatureK;
            plan = _planner.Plan(request);
            CheckReservoirs(plan);
            _logger.LogInformation("Request {Request}: mixing {Fractions} (deviation {Deviation:G3}, mix rating {Rating}) at {Flow:G3} mL/s total",
                requestId, string.Join(", ", plan.SolverVolumeFractions.Where(kv => kv.Value > 0).Select(kv => FormattableString.Invariant($"{kv.Key} {kv.Value:0.####}"))),
                plan.Deviation, plan.MixRating, plan.TotalFlowMlPerS);
            string? cleanupProblem = null;
            try
            {
                await _hw.SetCellTemperatureAsync(request.TemperatureK, ct).ConfigureAwait(false);
                _hw.AnnounceSample(plan.Achieved);
                await PrepareSyringesAsync(plan, steps, ct).ConfigureAwait(false);
                await MixAsync(plan, steps, ct).ConfigureAwait(false);
                var sample = "R" + requestId.ToString("N");
                _logger.LogInformation("Request {Request}: measuring sample {Sample} with method {Method}", requestId, sample, Settings.LimsMethod);
                measured = await _hw.Meter.MeasureAsync(sample, Settings.LimsMethod, ct).ConfigureAwait(false);
            }
            finally
            {
                if (!ct.IsCancellationRequested)
                    cleanupProblem = await CleanUpAsync(steps, ct).ConfigureAwait(false);
            }
            outcome = Report(requestId, plan, measured, request.TemperatureK, cleanupProblem);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            _logger.LogWarning("Request {Request}: cancelled; the hardware is left as it is", requestId);
            throw;
        }
        catch (Exception e) when (e is AsabRequestException or DeviceException or ScienceException)
        {
            var what = e is AsabRequestException ? "cannot be served" : "failed on the hardware";
            _logger.LogWarning("Request {Request} {What}: {Error}", requestId, what, e.Message);
            outcome = Failed(requestId, plan, formulationEcho, temperature, e.Message);
        }
        double? gain = null;
        if (wasteBefore is { } before && await WeighAsync(ct).ConfigureAwait(false) is { } after)
        {
            gain = after - before;
            _logger.LogInformation("Request {Request}: {Vessel} gained {Grams:F4} g", requestId, Settings.BalanceVessel, gain);
        }
        _runs.Enqueue(new AsabRun(requestId, plan, steps, measured, outcome, gain));
        return outcome;
    }

    private void CheckReservoirs(SamplePlan plan)
    {
        lock (_reservoirMl)
            foreach (var d in plan.Doses)
            {
                var first = _primedPumps.Contains(d.Pump) ? 0 : Settings.InitialPrimeCycles * InitialPrimeVolume(d);
                var need = d.NeededMl + Settings.FillMarginMl + first;
                if (_reservoirMl[d.Stock] < need)
                    throw new AsabRequestException(FormattableString.Invariant(
                        $"reservoir {d.Reservoir} (stock '{d.Stock}') holds {_reservoirMl[d.Stock]:0.###} mL; this sample needs {need:0.###} mL"));
            }
    }

    private double InitialPrimeVolume(StockDose d) =>
        Math.Max(1.0, 4 * _planner.RoutesFor(d.Pump, d.Reservoir).Fill.DeadVolumeMl);

    /// <summary>First use of a pump: fill-and-empty cycles that replace the gas in its fill line; then fill each syringe
    /// to what the sample needs and prime it through the mixer to waste.</summary>
    private async Task PrepareSyringesAsync(SamplePlan plan, List<ProcedureStep> steps, CancellationToken ct)
    {
        foreach (var d in plan.Doses)
        {
            var routes = _planner.RoutesFor(d.Pump, d.Reservoir);
            var pump = _hw.Pump(d.Pump);
            var flow = Clamp(pump.Syringe, Settings.FillFlowMlPerS);
            if (!_primedPumps.Contains(d.Pump))
            {
                for (var i = 0; i < Settings.InitialPrimeCycles; i++)
                {
                    await FillToAsync(d, pump, routes.Fill, InitialPrimeVolume(d), flow, "initial prime: fill", steps, ct).ConfigureAwait(false);
                    await DispenseAsync(pump, routes.PrimeToWaste, await pump.GetFillLevelAsync(ct).ConfigureAwait(false), flow, "initial prime: empty", steps, ct).ConfigureAwait(false);
                }
                _primedPumps.Add(d.Pump);
            }
            await FillToAsync(d, pump, routes.Fill, d.NeededMl + Settings.FillMarginMl, flow, "fill", steps, ct).ConfigureAwait(false);
            await DispenseAsync(pump, routes.ThroughMixerToWaste, d.PrimeMl, flow, "prime", steps, ct).ConfigureAwait(false);
        }
    }

    private async Task FillToAsync(StockDose d, ISyringePump pump, FluidRoute route, double level, double flow, string phase, List<ProcedureStep> steps, CancellationToken ct)
    {
        var current = await pump.GetFillLevelAsync(ct).ConfigureAwait(false);
        if (current >= level - 1e-9) return;
        await MoveAsync(pump, route, level, -flow, phase, steps, ct).ConfigureAwait(false);
        var now = await pump.GetFillLevelAsync(ct).ConfigureAwait(false);
        lock (_reservoirMl) _reservoirMl[d.Stock] -= now - current;
    }

    private Task DispenseAsync(ISyringePump pump, FluidRoute route, double volume, double flow, string phase, List<ProcedureStep> steps, CancellationToken ct) =>
        volume <= 1e-12 ? Task.CompletedTask : DispenseCoreAsync(pump, route, volume, flow, phase, steps, ct);

    private async Task DispenseCoreAsync(ISyringePump pump, FluidRoute route, double volume, double flow, string phase, List<ProcedureStep> steps, CancellationToken ct)
    {
        var level = await pump.GetFillLevelAsync(ct).ConfigureAwait(false);
        if (level < volume - 1e-9)
            throw new FluidicsException(FormattableString.Invariant($"Pump {pump.Name} holds {level:G6} mL; {phase} needs {volume:G6} mL."));
        await MoveAsync(pump, route, Math.Max(0, level - volume), flow, phase, steps, ct).ConfigureAwait(false);
    }

    private async Task MoveAsync(ISyringePump pump, FluidRoute route, double level, double signedFlow, string phase, List<ProcedureStep> steps, CancellationToken ct)
    {
        await SetValvesAsync([route], ct).ConfigureAwait(false);
        _hw.UseRoute(pump.Name, route);
        var from = await pump.GetFillLevelAsync(ct).ConfigureAwait(false);
        steps.Add(new ProcedureStep(phase, pump.Name, route.ToString(), Math.Abs(level - from), Math.Abs(signedFlow)));
        await pump.SetFillLevelAsync(level, Math.Abs(signedFlow), ct).ConfigureAwait(false);
    }

    /// <summary>All stock pumps at once, flows = volume fraction x total flow: first to waste through the mixer (so the
    /// shared line holds the mixture), then through the cell (the dead volume to the cell inlet plus the sample volume).</summary>
    private async Task MixAsync(SamplePlan plan, List<ProcedureStep> steps, CancellationToken ct)
    {
        await MixStageAsync(plan, d => _planner.RoutesFor(d.Pump, d.Reservoir).ThroughMixerToWaste, d => d.FlushMl, "mix: flush to waste", steps, ct).ConfigureAwait(false);
        await MixStageAsync(plan, d => _planner.RoutesFor(d.Pump, d.Reservoir).ThroughCell, d => d.SampleMl, "mix: provide sample", steps, ct).ConfigureAwait(false);
    }

    private async Task MixStageAsync(SamplePlan plan, Func<StockDose, FluidRoute> route, Func<StockDose, double> volume, string phase, List<ProcedureStep> steps, CancellationToken ct)
    {
        var routes = plan.Doses.Select(route).ToList();
        await SetValvesAsync(routes, ct).ConfigureAwait(false);
        foreach (var d in plan.Doses)
        {
            var pump = _hw.Pump(d.Pump);
            pump.Syringe.ValidateFlow(pump.Name, d.FlowMlPerS);
            var r = route(d);
            _hw.UseRoute(d.Pump, r);
            var level = await pump.GetFillLevelAsync(ct).ConfigureAwait(false);
            var v = volume(d);
            if (level < v - 1e-9) throw new FluidicsException(FormattableString.Invariant($"Pump {d.Pump} holds {level:G6} mL; {phase} needs {v:G6} mL."));
            steps.Add(new ProcedureStep(phase, d.Pump, r.ToString(), v, d.FlowMlPerS));
        }
        var moves = new List<(ISyringePump, double, double)>();
        foreach (var d in plan.Doses)
        {
            var pump = _hw.Pump(d.Pump);
            moves.Add((pump, Math.Max(0, await pump.GetFillLevelAsync(ct).ConfigureAwait(false) - volume(d)), d.FlowMlPerS));
        }
        try { await _hw.MoveTogetherAsync(moves, ct).ConfigureAwait(false); }
        catch
        {
            foreach (var d in plan.Doses) await _hw.Pump(d.Pump).StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Switches every valve the routes need; routes that need one valve at two positions cannot run together.</summary>
    private async Task SetValvesAsync(IReadOnlyList<FluidRoute> routes, CancellationToken ct)
    {
        var wanted = new Dictionary<string, int>();
        foreach (var r in routes)
            foreach (var v in r.ValveSettings)
            {
                if (wanted.TryGetValue(v.Valve, out var p) && p != v.Position)
                    throw new FluidicsException($"Routes conflict: valve {v.Valve} is needed at positions {p} and {v.Position} at once.");
                wanted[v.Valve] = v.Position;
            }
        foreach (var (valve, position) in wanted)
        {
            var vv = _hw.Valve(valve);
            if (await vv.GetPositionAsync(ct).ConfigureAwait(false) != position) await vv.SwitchToAsync(position, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Drain the cell with gas, clean it with solvent, drain again. Returns a problem description or null.</summary>
    private async Task<string?> CleanUpAsync(List<ProcedureStep> steps, CancellationToken ct)
    {
        try
        {
            await DrainAsync(steps, ct).ConfigureAwait(false);
            var fill = _planner.Route("filling the cleaning pump", Settings.Solvent, Settings.CleaningPump);
            var clean = _planner.Route("cleaning the cell", Settings.CleaningPump, Settings.Waste, Settings.Mixer, Settings.CellInlet);
            var toOutlet = clean.Nodes.TakeWhile(n => n.Name != Settings.CellOutlet).Sum(n => n.DeadVolumeMl)
                           + clean.Nodes.First(n => n.Name == Settings.CellOutlet).DeadVolumeMl;
            var pump = _hw.Pump(Settings.CleaningPump);
            await PushAsync(pump, fill, clean, toOutlet + Settings.CleanExtraMl, Clamp(pump.Syringe, Settings.FillFlowMlPerS), "clean", steps, ct).ConfigureAwait(false);
            await DrainAsync(steps, ct).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is DeviceException or AsabRequestException)
        {
            _logger.LogError("Cleaning up after the sample failed; the cell may hold liquid: {Error}", e.Message);
            return "cleaning up after the measurement failed: " + e.Message;
        }
    }

    private async Task DrainAsync(List<ProcedureStep> steps, CancellationToken ct)
    {
        var route = _planner.DrainRoute;
        var gas = _hw.Pump(Settings.GasSource);
        for (var i = 0; i < Settings.DrainRepeats; i++)
            await PushAsync(gas, _hw.GasRefillRoute, route, Settings.DrainFactor * route.DeadVolumeMl, Clamp(gas.Syringe, Settings.GasFlowMlPerS), "drain", steps, ct).ConfigureAwait(false);
    }

    /// <summary>Pushes a volume along a route in strokes, refilling the syringe along <paramref name="fill"/> when it is empty.</summary>
    private async Task PushAsync(ISyringePump pump, FluidRoute? fill, FluidRoute route, double volume, double flow, string phase, List<ProcedureStep> steps, CancellationToken ct)
    {
        var remaining = volume;
        while (remaining > 1e-9)
        {
            var level = await pump.GetFillLevelAsync(ct).ConfigureAwait(false);
            if (level < 1e-9)
            {
                var target = Math.Min(pump.Syringe.CapacityMl, remaining);
                if (fill is not null) await MoveAsync(pump, fill, target, -flow, phase + ": refill", steps, ct).ConfigureAwait(false);
                else
                {
                    steps.Add(new ProcedureStep(phase + ": refill", pump.Name, "(pressure line)", target, flow));
                    await pump.SetFillLevelAsync(target, flow, ct).ConfigureAwait(false);
                }
                level = await pump.GetFillLevelAsync(ct).ConfigureAwait(false);
            }
            var d = Math.Min(level, remaining);
            await MoveAsync(pump, route, level - d, flow, phase, steps, ct).ConfigureAwait(false);
            remaining -= d;
        }
    }

    private async Task<double?> WeighAsync(CancellationToken ct)
    {
        if (_hw.Balance is not { } balance) return null;
        try { return (await balance.ReadStableAsync(TimeSpan.FromSeconds(5), ct).ConfigureAwait(false)).MassGrams; }
        catch (DeviceException e)
        {
            _logger.LogWarning("Balance under {Vessel} could not be read: {Error}", Settings.BalanceVessel, e.Message);
            return null;
        }
    }

    private static double Clamp(SyringeSize s, double flow) => Math.Clamp(flow, s.MinFlowMlPerS, s.MaxFlowMlPerS);

    /// <summary>The result data of a measurement: achieved formulation, every replicate, temperature, ratings.</summary>
    private WorkOutcome Report(Guid requestId, SamplePlan plan, DensityViscosityResult? m, double temperatureK, string? cleanupProblem)
    {
        if (m is null) return Failed(requestId, plan, new JsonArray(), temperatureK, "the instrument returned no measurement");
        var densityOk = m.DensitiesGcm3.Count > 0;
        var viscosityOk = m.ViscositiesMPas.Count > 0;
        var densityRating = densityOk ? Math.Min(plan.MixRating, (int)Math.Floor(m.DensityQuality / 2)) : 0;
        var viscosityRating = viscosityOk ? Math.Min(plan.MixRating, (int)Math.Floor(m.ViscosityQuality / 2)) : 0;
        var notes = new List<string>();
        if (!densityOk) notes.Add($"no valid density replicate in {Path.GetFileName(m.ResultFile)} (quality {m.DensityQuality:0.#})");
        if (!viscosityOk) notes.Add($"no valid viscosity replicate in {Path.GetFileName(m.ResultFile)} (quality {m.ViscosityQuality:0.#})");
        if (cleanupProblem is not null) notes.Add(cleanupProblem);
        var message = notes.Count > 0 ? string.Join("; ", notes) : null;
        var data = Data(requestId, plan, FormulationJson(plan.Achieved), temperatureK,
            Quantity(m.DensitiesGcm3, temperatureK, densityOk, densityRating, densityOk ? message : notes[0], m.DensityQuality),
            Quantity(m.ViscositiesMPas, temperatureK, viscosityOk, viscosityRating, viscosityOk ? message : notes.First(n => n.Contains("viscosity", StringComparison.Ordinal)), m.ViscosityQuality));
        var summary = FormattableString.Invariant(
            $"density {(densityOk ? m.DensitiesGcm3.Average().ToString("F5", CultureInfo.InvariantCulture) : "-")} g/cm3 ({m.DensitiesGcm3.Count} replicates, rating {densityRating}), viscosity {(viscosityOk ? m.ViscositiesMPas.Average().ToString("F4", CultureInfo.InvariantCulture) : "-")} mPa s ({m.ViscositiesMPas.Count}, rating {viscosityRating}), mix rating {plan.MixRating}");
        _logger.LogInformation("Request {Request}: {Summary}", requestId, summary);
        return densityOk ? WorkOutcome.Succeeded(data, summary + (message is null ? "" : "; " + message)) : WorkOutcome.Failed(data, message ?? summary);
    }

    private static JsonObject Quantity(IReadOnlyList<double> values, double temperatureK, bool success, int rating, string? message, double? quality)
    {
        var meta = new JsonObject { ["success"] = success, ["rating"] = rating };
        if (quality is { } q) meta["instrument_quality"] = q;
        if (message is not null) meta["message"] = message;
        return new JsonObject { ["values"] = new JsonArray(values.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()), ["temperature"] = temperatureK, ["meta"] = meta };
    }

    private WorkOutcome Failed(Guid requestId, SamplePlan? plan, JsonNode formulationEcho, double? temperatureK, string message)
    {
        var formulation = plan is not null ? FormulationJson(plan.Achieved) : formulationEcho;
        var data = Data(requestId, plan, formulation, temperatureK,
            Quantity([], temperatureK ?? Settings.TemperatureMinK, false, 0, message, null),
            Quantity([], temperatureK ?? Settings.TemperatureMinK, false, 0, message, null));
        return WorkOutcome.Failed(data, message);
    }

    private static JsonElement Data(Guid requestId, SamplePlan? plan, JsonNode formulation, double? temperatureK, JsonObject density, JsonObject viscosity)
    {
        var runInfo = new JsonObject
        {
            ["formulation"] = formulation,
            ["internal_reference"] = requestId.ToString("D"),
        };
        if (plan is not null)
        {
            var info = new JsonObject();
            foreach (var name in plan.Achieved.Keys.Union(plan.Request.Fractions.Keys).Order(StringComparer.Ordinal))
            {
                var c = ScienceApi.FindChemical(name);
                info[c.InChIKey] = new JsonObject { ["name"] = c.Name, ["molar_mass"] = new JsonArray(c.MolarMassGramsPerMole, 0.0) };
            }
            runInfo["chemicals_info"] = info;
            runInfo["mixing"] = new JsonObject
            {
                ["requested"] = Fractions(plan.Request.Fractions),
                ["volume_fractions"] = Fractions(plan.SolverVolumeFractions),
                ["deviation"] = plan.Deviation,
                ["mix_rating"] = plan.MixRating,
                ["total_flow_ml_per_s"] = plan.TotalFlowMlPerS,
            };
        }
        _ = temperatureK;
        return JsonSerializer.SerializeToElement(new JsonObject { ["run_info"] = runInfo, ["density"] = density, ["viscosity"] = viscosity }, Relaxed);
    }

    private static JsonObject Fractions(IReadOnlyDictionary<string, double> d)
    {
        var o = new JsonObject();
        foreach (var (k, v) in d.OrderBy(kv => kv.Key, StringComparer.Ordinal)) o[k] = v;
        return o;
    }

    /// <summary>A formulation in the FINALES2 shape (chemicals with a positive fraction, molPerMol).</summary>
    public static JsonArray FormulationJson(IReadOnlyDictionary<string, double> fractions) =>
        Finales.Core.Interop.FormulationJson.Encode(fractions.Where(kv => kv.Value > 0).OrderBy(kv => kv.Key, StringComparer.Ordinal));

    public async ValueTask DisposeAsync()
    {
        await _hw.DisposeAsync().ConfigureAwait(false);
        _gate.Dispose();
    }

    // SMILES keep their '+' in the result text (the default encoder would write \u002B).
    internal static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
