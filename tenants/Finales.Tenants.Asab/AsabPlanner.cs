using System.Globalization;
using System.Text.Json;
using Finales.Core;
using Finales.Core.Interop;
using Finales.Devices.Fluidics;

namespace Finales.Tenants.Asab;

/// <summary>A request the lab cannot serve as asked; the message names the field and the value.</summary>
public sealed class AsabRequestException(string message) : Exception(message);

/// <summary>The requested formulation (mole fractions by canonical chemical name, as given) and temperature.</summary>
public sealed record SampleRequest(IReadOnlyDictionary<string, double> Fractions, double TemperatureK);

/// <summary>One stock's part of a sample: the pump, the volume fraction, the flow while mixing and the volumes.</summary>
public sealed record StockDose(string Stock, string Pump, string Reservoir, double VolumeFraction, double FlowMlPerS,
    double FlushMl, double SampleMl, double PrimeMl)
{
    /// <summary>Stock this sample takes from the syringe.</summary>
    public double NeededMl => FlushMl + SampleMl + PrimeMl;
}

/// <summary>
/// Everything decided before the hardware moves: the projection of the request onto the stocks, the doses rounded to
/// the dosing resolution, flows inside every syringe's limits, the routes and the mix rating.
/// </summary>
public sealed record SamplePlan(
    SampleRequest Request,
    IReadOnlyDictionary<string, double> SolverVolumeFractions,
    IReadOnlyDictionary<string, double> Achieved,
    double Deviation,
    int MixRating,
    double TotalFlowMlPerS,
    double FlushMl,
    double SampleMl,
    IReadOnlyList<StockDose> Doses);

/// <summary>The routes of the procedure, found once on the tubing graph.</summary>
public sealed record AsabRoutes(FluidRoute Fill, FluidRoute PrimeToWaste, FluidRoute ThroughMixerToWaste, FluidRoute ThroughCell);

/// <summary>
/// Planning over the tubing graph and the stocks, composed from the core: routes (shortest by dead volume under the
/// valve rule, <see cref="RouteGraph"/>), the mixing solve (<see cref="MixingPlan.Solve"/>), dosing and flows
/// (<see cref="DosingApi.TryPlan"/>); this class only caches routes and converts them for the device layer.
/// </summary>
public sealed class AsabPlanner
{
    private readonly Dictionary<string, (FluidRoute? Route, string? Error)> _routes = new();
    private readonly IReadOnlyList<DosingPumpSpec> _pumps;

    public AsabPlanner(AsabSettings settings, StockSet stocks, RouteGraph graph)
    {
        Settings = settings ?? throw new ArgumentNullException(nameof(settings));
        Stocks = stocks ?? throw new ArgumentNullException(nameof(stocks));
        Graph = graph ?? throw new ArgumentNullException(nameof(graph));
        var problems = new List<string>();
        var nodes = graph.Nodes.ToHashSet();
        foreach (var a in settings.Pumps)
            if (stocks.Stocks.All(s => s.Name != a.Stock)) problems.Add($"Asab:Pumps: pump {a.Node} doses stock '{a.Stock}', which is not in the stocks file ({string.Join(", ", stocks.Stocks.Select(s => s.Name))})");
        foreach (var s in stocks.Stocks)
        {
            if (settings.Pumps.All(a => a.Stock != s.Name)) problems.Add($"stock '{s.Name}' has no pump in Asab:Pumps");
            if (!nodes.Contains(s.Reservoir)) problems.Add($"stock '{s.Name}': reservoir '{s.Reservoir}' is not a node of the tubing graph");
        }
        foreach (var (key, node) in settings.Pumps.Select(p => ("Pumps.Node", p.Node)).Concat(new[]
                 {
                     ("Mixer", settings.Mixer), ("CellInlet", settings.CellInlet), ("CellOutlet", settings.CellOutlet), ("Waste", settings.Waste),
                     ("GasSource", settings.GasSource), ("Solvent", settings.Solvent), ("CleaningPump", settings.CleaningPump),
                 }))
            if (!nodes.Contains(node)) problems.Add($"Asab:{key} is '{node}', which is not a node of the tubing graph");
        if (problems.Count > 0) throw new AsabConfigurationException(string.Join("; ", problems));
        // Volumes that do not depend on the request.
        MixerToCellInletMl = Route("mixer->cell inlet", settings.Mixer, settings.CellInlet).DeadVolumeMl;
        MixerToWasteMl = Route("mixer->waste", settings.Mixer, settings.Waste).DeadVolumeMl;
        _pumps = settings.Pumps.Select(p =>
        {
            var syringe = SyringeSize.FromNominalVolume(p.SyringeMl);
            return new DosingPumpSpec
            {
                Stock = p.Stock, Pump = p.Node, SyringeNominalMilliliters = p.SyringeMl, MinFlowMillilitersPerSecond = syringe.MinFlowMlPerS,
                MaxFlowMillilitersPerSecond = syringe.MaxFlowMlPerS, CapacityMilliliters = syringe.CapacityMl,
            };
        }).ToList();
    }

