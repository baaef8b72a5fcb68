namespace Finales.Broker;

/// <summary>
/// One lifecycle write transaction as the shared path (<see cref="SqlBrokerStore"/>'s LifecycleTransaction) sees it:
/// reads it needs at once, and writes whose results it does not need. An adapter may hold the writes back and send
/// them with its next read or with the commit (PostgreSQL: one batch, one round trip); the order of statements is kept
/// either way.
/// </summary>
public abstract class LifecycleWrite
{
    /// <summary>Runs the queries (after every write given so far) and returns each one's rows as value arrays.</summary>
    public abstract ValueTask<IReadOnlyList<object?[]>[]> ReadAsync(params (string Sql, object?[] Args)[] queries);

    /// <summary>A write whose result is not needed; it runs before the next read and before the commit.</summary>
    public abstract void Write(string sql, params object?[] args);

    /// <summary>Notes a request this transaction makes pending (its long-polling waiters are woken after the commit).</summary>
    public abstract void BecamePending(string quantity, IReadOnlyList<string> methods);

    /// <summary>Whether this run may decide on remembered aggregates (false when it runs again after a stale guard).</summary>
    internal bool Recall { get; set; }

    /// <summary>The remembered aggregates this run decided on (forgotten if it turns out stale or refused).</summary>
    internal List<Guid> Recalled { get; } = [];

    /// <summary>The aggregates as this run leaves them, remembered once it is committed (null: the store remembers none).</summary>
    internal List<LoadedAggregate>? Touched { get; set; }

    /// <summary>The first column of the first row of one query, or null (DBNull included).</summary>
    public async ValueTask<object?> ScalarAsync(string sql, params object?[] args)
    {
        var rows = (await ReadAsync((sql, args)))[0];
        return rows.Count == 0 || rows[0][0] is DBNull ? null : rows[0][0];
    }
}
