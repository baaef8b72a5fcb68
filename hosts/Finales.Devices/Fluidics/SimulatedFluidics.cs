using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Finales.Devices.Fluidics;

/// <summary>Options of the simulated pump/valve set.</summary>
public sealed record SimulatedFluidicsOptions
{
    /// <summary>Time compression for plunger motion and valve switching.</summary>
    public DeviceClock Clock { get; init; } = DeviceClock.RealTime;
    /// <summary>Simulated time a valve takes to switch.</summary>
    public TimeSpan ValveSwitchTime { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>Liquid is moved in steps of at most this volume, round-robin over moving pumps (so simultaneous pumps interleave).</summary>
    public double StepVolumeMl { get; init; } = 0.01;
    /// <summary>Longest wall-clock wait between ledger updates while a pump moves.</summary>
    public TimeSpan MaxWallTick { get; init; } = TimeSpan.FromMilliseconds(20);
}

/// <summary>
/// A simulated CETONI pump/valve set with a liquid ledger. Vessels (reservoirs, vials, the measuring cell, waste),
/// gas sources and syringes hold liquid; every tubing hop of a connected <see cref="FluidRoute"/> is a plug-flow
/// line of its dead volume, initially full of <see cref="Gas"/>. When a pump moves, the liquid moves along the route
/// the pump is connected to, but only while every valve of the route stands at the route's position. A vessel
/// placed on a balance reports every mass change (density x volume) to it.
/// </summary>
public sealed class SimulatedFluidics
{
    /// <summary>The name of gas (air, argon) in the ledger: density 0, lines start full of it.</summary>
    public const string Gas = "gas";

    private readonly object _sync = new();
    private readonly Dictionary<string, double> _densities = new() { [Gas] = 0.0 };
    private readonly Dictionary<string, Vessel> _vessels = new();
    private readonly HashSet<string> _gasSources = new();
    private readonly Dictionary<string, SimulatedSyringePump> _pumps = new();
    private readonly Dictionary<string, SimulatedRotaryValve> _valves = new();
    private readonly Dictionary<(string, string), Line> _lines = new();
    private readonly Dictionary<string, FluidRoute> _routes = new();
    private readonly Dictionary<string, Action<double>> _balances = new();
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;

    public SimulatedFluidics(SimulatedFluidicsOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        Options = options ?? new SimulatedFluidicsOptions();
        if (!(Options.StepVolumeMl > 0))
            throw new ArgumentOutOfRangeException(nameof(options), Options.StepVolumeMl, $"StepVolumeMl is {Options.StepVolumeMl}; it must be > 0.");
        _loggers = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger<SimulatedFluidics>();
    }

    public SimulatedFluidicsOptions Options { get; }

    /// <summary>Raised (under the ledger lock: keep it short) when liquid enters (+) or leaves (-) a vessel or syringe: node, liquid volumes, mass in grams.</summary>
    public event Action<string, IReadOnlyDictionary<string, double>, double>? LiquidMoved;

    internal object Gate => _sync;
    internal TimeSpan WallNow => _wall.Elapsed;

    /// <summary>Declares a liquid and its density (g/cm3), used for masses on the balance.</summary>
    public void DefineLiquid(string liquid, double densityGcm3)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(liquid);
        if (!double.IsFinite(densityGcm3) || densityGcm3 <= 0)
            throw new ArgumentOutOfRangeException(nameof(densityGcm3), densityGcm3, $"Density of {liquid} is {densityGcm3} g/cm3; it must be finite and > 0.");
        lock (_sync) _densities[liquid] = densityGcm3;
    }