    public AsabSettings Settings { get; }
    public StockSet Stocks { get; }
    public RouteGraph Graph { get; }
    public double MixerToCellInletMl { get; }
    public double MixerToWasteMl { get; }

    /// <summary>The sample volume pushed through the mixer to the cell: the dead volume mixer -> cell inlet plus <see cref="AsabSettings.SampleExtraMl"/>.</summary>
    public double SampleMl => MixerToCellInletMl + Settings.SampleExtraMl;

    /// <summary>Mixture sent to waste before the cell: max(MixFlushMl, 2 x dead volume mixer -> waste).</summary>
    public double FlushMl => Math.Max(Settings.MixFlushMl, 2 * MixerToWasteMl);

    /// <summary>The optimal route (cached); throws <see cref="AsabRequestException"/> naming the route when there is none.</summary>
    public FluidRoute Route(string what, string from, string to, params string[] via)
    {
        var key = $"{from}|{to}|{string.Join(",", via)}";
        if (!_routes.TryGetValue(key, out var r))
        {
            try
            {
                var found = Graph.FindRoute(from, to, via.Length == 0 ? null : via, false);
                r = (ToFluidRoute(found), null);
            }
            catch (Exception e) when (e is ScienceException or ArgumentException)
            {
                r = (null, $"no route for {what} ({from} -> {to}{(via.Length > 0 ? " via " + string.Join(", ", via) : "")}): {e.Message}");
            }
            _routes[key] = r;
        }
        return r.Route ?? throw new AsabRequestException(r.Error!);
    }

    /// <summary>A core route as the device layer's <see cref="FluidRoute"/> (per-hop dead volumes, valve positions).</summary>
    public FluidRoute ToFluidRoute(RouteOutput route)
    {
        var hops = new List<double>();
        for (var i = 1; i < route.Nodes.Count; i++) hops.Add(Graph.DeadVolumeMilliliters([route.Nodes[i - 1], route.Nodes[i]]));
        return FluidRoute.Of(route.Nodes, hops, route.ValveSettings.Select(v => new Devices.Fluidics.ValveSetting(v.Valve, v.Port)).ToArray());
    }

    /// <summary>The routes a stock pump uses: fill from its reservoir, prime straight to waste, prime/flush through the
    /// mixer to waste, and provide the sample through the mixer and the cell.</summary>
    public AsabRoutes RoutesFor(string pump, string source) => new(
        Route($"filling {pump}", source, pump),
        Route($"priming {pump} to waste", pump, Settings.Waste),
        Route($"flushing {pump} through the mixer", pump, Settings.Waste, Settings.Mixer),
        Route($"providing the sample from {pump}", pump, Settings.Waste, Settings.Mixer, Settings.CellInlet));

    /// <summary>The route gas takes through the cell to waste (drain).</summary>
    public FluidRoute DrainRoute => Route("draining the cell", Settings.GasSource, Settings.Waste, Settings.CellInlet);

