namespace Finales.Devices.Fluidics;

/// <summary>
/// A syringe pump (CETONI neMESYS via Qmix). Volumes in mL, flows in mL/s; a positive flow dispenses (fill level
/// falls), a negative flow aspirates. Flows outside the syringe's limits throw <see cref="FlowOutOfRangeException"/>.
/// </summary>
public interface ISyringePump
{
    string Name { get; }
    SyringeSize Syringe { get; }

    /// <summary>Moves the plunger to <paramref name="levelMl"/> at |<paramref name="flowMlPerS"/>| and completes when it is there. Cancelling stops the pump.</summary>
    Task SetFillLevelAsync(double levelMl, double flowMlPerS, CancellationToken cancellationToken = default);

    /// <summary>Starts a continuous flow (positive dispenses, negative aspirates) and returns; it runs until <see cref="StopAsync"/> or the syringe is empty/full.</summary>
    Task GenerateFlowAsync(double flowMlPerS, CancellationToken cancellationToken = default);

    /// <summary>The current fill level, mL.</summary>
    Task<double> GetFillLevelAsync(CancellationToken cancellationToken = default);

    /// <summary>The actual flow, mL/s (0 when idle; positive dispensing).</summary>
    Task<double> GetActualFlowAsync(CancellationToken cancellationToken = default);

    /// <summary>True while the plunger moves.</summary>
    Task<bool> IsPumpingAsync(CancellationToken cancellationToken = default);

    /// <summary>Stops the plunger.</summary>
    Task StopAsync(CancellationToken cancellationToken = default);
}

/// <summary>A rotary valve (CETONI Qmix) with positions 1..<see cref="PositionCount"/>.</summary>
public interface IRotaryValve
{
    string Name { get; }
    int PositionCount { get; }

    /// <summary>Switches to a position (1-based) and completes when it is there; other positions throw <see cref="ArgumentOutOfRangeException"/>.</summary>
    Task SwitchToAsync(int position, CancellationToken cancellationToken = default);

    /// <summary>The current position (1-based).</summary>
    Task<int> GetPositionAsync(CancellationToken cancellationToken = default);
}

/// <summary>One node of a route and the dead volume of the tubing from the previous node to it (0 for the first node).</summary>
public sealed record RouteNode(string Name, double DeadVolumeMl);

/// <summary>A valve position that a route needs.</summary>
public sealed record ValveSetting(string Valve, int Position);

/// <summary>
/// A flow path through the tubing graph: the ordered nodes (first and last are vessels or pumps) with their dead
/// volumes, and the valve settings that open it. The routing (shortest path by dead volume under the valve rule)
/// lives in the core; this is what a device layer needs to move liquid along it.
/// </summary>
public sealed record FluidRoute
{
    public FluidRoute(IReadOnlyList<RouteNode> nodes, IReadOnlyList<ValveSetting> valveSettings)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(valveSettings);
        if (nodes.Count < 2)
            throw new ArgumentException($"A route needs at least 2 nodes; got {nodes.Count}.", nameof(nodes));
        foreach (var n in nodes)
        {
            if (string.IsNullOrWhiteSpace(n.Name))
                throw new ArgumentException("A route node has an empty name.", nameof(nodes));
            if (!double.IsFinite(n.DeadVolumeMl) || n.DeadVolumeMl < 0)
                throw new ArgumentException($"Route node {n.Name} has dead volume {n.DeadVolumeMl} mL; it must be finite and >= 0.", nameof(nodes));
        }
        var repeated = nodes.GroupBy(n => n.Name).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null)
            throw new ArgumentException($"Route visits node {repeated.Key} twice.", nameof(nodes));
        foreach (var v in valveSettings)
            if (v.Position < 1)
                throw new ArgumentException($"Route sets valve {v.Valve} to position {v.Position}; positions start at 1.", nameof(valveSettings));
        Nodes = nodes;
        ValveSettings = valveSettings;
    }

    /// <summary>A route from node names and per-hop dead volumes (hopDeadVolumes[i] is the tubing into nodes[i+1]).</summary>
    public static FluidRoute Of(IReadOnlyList<string> nodes, IReadOnlyList<double> hopDeadVolumesMl, params ValveSetting[] valveSettings)
    {
        if (hopDeadVolumesMl.Count != nodes.Count - 1)
            throw new ArgumentException($"A route with {nodes.Count} nodes needs {nodes.Count - 1} hop dead volumes; got {hopDeadVolumesMl.Count}.", nameof(hopDeadVolumesMl));
        return new FluidRoute(nodes.Select((n, i) => new RouteNode(n, i == 0 ? 0 : hopDeadVolumesMl[i - 1])).ToList(), valveSettings);
    }

    public IReadOnlyList<RouteNode> Nodes { get; }
    public IReadOnlyList<ValveSetting> ValveSettings { get; }
    public string Start => Nodes[0].Name;
    public string End => Nodes[^1].Name;
    public double DeadVolumeMl => Nodes.Sum(n => n.DeadVolumeMl);

    public override string ToString() => string.Join(" -> ", Nodes.Select(n => n.Name));
}

/// <summary>A fault of the liquid handling: no route, a valve in the wrong position, an overflowing vessel.</summary>
public class FluidicsException : DeviceException
{
    public FluidicsException(string message) : base(message) { }
}

/// <summary>A vessel (reservoir, vial, syringe) holds less liquid than a transfer needs.</summary>
public sealed class ReservoirEmptyException : FluidicsException
{
    public ReservoirEmptyException(string vessel, double requestedMl, double availableMl)
        : base(FormattableString.Invariant($"Vessel {vessel} is empty: {requestedMl:G6} mL requested, {availableMl:G6} mL available."))
    {
        Vessel = vessel;
        RequestedMl = requestedMl;
        AvailableMl = availableMl;
    }

    public string Vessel { get; }
    public double RequestedMl { get; }
    public double AvailableMl { get; }
}