    /// <summary>Adds a reservoir filled with <paramref name="volumeMl"/> of a defined liquid.</summary>
    public void AddReservoir(string name, string liquid, double volumeMl)
    {
        if (!double.IsFinite(volumeMl) || volumeMl < 0)
            throw new ArgumentOutOfRangeException(nameof(volumeMl), volumeMl, $"Reservoir {name} volume is {volumeMl} mL; it must be finite and >= 0.");
        lock (_sync)
        {
            if (!_densities.ContainsKey(liquid))
                throw new FluidicsException($"Reservoir {name} holds liquid '{liquid}', which is not defined; call DefineLiquid first.");
            AddVesselLocked(name, null).Add(new Dictionary<string, double> { [liquid] = volumeMl });
        }
    }

    /// <summary>Adds an empty vessel (waste, vial, measuring cell); with a capacity, overfilling is a <see cref="FluidicsException"/>.</summary>
    public void AddVessel(string name, double? capacityMl = null)
    {
        lock (_sync) AddVesselLocked(name, capacityMl);
    }

    /// <summary>Adds an endless gas source (ambient air, pressurized gas).</summary>
    public void AddGasSource(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        lock (_sync)
        {
            EnsureNewNode(name);
            _gasSources.Add(name);
        }
    }

    /// <summary>Adds a simulated pump with an empty syringe.</summary>
    public SimulatedSyringePump AddPump(string name, SyringeSize syringe)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(syringe);
        lock (_sync)
        {
            EnsureNewNode(name);
            var pump = new SimulatedSyringePump(this, name, syringe, _loggers.CreateLogger<SimulatedSyringePump>());
            _pumps.Add(name, pump);
            return pump;
        }
    }

    /// <summary>Adds a simulated rotary valve at position 1.</summary>
    public SimulatedRotaryValve AddValve(string name, int positionCount = 10)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (positionCount is < 2 or > 16)
            throw new ArgumentOutOfRangeException(nameof(positionCount), positionCount, $"Valve {name} has {positionCount} positions; expected 2..16.");
        lock (_sync)
        {
            if (_valves.ContainsKey(name)) throw new FluidicsException($"Valve {name} exists already.");
            var valve = new SimulatedRotaryValve(this, name, positionCount);
            _valves.Add(name, valve);
            return valve;
        }
    }

    public SimulatedSyringePump Pump(string name)
    {
        lock (_sync) return _pumps.TryGetValue(name, out var p) ? p : throw new FluidicsException($"No pump named {name}.");
    }

    public SimulatedRotaryValve Valve(string name)
    {
        lock (_sync) return _valves.TryGetValue(name, out var v) ? v : throw new FluidicsException($"No valve named {name}.");
    }

    /// <summary>
    /// Connects a pump to a route that starts or ends at the pump: aspirating pulls liquid from the route's far end
    /// into the syringe, dispensing pushes it out to the far end. The far end must be a vessel or a gas source.
    /// </summary>
    public void Connect(string pump, FluidRoute route)
    {
        ArgumentNullException.ThrowIfNull(route);
        lock (_sync)
        {
            Sync();
            if (!_pumps.ContainsKey(pump)) throw new FluidicsException($"No pump named {pump}.");
            if (route.Start != pump && route.End != pump)
                throw new FluidicsException($"Route {route} does not start or end at pump {pump}.");
            var far = route.Start == pump ? route.End : route.Start;
            if (!_vessels.ContainsKey(far) && !_gasSources.Contains(far))
                throw new FluidicsException($"Route {route} ends at {far}, which is neither a vessel nor a gas source; add it first.");
            foreach (var node in route.Nodes.Skip(1).SkipLast(1))
                if (_vessels.ContainsKey(node.Name) || _pumps.ContainsKey(node.Name) || _gasSources.Contains(node.Name))
                    throw new FluidicsException($"Route {route} passes through {node.Name}, a vessel or pump; only its ends may be.");
            foreach (var v in route.ValveSettings)
            {
                if (!_valves.TryGetValue(v.Valve, out var valve))
                    throw new FluidicsException($"Route {route} needs valve {v.Valve}, which does not exist.");
                if (v.Position > valve.PositionCount)
                    throw new FluidicsException($"Route {route} sets valve {v.Valve} to position {v.Position}; it has {valve.PositionCount}.");
            }
            for (var i = 1; i < route.Nodes.Count; i++)
            {
                var key = LineKey(route.Nodes[i - 1].Name, route.Nodes[i].Name);
                var dv = route.Nodes[i].DeadVolumeMl;
                if (_lines.TryGetValue(key, out var line))
                {
                    if (Math.Abs(line.CapacityMl - dv) > 1e-9)
                        throw new FluidicsException($"Tubing {key.Item1}-{key.Item2} has dead volume {line.CapacityMl} mL; route {route} says {dv} mL.");
                }
                else _lines[key] = new Line(dv);
            }
            _routes[pump] = route;
            _logger.LogInformation("Pump {Pump} connected to route {Route}", pump, route.ToString());
        }
    }

    /// <summary>Disconnects a pump (its syringe can no longer move liquid).</summary>
    public void Disconnect(string pump)
    {
        lock (_sync)
        {
            Sync();
            _routes.Remove(pump);
        }
    }

    /// <summary>Puts a vessel on a balance: every volume entering or leaving it adds or removes density x volume grams.</summary>
    public void PlaceOnBalance(string vessel, Action<double> addMassGrams)
    {
        ArgumentNullException.ThrowIfNull(addMassGrams);
        lock (_sync)
        {
            if (!_vessels.ContainsKey(vessel)) throw new FluidicsException($"Vessel {vessel} does not exist; add it before placing it on a balance.");
            _balances[vessel] = addMassGrams;
        }
    }

    /// <summary>The liquids in a vessel, syringe or tubing hop (mL per liquid, gas included for tubing).</summary>
    public IReadOnlyDictionary<string, double> Contents(string node)
    {
        lock (_sync)
        {
            Sync();
            if (_vessels.TryGetValue(node, out var v)) return v.Snapshot();
            if (_pumps.TryGetValue(node, out var p)) return p.Contents.Snapshot();
            throw new FluidicsException($"Node {node} is not a vessel or pump.");
        }
    }

    /// <summary>The contents of the tubing between two adjacent nodes.</summary>
    public IReadOnlyDictionary<string, double> LineContents(string a, string b)
    {
        lock (_sync)
        {
            Sync();
            return _lines.TryGetValue(LineKey(a, b), out var line) ? line.Snapshot() : throw new FluidicsException($"No tubing between {a} and {b} on any connected route.");
        }
    }

    /// <summary>Total liquid volume (gas excluded) in a vessel or syringe, mL.</summary>
    public double VolumeMl(string node) => Contents(node).Where(kv => kv.Key != Gas).Sum(kv => kv.Value);

    /// <summary>Mass of the liquid in a vessel or syringe, g.</summary>
    public double MassGrams(string node)
    {
        var contents = Contents(node);
        lock (_sync) return Mass(contents);
    }

    /// <summary>Brings every moving pump up to now, moving liquid in steps round-robin so simultaneous pumps interleave.</summary>
    internal void Sync()
    {
        lock (_sync)
        {
            var now = WallNow;
            var moving = _pumps.Values.Select(p => (Pump: p, Delta: p.TakePendingDelta(now))).Where(x => x.Delta != 0).ToList();
            var remaining = moving.Select(m => m.Delta).ToArray();
            var active = true;
            while (active)
            {
                active = false;
                for (var i = 0; i < moving.Count; i++)
                {
                    if (remaining[i] == 0) continue;
                    var step = Math.Sign(remaining[i]) * Math.Min(Math.Abs(remaining[i]), Options.StepVolumeMl);
                    try
                    {
                        MoveSyringe(moving[i].Pump, step);
                        remaining[i] -= step;
                        if (Math.Abs(remaining[i]) < 1e-12) remaining[i] = 0;
                        active |= remaining[i] != 0;
                    }
                    catch (FluidicsException e)
                    {
                        moving[i].Pump.Fail(e, remaining[i]);
                        _logger.LogWarning("Pump {Pump} stopped: {Error}", moving[i].Pump.Name, e.Message);
                        remaining[i] = 0;
                    }
                }
            }
        }
    }

    /// <summary>Moves liquid for a plunger step: delta &gt; 0 aspirates delta mL into the syringe, &lt; 0 dispenses.</summary>
    private void MoveSyringe(SimulatedSyringePump pump, double delta)
    {
        if (!_routes.TryGetValue(pump.Name, out var route))
            throw new FluidicsException($"Pump {pump.Name} moved but is connected to no route; call Connect first.");
        foreach (var v in route.ValveSettings)
        {
            var valve = _valves[v.Valve];
            if (valve.IsSwitching || valve.CurrentPosition != v.Position)
                throw new FluidicsException($"Route {route} needs valve {v.Valve} at position {v.Position}; it is {(valve.IsSwitching ? "switching" : "at position " + valve.CurrentPosition)}.");
        }
        var nodes = route.Nodes.Select(n => n.Name).ToList();
        if ((route.Start == pump.Name) == (delta > 0)) nodes.Reverse(); // liquid flows from far end to the pump when aspirating
        var volume = Math.Abs(delta);
        // Full lines pass on exactly the volume pushed in, so the destination's room can be checked before anything moves.
        if (_vessels.TryGetValue(nodes[^1], out var destination) && destination.CapacityMl is { } cap && destination.Liquid.Total + volume > cap + 1e-9)
            throw new FluidicsException($"Vessel {nodes[^1]} overflows: {destination.Liquid.Total + volume:G6} mL > capacity {cap:G6} mL.");
        var batch = Take(nodes[0], volume);
        for (var i = 1; i < nodes.Count; i++)
            batch = _lines[LineKey(nodes[i - 1], nodes[i])].Push(nodes[i - 1], LineKey(nodes[i - 1], nodes[i]).Item1 == nodes[i - 1], batch);
        Put(nodes[^1], batch);
    }

    private Dictionary<string, double> Take(string node, double volume)
    {
        if (_gasSources.Contains(node)) return new() { [Gas] = volume };
        Liquid source = _pumps.TryGetValue(node, out var pump) ? pump.Contents : _vessels[node].Liquid;
        var available = source.Total;
        if (available < volume - 1e-12)
            throw new ReservoirEmptyException(node, volume, available);
        var taken = source.Take(volume);
        Notify(node, taken, -1);
        return taken;
    }

    private void Put(string node, Dictionary<string, double> batch)
    {
        if (_gasSources.Contains(node)) return; // vented
        if (_pumps.TryGetValue(node, out var pump))
        {
            pump.Contents.Add(batch);
        }
        else
        {
            _vessels[node].Liquid.Add(batch);
        }
        Notify(node, batch, +1);
    }

    private void Notify(string node, Dictionary<string, double> batch, int sign)
    {
        var mass = sign * Mass(batch);
        if (_balances.TryGetValue(node, out var balance) && mass != 0) balance(mass);
        LiquidMoved?.Invoke(node, sign > 0 ? batch : batch.ToDictionary(kv => kv.Key, kv => -kv.Value), mass);
    }

    private double Mass(IReadOnlyDictionary<string, double> batch) =>
        batch.Sum(kv => kv.Value * (_densities.TryGetValue(kv.Key, out var rho) ? rho : throw new FluidicsException($"Liquid '{kv.Key}' has no density; call DefineLiquid.")));

    private Vessel AddVesselLocked(string name, double? capacityMl)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (capacityMl is { } c && (!double.IsFinite(c) || c <= 0))
            throw new ArgumentOutOfRangeException(nameof(capacityMl), c, $"Vessel {name} capacity is {c} mL; it must be finite and > 0.");
        EnsureNewNode(name);
        var vessel = new Vessel(capacityMl);
        _vessels.Add(name, vessel);
        return vessel;
    }

    private void EnsureNewNode(string name)
    {
        if (_vessels.ContainsKey(name) || _pumps.ContainsKey(name) || _gasSources.Contains(name))
            throw new FluidicsException($"Node {name} exists already.");
    }

    private static (string, string) LineKey(string a, string b) => string.CompareOrdinal(a, b) <= 0 ? (a, b) : (b, a);

    private sealed class Vessel(double? capacityMl)
    {
        public double? CapacityMl { get; } = capacityMl;
        public Liquid Liquid { get; } = new();
        public void Add(Dictionary<string, double> batch) => Liquid.Add(batch);
        public IReadOnlyDictionary<string, double> Snapshot() => Liquid.Snapshot();
    }
}

