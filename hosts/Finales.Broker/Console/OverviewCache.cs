namespace Finales.Broker.WebConsole;

/// <summary>
/// The overview's numbers, shared by every open overview of one scope and refreshed on demand at most every
/// <see cref="MaxAge"/> (or ten times as long as the last refresh took): see <see cref="ScopeCache{T}"/>.
/// </summary>
public sealed class OverviewCache
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(2);

    /// <summary>The numbers of one scope at one time.</summary>
    public sealed record Numbers(IReadOnlyList<StatusCount> Counts, IReadOnlyDictionary<Guid, TenantActivity> Activity, DateTime At, TimeSpan Took) : IStamped;

    private readonly BrokerService svc;
    private readonly ScopeCache<Numbers> cache;

    public OverviewCache(BrokerService svc)
    {
        this.svc = svc;
        cache = new ScopeCache<Numbers>(() => svc.UtcNow, MaxAge, Compute);
    }

    public Task<Numbers> Get(IReadOnlyList<Guid>? requesters) => cache.Get(requesters);

    private async Task<Numbers> Compute(IReadOnlyList<Guid>? requesters)
    {
        var reads = ConsoleReads.Reads(svc);
        var now = svc.UtcNow;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var counts = await reads.StatusCountsByCapabilityAsync(requesters);
        var activity = await reads.TenantActivityAsync(now.AddHours(-1));
        return new Numbers(counts, activity.ToDictionary(a => a.Tenant), now, System.Diagnostics.Stopwatch.GetElapsedTime(started));
    }
}
