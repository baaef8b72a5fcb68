using System.Collections.Concurrent;
using Finales.Core;

namespace Finales.Broker;

// Aggregates this process wrote last. Where a read costs a round trip (PostgreSQL), a lifecycle write decides on the
// remembered aggregate and sends its writes in one batch, updating the aggregate's row only at the version it decided
// on (GuardedStateUpdate), instead of first reading the aggregate under its lock. What is remembered can only be out of
// date when another broker process shares the database: the guarded update then fails the whole transaction, nothing
// is written, and the write runs again on the aggregate read under its lock. A refusal decided on a remembered
// aggregate is likewise confirmed on the locked row before it is answered.
public abstract partial class SqlBrokerStore
{
    /// <summary>How many aggregates are remembered (the oldest remembered is forgotten first).</summary>
    private const int RecallCapacity = 4096;

    private readonly ConcurrentDictionary<Guid, LoadedAggregate> _recall = new();
    private readonly ConcurrentQueue<Guid> _recallOrder = new();

    /// <summary>Whether the adapter guards writes by version (<see cref="GuardedStateUpdate"/>), so aggregates are remembered.</summary>
    protected virtual bool GuardsVersions => false;

    /// <summary>
    /// The update of a request's state row (the arguments of the plain update, then the expected version as @p6) that
    /// fails the transaction as stale (<see cref="IsStaleGuard"/>) unless the row holds the expected version.
    /// </summary>
    protected virtual string GuardedStateUpdate => throw new NotSupportedException("this store does not guard writes by version");

    /// <summary>Whether <paramref name="e"/> is a version guard that found another version (the write was not made).</summary>
    protected virtual bool IsStaleGuard(Exception e) => false;

    /// <summary>The remembered aggregate <paramref name="id"/> (with its body, if <paramref name="withBody"/>), or null; its update will be guarded.</summary>
    private LoadedAggregate? Recall(LifecycleWrite w, Guid id, bool withBody)
    {
        if (!w.Recall || !_recall.TryGetValue(id, out var known) || (withBody && known.Body is null)) return null;
        w.Recalled.Add(id);
        return known;
    }

    private void Remember(LoadedAggregate a)
    {
        if (_recall.TryGetValue(a.State.Id, out var had))
        {
            // Keep a body remembered before (a request's body never changes); never go back to an older version.
            if (had.State.Version > a.State.Version) return;
            _recall[a.State.Id] = a.Body is null && had.Body is not null ? a with { Body = had.Body } : a;
            return;
        }
        _recall[a.State.Id] = a;
        _recallOrder.Enqueue(a.State.Id);
        // The order queue bounds both: an id forgotten and remembered again is queued twice, and its older place may
        // evict it early (it is then read under its lock once more, nothing worse).
        while (_recallOrder.Count > RecallCapacity && _recallOrder.TryDequeue(out var oldest)) _recall.TryRemove(oldest, out _);
    }

    private void Forget(IEnumerable<Guid> ids)
    {
        foreach (var id in ids) _recall.TryRemove(id, out _);
    }

    /// <summary>
    /// Runs <paramref name="work"/> as one lifecycle write transaction (see <see cref="RunLifecycleAsync"/>) and
    /// remembers the aggregates it leaves. A run that decided on remembered aggregates and was found stale, or refused,
    /// runs once more on the aggregates read under their locks, whose outcome stands.
    /// </summary>
    protected async Task<T> WriteLifecycleAsync<T>(Func<LifecycleWrite, ValueTask<T>> work, CancellationToken ct)
    {
        if (!GuardsVersions) return await RunLifecycleAsync(work, ct);
        LifecycleWrite? run = null;
        T result;
        try
        {
            result = await RunLifecycleAsync(w => { run = w; w.Recall = true; w.Touched = []; return work(w); }, ct);
        }
        catch (Exception e) when (run is { Recalled.Count: > 0 } && (e is LifecycleRejectedException || IsStaleGuard(e)))
        {
            Forget(run.Recalled);
            result = await RunLifecycleAsync(w => { run = w; w.Recall = false; w.Touched = []; return work(w); }, ct);
        }
        foreach (var a in run!.Touched!) Remember(a);
        return result;
    }
}