/// <summary>A well-mixed volume of liquids (mL per liquid).</summary>
internal sealed class Liquid
{
    private readonly Dictionary<string, double> _volumes = new();

    public double Total => _volumes.Values.Sum();

    public void Add(IReadOnlyDictionary<string, double> batch)
    {
        foreach (var (k, v) in batch)
            if (v > 0) _volumes[k] = _volumes.GetValueOrDefault(k) + v;
    }

    /// <summary>Takes a volume in proportion to the composition.</summary>
    public Dictionary<string, double> Take(double volume)
    {
        var total = Total;
        var taken = new Dictionary<string, double>();
        if (total <= 0 || volume <= 0) return taken;
        var fraction = Math.Min(1.0, volume / total);
        foreach (var k in _volumes.Keys.ToList())
        {
            var v = _volumes[k] * fraction;
            taken[k] = v;
            _volumes[k] -= v;
            if (_volumes[k] < 1e-12) _volumes.Remove(k);
        }
        return taken;
    }

    public IReadOnlyDictionary<string, double> Snapshot() => new Dictionary<string, double>(_volumes);
}

/// <summary>Plug flow in a tube of fixed dead volume: what is pushed in at one end pushes the same volume out at the other.</summary>
internal sealed class Line
{
    // Slugs ordered from the key's first end to its second end.
    private readonly LinkedList<(string Liquid, double Volume)> _slugs = new();

