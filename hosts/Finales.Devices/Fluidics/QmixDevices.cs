using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Finales.Devices.Fluidics;

/// <summary>
/// The calls the lab robot needs from one pump channel of the proprietary CETONI Qmix SDK (names after the SDK's
/// <c>Pump</c> class). A site binds it to the SDK (the SDK's native libraries are not redistributable); units are
/// those configured in the SDK: mL and mL/s.
/// </summary>
public interface IQmixPumpBinding
{
    void SetSyringeParam(double innerDiameterMm, double maxPistonStrokeMm);
    void SetFillLevel(double levelMl, double flowMlPerS);
    void GenerateFlow(double flowMlPerS);
    double GetFillLevel();
    double GetFlowIs();
    bool IsPumping();
    void StopPumping();
}

/// <summary>The calls the lab robot needs from one valve of the Qmix SDK. SDK positions are 0-based.</summary>
public interface IQmixValveBinding
{
    int NumberOfValvePositions();
    void SwitchValveToPosition(int zeroBasedPosition);
    int ActualValvePosition();
}

/// <summary>
/// The real pump driver: validates fill levels and flows against the syringe, configures the syringe in the SDK,
/// waits for dosing to end by polling, and stops the pump when cancelled.
/// </summary>
public sealed class QmixSyringePump : ISyringePump
{
    private readonly IQmixPumpBinding _sdk;
    private readonly TimeSpan _pollInterval;
    private readonly ILogger _logger;

    public QmixSyringePump(string name, SyringeSize syringe, IQmixPumpBinding sdk, TimeSpan? pollInterval = null,
        ILogger<QmixSyringePump>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Syringe = syringe ?? throw new ArgumentNullException(nameof(syringe));
        _sdk = sdk ?? throw new ArgumentNullException(nameof(sdk));
        _pollInterval = pollInterval ?? TimeSpan.FromMilliseconds(100);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _sdk.SetSyringeParam(syringe.InnerDiameterMm, syringe.StrokeMm);
    }

    public string Name { get; }
    public SyringeSize Syringe { get; }

    public async Task SetFillLevelAsync(double levelMl, double flowMlPerS, CancellationToken cancellationToken = default)
    {
        levelMl = Syringe.ValidateFillLevel(Name, levelMl);
        Syringe.ValidateFlow(Name, flowMlPerS);
        _logger.LogInformation("Pump {Pump}: fill level -> {Level} mL at {Flow} mL/s", Name, levelMl, flowMlPerS);
        _sdk.SetFillLevel(levelMl, Math.Abs(flowMlPerS));
        try
        {
            while (_sdk.IsPumping())
                await Task.Delay(_pollInterval, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _sdk.StopPumping();
            throw;
        }
    }

    public Task GenerateFlowAsync(double flowMlPerS, CancellationToken cancellationToken = default)
    {
        Syringe.ValidateFlow(Name, flowMlPerS);
        _logger.LogInformation("Pump {Pump}: continuous flow {Flow} mL/s", Name, flowMlPerS);
        // Qmix: a positive flow dispenses, a negative one aspirates, as in this interface.
        _sdk.GenerateFlow(flowMlPerS);
        return Task.CompletedTask;
    }

    public Task<double> GetFillLevelAsync(CancellationToken cancellationToken = default) => Task.FromResult(_sdk.GetFillLevel());
    public Task<double> GetActualFlowAsync(CancellationToken cancellationToken = default) => Task.FromResult(_sdk.GetFlowIs());
    public Task<bool> IsPumpingAsync(CancellationToken cancellationToken = default) => Task.FromResult(_sdk.IsPumping());

    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        _sdk.StopPumping();
        return Task.CompletedTask;
    }
}

/// <summary>The real valve driver: 1-based positions on top of the SDK's 0-based ones, waiting until the valve is there.</summary>
public sealed class QmixRotaryValve : IRotaryValve
{
    private readonly IQmixValveBinding _sdk;
    private readonly TimeSpan _pollInterval;
    private readonly TimeSpan _timeout;

    public QmixRotaryValve(string name, IQmixValveBinding sdk, TimeSpan? pollInterval = null, TimeSpan? timeout = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        _sdk = sdk ?? throw new ArgumentNullException(nameof(sdk));
        _pollInterval = pollInterval ?? TimeSpan.FromMilliseconds(50);
        _timeout = timeout ?? TimeSpan.FromSeconds(10);
        PositionCount = _sdk.NumberOfValvePositions();
    }

    public string Name { get; }
    public int PositionCount { get; }

    public async Task SwitchToAsync(int position, CancellationToken cancellationToken = default)
    {
        if (position < 1 || position > PositionCount)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"Valve {Name}: position {position} is invalid; positions are 1..{PositionCount}.");
        _sdk.SwitchValveToPosition(position - 1);
        var deadline = DateTime.UtcNow + _timeout;
        while (_sdk.ActualValvePosition() != position - 1)
        {
            if (DateTime.UtcNow > deadline)
                throw new DeviceTimeoutException($"Valve {Name} did not reach position {position} within {_timeout.TotalSeconds:0.#} s (at {_sdk.ActualValvePosition() + 1}).");
            await Task.Delay(_pollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    public Task<int> GetPositionAsync(CancellationToken cancellationToken = default) => Task.FromResult(_sdk.ActualValvePosition() + 1);
}
