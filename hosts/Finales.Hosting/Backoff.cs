namespace Finales.Hosting;

/// <summary>
/// Exponential backoff with seeded jitter: the n-th consecutive failure waits
/// <c>min(max, initial * 2^n) * (0.5 + 0.5 * u)</c> with u uniform in [0,1) from a seeded generator,
/// so concurrent tenants spread out and a given seed gives the same delays. <see cref="Reset"/> after a success.
/// </summary>
public sealed class Backoff(double initialSeconds, double maxSeconds, int seed)
{
    private readonly Random _random = new(seed);
    private readonly object _gate = new();
    private int _failures;

    /// <summary>Consecutive failures since the last reset.</summary>
    public int Failures { get { lock (_gate) return _failures; } }

    /// <summary>The delay before the next attempt; counts one failure.</summary>
    public TimeSpan Next()
    {
        lock (_gate)
        {
            var ceiling = Math.Min(maxSeconds, initialSeconds * Math.Pow(2, Math.Min(_failures, 30)));
            _failures++;
            return TimeSpan.FromSeconds(ceiling * (0.5 + 0.5 * _random.NextDouble()));
        }
    }

    public void Reset() { lock (_gate) _failures = 0; }
}
