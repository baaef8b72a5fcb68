namespace Finales.Devices;

/// <summary>
/// Time compression for simulators and polling drivers. Every wait goes through <see cref="DelayAsync"/>:
/// a simulated duration d takes d x <see cref="TimeScale"/> of wall time (1.0 = real time, 0.001 in tests).
/// </summary>
public sealed class DeviceClock
{
    /// <summary>Real time: 1 simulated second is 1 wall-clock second.</summary>
    public static DeviceClock RealTime { get; } = new(1.0);

    /// <summary>Creates a clock; <paramref name="timeScale"/> must be finite and &gt; 0.</summary>
    public DeviceClock(double timeScale)
    {
        if (!double.IsFinite(timeScale) || timeScale <= 0)
            throw new ArgumentOutOfRangeException(nameof(timeScale), timeScale,
                $"TimeScale is {timeScale}; it must be finite and > 0 (1.0 = real time, 0.001 = 1000x faster).");
        TimeScale = timeScale;
    }

    /// <summary>Wall seconds per simulated second.</summary>
    public double TimeScale { get; }

    /// <summary>The wall-clock duration of a simulated duration.</summary>
    public TimeSpan ToWall(TimeSpan simulated) => TimeSpan.FromTicks((long)(simulated.Ticks * TimeScale));

    /// <summary>The simulated duration that corresponds to a wall-clock duration.</summary>
    public TimeSpan ToSimulated(TimeSpan wall) => TimeSpan.FromTicks((long)(wall.Ticks / TimeScale));

    /// <summary>Waits for a simulated duration (scaled to wall time), honouring cancellation.</summary>
    public Task DelayAsync(TimeSpan simulated, CancellationToken cancellationToken = default)
    {
        var wall = ToWall(simulated);
        return wall <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(wall, cancellationToken);
    }
}

/// <summary>Base class of every device fault (protocol, instrument state, fluidics). The message names the device, field and value.</summary>
public class DeviceException : Exception
{
    public DeviceException(string message) : base(message) { }
    public DeviceException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A device did not answer within its timeout.</summary>
public class DeviceTimeoutException : DeviceException
{
    public DeviceTimeoutException(string message) : base(message) { }
    public DeviceTimeoutException(string message, Exception inner) : base(message, inner) { }
}
