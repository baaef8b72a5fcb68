using Microsoft.Extensions.Logging;

namespace Finales.Devices.Fluidics;

/// <summary>
/// A simulated neMESYS pump inside a <see cref="SimulatedFluidics"/> set. The plunger moves with (time-compressed)
/// simulated time; the ledger moves the liquid along the connected route. A ledger fault (empty reservoir, valve in
/// the wrong position, no route) stops the plunger and is thrown by the running <see cref="SetFillLevelAsync"/>, or
/// by the next call after a continuous flow.
/// </summary>
public sealed class SimulatedSyringePump : ISyringePump
{
    private readonly SimulatedFluidics _fluidics;
    private readonly ILogger _logger;
    private double _level;
    private double _flow;          // mL/s, positive dispenses; 0 when idle
    private double? _target;       // null: continuous flow
    private TimeSpan _lastWall;
    private Exception? _fault;

    internal SimulatedSyringePump(SimulatedFluidics fluidics, string name, SyringeSize syringe, ILogger logger)
    {
        _fluidics = fluidics;
        Name = name;
        Syringe = syringe;
        _logger = logger;
    }

    public string Name { get; }
    public SyringeSize Syringe { get; }
    internal Liquid Contents { get; } = new();

    public async Task SetFillLevelAsync(double levelMl, double flowMlPerS, CancellationToken cancellationToken = default)
    {
        levelMl = Syringe.ValidateFillLevel(Name, levelMl);
        Syringe.ValidateFlow(Name, flowMlPerS);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_fluidics.Gate)
        {
            _fluidics.Sync();
            _fault = null;
            if (Math.Abs(levelMl - _level) < 1e-12)
            {
                _flow = 0;
                return;
            }
            Start(levelMl < _level ? Math.Abs(flowMlPerS) : -Math.Abs(flowMlPerS), levelMl);
        }
        _logger.LogInformation("Pump {Pump}: fill level -> {Level} mL at {Flow} mL/s", Name, levelMl, flowMlPerS);
        try
        {
            while (true)
            {
                TimeSpan wait;
                lock (_fluidics.Gate)
                {
                    _fluidics.Sync();
                    ThrowIfFaulted();
                    if (_flow == 0) return;
                    var remainingS = _target is { } t ? Math.Abs(t - _level) / Math.Abs(_flow) : double.PositiveInfinity;
                    wait = Min(_fluidics.Options.Clock.ToWall(TimeSpan.FromSeconds(Math.Min(remainingS, 86400))), _fluidics.Options.MaxWallTick);
                }
                await Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            lock (_fluidics.Gate)
            {
                _fluidics.Sync();
                _flow = 0;
                _target = null;
            }
            _logger.LogInformation("Pump {Pump}: cancelled at {Level} mL", Name, _level);
            throw;
        }
    }

    public Task GenerateFlowAsync(double flowMlPerS, CancellationToken cancellationToken = default)
    {
        Syringe.ValidateFlow(Name, flowMlPerS);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_fluidics.Gate)
        {
            _fluidics.Sync();
            _fault = null;
            Start(flowMlPerS, null);
        }
        _logger.LogInformation("Pump {Pump}: continuous flow {Flow} mL/s", Name, flowMlPerS);
        return Task.CompletedTask;
    }

    public Task<double> GetFillLevelAsync(CancellationToken cancellationToken = default)
    {
        lock (_fluidics.Gate)
        {
            _fluidics.Sync();
            ThrowIfFaulted();
            return Task.FromResult(_level);
        }
    }

    public Task<double> GetActualFlowAsync(CancellationToken cancellationToken = default)
    {
        lock (_fluidics.Gate)
        {
            _fluidics.Sync();
            ThrowIfFaulted();
            return Task.FromResult(_flow);
        }
    }

    public Task<bool> IsPumpingAsync(CancellationToken cancellationToken = default)
    {
        lock (_fluidics.Gate)
        {
            _fluidics.Sync();
            ThrowIfFaulted();
            return Task.FromResult(_flow != 0);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        lock (_fluidics.Gate)
        {
            _fluidics.Sync();
            _flow = 0;
            _target = null;
        }
        _logger.LogInformation("Pump {Pump}: stopped at {Level} mL", Name, _level);
        return Task.CompletedTask;
    }

    private void Start(double flow, double? target)
    {
        _flow = flow;
        _target = target;
        _lastWall = _fluidics.WallNow;
    }

    private void ThrowIfFaulted()
    {
        if (_fault is { } fault)
        {
            _fault = null;
            throw fault;
        }
    }

    /// <summary>Advances the plunger to <paramref name="now"/>; returns the level change (positive aspirates). Called under the ledger lock.</summary>
    internal double TakePendingDelta(TimeSpan now)
    {
        if (_flow == 0) return 0;
        var simSeconds = _fluidics.Options.Clock.ToSimulated(now - _lastWall).TotalSeconds;
        _lastWall = now;
        var next = _level - _flow * simSeconds;
        var stop = false;
        if (_target is { } t && ((_flow > 0 && next <= t) || (_flow < 0 && next >= t))) { next = t; stop = true; }
        if (next <= 0) { next = 0; stop = true; }
        if (next >= Syringe.CapacityMl) { next = Syringe.CapacityMl; stop = true; }
        var delta = next - _level;
        _level = next;
        if (stop)
        {
            _flow = 0;
            _target = null;
        }
        return delta;
    }

    /// <summary>Stops the plunger after a ledger fault; <paramref name="notMoved"/> is the part of the step that did not happen.</summary>
    internal void Fail(Exception fault, double notMoved)
    {
        _level -= notMoved;
        _flow = 0;
        _target = null;
        _fault = fault;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}

/// <summary>A simulated rotary valve inside a <see cref="SimulatedFluidics"/> set.</summary>
public sealed class SimulatedRotaryValve : IRotaryValve
{
    private readonly SimulatedFluidics _fluidics;

    internal SimulatedRotaryValve(SimulatedFluidics fluidics, string name, int positionCount)
    {
        _fluidics = fluidics;
        Name = name;
        PositionCount = positionCount;
    }

    public string Name { get; }
    public int PositionCount { get; }
    internal int CurrentPosition { get; private set; } = 1;
    internal bool IsSwitching { get; private set; }

    public async Task SwitchToAsync(int position, CancellationToken cancellationToken = default)
    {
        if (position < 1 || position > PositionCount)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"Valve {Name}: position {position} is invalid; positions are 1..{PositionCount}.");
        lock (_fluidics.Gate)
        {
            _fluidics.Sync();
            if (CurrentPosition == position) return;
            IsSwitching = true;
        }
        try
        {
            await _fluidics.Options.Clock.DelayAsync(_fluidics.Options.ValveSwitchTime, cancellationToken).ConfigureAwait(false);
            lock (_fluidics.Gate)
            {
                _fluidics.Sync();
                CurrentPosition = position;
            }
        }
        finally
        {
            lock (_fluidics.Gate) IsSwitching = false;
        }
    }

    public Task<int> GetPositionAsync(CancellationToken cancellationToken = default)
    {
        lock (_fluidics.Gate) return Task.FromResult(CurrentPosition);
    }
}
