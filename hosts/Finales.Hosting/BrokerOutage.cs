using Microsoft.Extensions.Logging;

namespace Finales.Hosting;

/// <summary>
/// The outage state of one broker connection, shared by every loop of a process: the first failure of an outage logs
/// one warning, each retry waits the seeded <see cref="Backoff"/> on the <see cref="TimeProvider"/>, and the first
/// success afterwards logs one line with the outage's length (on the same clock) and resets the backoff. Thread-safe.
/// </summary>
public sealed class BrokerOutage
{
    private readonly TenantOptions _o;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly Backoff _backoff;
    private readonly object _gate = new();
    private long? _downSince;

    /// <param name="options">Broker URL, backoff bounds and seed, HTTP timeout (for the log).</param>
    /// <param name="logger">Receives the outage and recovery lines (retries at Debug).</param>
    /// <param name="time">The clock of the backoff delays and the outage length; <see cref="TimeProvider.System"/> if null.</param>
    public BrokerOutage(TenantOptions options, ILogger logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _o = options;
        _log = logger;
        _time = time ?? TimeProvider.System;
        _backoff = new Backoff(options.InitialBackoffSeconds, options.MaxBackoffSeconds, options.Seed);
    }

    /// <summary>True from the first failure of an outage until the next success.</summary>
    public bool IsDown { get { lock (_gate) return _downSince is not null; } }

    /// <summary>Records a failed call. Returns true (and logs one warning) for the first failure of an outage;
    /// <paramref name="reason"/> says what went wrong either way.</summary>
    public bool Failed(string what, Exception error, out string reason)
    {
        ArgumentNullException.ThrowIfNull(error);
        reason = error is TaskCanceledException ? $"no answer within {_o.HttpTimeoutSeconds} s" : error.Message;
        lock (_gate)
        {
            if (_downSince is not null) return false;
            _downSince = _time.GetTimestamp();
        }
        _log.LogWarning("Broker {Broker} unreachable while {What}: {Reason}; retrying with backoff (at most every {Max} s) until it is back",
            _o.BrokerUrl, what, reason, _o.MaxBackoffSeconds);
        return true;
    }

    /// <summary>Waits the next backoff delay on the clock (counting one failure); throws when <paramref name="ct"/> is cancelled.</summary>
    public Task BackOffAsync(string what, CancellationToken ct)
    {
        var delay = _backoff.Next();
        _log.LogDebug("Retrying {What} in {Delay:F2} s (failure {N})", what, delay.TotalSeconds, _backoff.Failures);
        return Task.Delay(delay, _time, ct);
    }

    /// <summary>Records a successful call: the first after an outage logs how long it lasted and resets the backoff.</summary>
    public void Succeeded()
    {
        long since;
        lock (_gate)
        {
            if (_downSince is not { } s) return;
            since = s;
            _downSince = null;
        }
        _backoff.Reset();
        _log.LogInformation("Broker {Broker} reachable again after {Seconds:F1} s", _o.BrokerUrl, _time.GetElapsedTime(since).TotalSeconds);
    }
}