    /// <summary>Parses the request parameters: formulation (mole fractions) and temperature (default: the configured minimum).</summary>
    public SampleRequest ParseRequest(JsonElement parameters)
    {
        if (parameters.ValueKind != JsonValueKind.Object)
            throw new AsabRequestException($"parameters must be an object, got {parameters.ValueKind}");
        // The core codec, strict: chemicals by InChIKey or SMILES and known to the core, every entry molPerMol with a
        // fraction 0..1, no chemical twice, zeros kept (they are echoed in the result's "requested").
        var formulation = parameters.TryGetProperty("formulation", out var f) ? f : default;
        if (!FormulationJson.TryDecodeMoleFractionsWith(formulation, DuplicateChemicalPolicy.Refuse,
                MoleFractionOptions.StrictReferences | MoleFractionOptions.KeepZeros, out var byInChIKey, out var error))
            throw new AsabRequestException(error);
        var fractions = byInChIKey.ToDictionary(kv => ScienceApi.FindChemical(kv.Key).Name, kv => kv.Value);
        var t = Settings.TemperatureMinK;
        if (parameters.TryGetProperty("temperature", out var tp) && tp.ValueKind != JsonValueKind.Null)
        {
            if (tp.ValueKind != JsonValueKind.Number) throw new AsabRequestException($"temperature is {tp.GetRawText()}; expected kelvin");
            t = tp.GetDouble();
            if (t < Settings.TemperatureMinK - 1e-9 || t > Settings.TemperatureMaxK + 1e-9)
                throw new AsabRequestException(Settings.TemperatureMinK == Settings.TemperatureMaxK
                    ? $"temperature is {Fmt(t)} K; this lab measures at {Fmt(Settings.TemperatureMinK)} K only"
                    : $"temperature is {Fmt(t)} K; this lab measures at {Fmt(Settings.TemperatureMinK)}..{Fmt(Settings.TemperatureMaxK)} K");
        }
        return new SampleRequest(fractions, t);
    }

    /// <summary>
    /// The plan for a request (the core's <see cref="DosingApi.TryPlan"/> on the mixing solve): the closest accessible formulation, doses rounded to <see cref="AsabSettings.MinDoseMl"/>
    /// (stocks below it dropped, the rest renormalized; the achieved formulation is recomputed from the doses), flows
    /// = volume fraction x total flow with the total flow moved into every used syringe's limits, and each syringe's
    /// volume checked against its capacity. Throws <see cref="AsabRequestException"/> when the request cannot be served.
    /// </summary>
    public SamplePlan Plan(SampleRequest request)
    {
        var missing = request.Fractions.Where(kv => kv.Value > 0 && !Stocks.Chemicals.Contains(kv.Key)).Select(kv => kv.Key).ToList();
        if (missing.Count > 0)
            throw new AsabRequestException($"formulation contains {string.Join(", ", missing)}, which no stock contains (stocks hold {string.Join(", ", Stocks.Chemicals)})");
        MixOutput mix;
        try { mix = Stocks.Plan.Solve(request.Fractions); }
        catch (ScienceException e) { throw new AsabRequestException($"formulation cannot be mixed: {e.Message}"); }

        var settings = new DosingSettingsSpec
        {
            MinDoseMilliliters = Settings.MinDoseMl, TotalFlowMillilitersPerSecond = Settings.TotalFlowMlPerS,
            FlushMilliliters = FlushMl, SampleMilliliters = SampleMl, FillMarginMilliliters = Settings.FillMarginMl,
        };
        if (!DosingApi.TryPlan(settings, _pumps, Stocks.MolesPerMlByStock(),
                (stock, pump) => Settings.PrimeFactor * RoutesFor(pump, Stocks[stock].Reservoir).ThroughMixerToWaste.DeadVolumeMl,
                request.Fractions, mix.VolumeFractions, out var plan, out var error))
            throw new AsabRequestException(error);
        var doses = plan.Doses.Select(d => new StockDose(d.Stock, d.Pump, Stocks[d.Stock].Reservoir, d.VolumeFraction, d.FlowMillilitersPerSecond,
            d.FlushMilliliters, d.SampleMilliliters, d.PrimeMilliliters)).ToList();
        return new SamplePlan(request, plan.VolumeFractions, plan.Achieved, plan.Deviation, plan.MixRating, plan.TotalFlowMillilitersPerSecond,
            FlushMl, SampleMl, doses);
    }

    /// <summary>floor((1 - ||req - act|| / ||req||) * 5), 0 when the relative error is >= 1 (domain.md section 4).</summary>
    public static int MixRating(IReadOnlyDictionary<string, double> requested, IReadOnlyDictionary<string, double> achieved) =>
        DosingApi.MixRating(requested, achieved);

    /// <summary>Euclidean distance over the union of chemicals.</summary>
    public static double Distance(IReadOnlyDictionary<string, double> a, IReadOnlyDictionary<string, double> b) =>
        DosingApi.Distance(a, b);

    private static string Fmt(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
