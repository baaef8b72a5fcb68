namespace Finales.Broker.WebConsole;

/// <summary>A cached value's time and how long computing it took.</summary>
public interface IStamped
{
    DateTime At { get; }
    TimeSpan Took { get; }
}

/// <summary>
/// Values shared by every open page of one scope (all tenants, or one set of tenants), refreshed on demand: a value
/// older than <paramref name="maxAge"/>, or than ten times as long as computing it took when that is longer, is still
/// answered at once (its time is on the page) while one refresh runs in the background, started by that request.
/// Nothing refreshes without a page asking. So pages polling every second cost the store at most a tenth of one
/// reader's time however large the store, and no page waits but the very first of its scope.
/// </summary>
public sealed class ScopeCache<T>(Func<DateTime> now, TimeSpan maxAge, Func<IReadOnlyList<Guid>?, Task<T>> compute) where T : IStamped
{
    private sealed class Entry
    {
        public Task<T>? Current;
        public bool Refreshing;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>The value of the scope of <paramref name="tenants"/> (null: everything).</summary>
    public async Task<T> Get(IReadOnlyList<Guid>? tenants)
    {
        var key = tenants is null ? "*" : string.Join(",", tenants.Order());
        var entry = _entries.GetOrAdd(key, _ => new Entry());
        Task<T> current;
        lock (entry)
        {
            entry.Current ??= compute(tenants);
            current = entry.Current;
        }
        T value;
        try
        {
            value = await current;
        }
        catch
        {
            // A failed first computation is not kept: the next page tries again.
            lock (entry)
                if (ReferenceEquals(entry.Current, current)) entry.Current = null;
            throw;
        }
        lock (entry)
        {
            var age = value.Took * 10 > maxAge ? value.Took * 10 : maxAge;
            if (now() - value.At > age && !entry.Refreshing && ReferenceEquals(entry.Current, current))
            {
                entry.Refreshing = true;
                var next = Task.Run(() => compute(tenants));
                next.ContinueWith(t =>
                {
                    lock (entry)
                    {
                        // A failed refresh keeps the last value (its time shows its age) and is tried again.
                        if (t.IsCompletedSuccessfully) entry.Current = t;
                        entry.Refreshing = false;
                    }
                }, TaskScheduler.Default);
            }
        }
        return value;
    }
}
