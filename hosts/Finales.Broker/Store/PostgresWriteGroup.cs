using Npgsql;

namespace Finales.Broker;

/// <summary>
/// Group commit for PostgreSQL, as the SQLite writer does it: lifecycle writes that need no read (a request post, a
/// reservation or result post decided on a remembered aggregate) wait while a group is in flight and then go together,
/// as one batch in one implicit transaction: one round trip, one commit and one WAL flush for the group instead of one
/// per write. Each write is answered only once its group is committed. A group that fails is rolled back as a whole and
/// its writes then run one by one, so each answers with its own outcome (a stale version guard included, which its
/// caller runs again on the locked row) and no write fails because of another. A queued write is not cancelled with
/// its request: once handed to the group it commits or fails with its group, and its caller learns which. Within a
/// group the writes go in the order of their aggregates' ids (writes of one aggregate in their order of arrival), so two
/// broker processes' groups take their row locks in one order and cannot deadlock each other.
/// </summary>
internal sealed class PostgresWriteGroup(NpgsqlDataSource dataSource)
{
    /// <summary>The most writes in one group (one batch); more wait for the next.</summary>
    private const int MaxWrites = 64;

    /// <summary>One write: the aggregate it orders by, its statements in order, and its outcome.</summary>
    private sealed class Pending(Guid key, IReadOnlyList<(string Sql, object?[] Args)> statements)
    {
        public Guid Key { get; } = key;
        public IReadOnlyList<(string Sql, object?[] Args)> Statements { get; } = statements;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly object _gate = new();
    private readonly Queue<Pending> _queue = new();
    private bool _sending; // one group in flight at a time (measured fastest: groups then grow larger)

    private long _groups;
    private long _writes;
    private long _rolledBack;

    /// <summary>What the group has done so far: groups committed, the writes in them, groups rolled back and run one by one.</summary>
    public WriteGroupCounts Counts => new(Interlocked.Read(ref _groups), Interlocked.Read(ref _writes), Interlocked.Read(ref _rolledBack));

    /// <summary>
    /// Commits <paramref name="statements"/> as one write on the aggregate <paramref name="key"/> (the one whose rows it
    /// locks first); completes once it is committed, or throws its own failure.
    /// </summary>
    public Task CommitAsync(Guid key, IReadOnlyList<(string Sql, object?[] Args)> statements)
    {
        var pending = new Pending(key, statements);
        lock (_gate)
        {
            _queue.Enqueue(pending);
            if (_sending) return pending.Done.Task;
            _sending = true;
        }
        return LeadAsync(pending);
    }

    /// <summary>
    /// The writer that found no group in flight sends the group it opens (itself and whoever queued since) and is answered
    /// when that group is done, on its own flow (no hand-over to another thread); what queued meanwhile goes on as the
    /// next group.
    /// </summary>
    private async Task LeadAsync(Pending own)
    {
        await SendAsync(TakeGroup()!);
        _ = SendGroupsAsync();
        await own.Done.Task;
    }

    /// <summary>Sends groups while writes are queued, then lets the next writer lead.</summary>
    private async Task SendGroupsAsync()
    {
        while (TakeGroup() is { } group) await SendAsync(group);
    }

    /// <summary>The next group (the oldest queued writes), or null when none is queued: no group is then in flight.</summary>
    private List<Pending>? TakeGroup()
    {
        lock (_gate)
        {
            if (_queue.Count == 0)
            {
                _sending = false;
                return null;
            }
            var taken = new List<Pending>(Math.Min(_queue.Count, MaxWrites));
            while (taken.Count < MaxWrites && _queue.TryDequeue(out var p)) taken.Add(p);
            // OrderBy is stable: writes of one aggregate keep their order of arrival.
            return taken.Count == 1 ? taken : [.. taken.OrderBy(p => p.Key)];
        }
    }

    /// <summary>Commits <paramref name="group"/> in one transaction, or (when that fails) each write alone; answers every write.</summary>
    private async Task SendAsync(List<Pending> group)
    {
        try
        {
            await ExecuteAsync(group.SelectMany(p => p.Statements));
            Committed(group);
            return;
        }
        catch (Exception e) when (group.Count == 1)
        {
            group[0].Done.TrySetException(e);
            return;
        }
        catch (Exception)
        {
            // Rolled back as a whole: each write runs alone and answers for itself.
            Interlocked.Increment(ref _rolledBack);
        }
        foreach (var p in group)
        {
            try
            {
                await ExecuteAsync(p.Statements);
                Committed([p]);
            }
            catch (Exception own) { p.Done.TrySetException(own); }
        }
    }

    /// <summary>Counts <paramref name="group"/> as one committed group and answers its writes.</summary>
    private void Committed(List<Pending> group)
    {
        Interlocked.Increment(ref _groups);
        Interlocked.Add(ref _writes, group.Count);
        foreach (var p in group) p.Done.TrySetResult();
    }

    /// <summary>The statements as one batch: one implicit transaction, committed when the batch ends.</summary>
    private async Task ExecuteAsync(IEnumerable<(string Sql, object?[] Args)> statements)
    {
        await using var c = await dataSource.OpenConnectionAsync();
        await using var batch = new NpgsqlBatch(c);
        foreach (var (sql, args) in statements) batch.BatchCommands.Add(PostgresBrokerStore.Command(sql, args));
        await batch.ExecuteNonQueryAsync();
    }
}

/// <summary>
/// What a PostgreSQL store's write group has done: <paramref name="Groups"/> committed (a write run alone after its
/// group was rolled back counts as a group of one), the <paramref name="Writes"/> in them, and the groups
/// <paramref name="RolledBack"/> because one of their writes failed.
/// </summary>
public sealed record WriteGroupCounts(long Groups, long Writes, long RolledBack);