    public Line(double capacityMl)
    {
        CapacityMl = capacityMl;
        if (capacityMl > 0) _slugs.AddFirst((SimulatedFluidics.Gas, capacityMl));
    }

    public double CapacityMl { get; }

    /// <summary>Pushes a batch in at one end; returns what leaves the other end (same total volume).</summary>
    public Dictionary<string, double> Push(string fromNode, bool fromFirstEnd, Dictionary<string, double> batch)
    {
        if (CapacityMl <= 0) return batch;
        foreach (var (liquid, volume) in batch)
        {
            if (volume <= 0) continue;
            if (fromFirstEnd) _slugs.AddFirst((liquid, volume)); else _slugs.AddLast((liquid, volume));
        }
        var excess = _slugs.Sum(s => s.Volume) - CapacityMl;
        var output = new Dictionary<string, double>();
        while (excess > 1e-15 && _slugs.Count > 0)
        {
            var node = fromFirstEnd ? _slugs.Last! : _slugs.First!;
            var take = Math.Min(node.Value.Volume, excess);
            output[node.Value.Liquid] = output.GetValueOrDefault(node.Value.Liquid) + take;
            excess -= take;
            if (take >= node.Value.Volume - 1e-15) _slugs.Remove(node);
            else node.Value = (node.Value.Liquid, node.Value.Volume - take);
        }
        Merge();
        return output;
    }

    public IReadOnlyDictionary<string, double> Snapshot() =>
        _slugs.GroupBy(s => s.Liquid).ToDictionary(g => g.Key, g => g.Sum(s => s.Volume));

    private void Merge()
    {
        var node = _slugs.First;
        while (node?.Next is { } next)
        {
            if (next.Value.Liquid == node.Value.Liquid)
            {
                node.Value = (node.Value.Liquid, node.Value.Volume + next.Value.Volume);
                _slugs.Remove(next);
            }
            else node = next;
        }
    }
}
