namespace Finales.Broker.WebConsole;

/// <summary>
/// The overview's numbers, shared by every open overview of one scope (all tenants, or one set of tenants) and
/// refreshed at most every <see cref="MaxAge"/>, or every ten times as long as the last refresh took when that is
/// longer: a page older than that still gets the last numbers at once (their time is on the page) while one refresh
/// runs in the background. So open pages polling every second cost the store at most a tenth of one reader's time
/// however large the store, and no page waits for a count over a large store but the very first.
/// </summary>
public sealed class OverviewCache(BrokerService svc)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(2);

    /// <summary>The numbers of one scope at one time.</summary>
    public sealed record Numbers(IReadOnlyList<StatusCount> Counts, IReadOnlyDictionary<Guid, TenantActivity> Activity, DateTime At, TimeSpan Took);

    private sealed class Entry
    {
        public Task<Numbers>? Current;
        public bool Refreshing;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public async Task<Numbers> Get(IReadOnlyList<Guid>? requesters)
    {
        var key = requesters is null ? "*" : string.Join(",", requesters.Order());
        var entry = _entries.GetOrAdd(key, _ => new Entry());
        Task<Numbers> current;
        lock (entry)
        {
            entry.Current ??= Compute(requesters);
            current = entry.Current;
        }
        var numbers = await current;
        lock (entry)
        {
            var maxAge = numbers.Took * 10 > MaxAge ? numbers.Took * 10 : MaxAge;
            if (svc.UtcNow - numbers.At > maxAge && !entry.Refreshing && ReferenceEquals(entry.Current, current))
            {
                entry.Refreshing = true;
                var next = Task.Run(() => Compute(requesters));
                next.ContinueWith(t =>
                {
                    lock (entry)
                    {
                        // A failed refresh keeps the last numbers (their time shows their age) and is tried again.
                        if (t.IsCompletedSuccessfully) entry.Current = t;
                        entry.Refreshing = false;
                    }
                }, TaskScheduler.Default);
            }
        }
        return numbers;
    }

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
