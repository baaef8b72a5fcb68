using System.Collections.Concurrent;

namespace Finales.Broker;

/// <summary>
/// Wake-ups for long-polling readers of the pending queue, keyed by what they wait for: (quantity, method), with
/// null standing for "any". A committed write that makes a request pending signals the four keys it matches
/// ((q, m), (q, any), (any, m), (any, any) for each of its methods); only waiters of those keys wake, and nothing
/// is scanned. A waiter registers (<see cref="Wait"/>) before it queries, so a signal between its query and its wait is
/// never lost.
/// </summary>
public sealed class PendingSignals
{
    private sealed class Slot
    {
        public readonly TaskCompletionSource Fired = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Waiters;
    }

    // Under its own lock: a key lives while someone waits on it, so keys named by clients do not pile up.
    private readonly Dictionary<(string? Quantity, string? Method), Slot> _keys = new();

    /// <summary>
    /// Registers a waiter for (quantity, method) (either may be null for "any"); the task completes at the next
    /// signal of that key. Dispose the returned registration when done waiting.
    /// </summary>
    public Registration Wait(string? quantity, string? method)
    {
        var key = (quantity, method);
        lock (_keys)
        {
            if (!_keys.TryGetValue(key, out var slot)) _keys[key] = slot = new Slot();
            slot.Waiters++;
            Interlocked.Increment(ref _waiters);
            return new Registration(this, key, slot);
        }
    }

    /// <summary>One waiter on one key: <see cref="Fired"/> completes at the key's next signal.</summary>
    public sealed class Registration(PendingSignals owner, (string?, string?) key, object slot) : IDisposable
    {
        private bool _disposed;
        public Task Fired => ((Slot)slot).Fired.Task;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            Interlocked.Decrement(ref owner._waiters);
            if (Fired.IsCompletedSuccessfully) Interlocked.Increment(ref owner._wakeups);
            lock (owner._keys)
            {
                var s = (Slot)slot;
                if (--s.Waiters == 0 && owner._keys.TryGetValue(key, out var current) && ReferenceEquals(current, s))
                    owner._keys.Remove(key);
            }
        }
    }

    /// <summary>A request of <paramref name="quantity"/> offered to <paramref name="methods"/> became pending (and is committed).</summary>
    public void Signal(string quantity, IEnumerable<string> methods)
    {
        var fired = new List<Slot>();
        lock (_keys)
        {
            Take((quantity, null), fired);
            Take((null, null), fired);
            foreach (var m in methods)
            {
                Take((quantity, m), fired);
                Take((null, m), fired);
            }
        }
        foreach (var s in fired) s.Fired.TrySetResult();
    }

    // A signalled key is removed, so waiters that register after the signal get a fresh slot.
    private void Take((string?, string?) key, List<Slot> fired)
    {
        if (_keys.Remove(key, out var slot)) fired.Add(slot);
    }

    private long _waiters;
    private long _wakeups;

    /// <summary>Waiters registered now (for /metrics and tests).</summary>
    public long Waiters => Interlocked.Read(ref _waiters);

    /// <summary>Waiters woken by a signal of their key since start (each then looks at the store once).</summary>
    public long Wakeups => Interlocked.Read(ref _wakeups);

    /// <summary>Keys someone currently waits on.</summary>
    public int Keys
    {
        get { lock (_keys) return _keys.Count; }
    }
}
