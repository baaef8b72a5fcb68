using System.Data.Common;
using Finales.Core;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Finales.Broker;

/// <summary>
/// The append-only store shared by both adapters. Requests, results and events are only ever inserted;
/// <c>request_state</c> and <c>result_state</c> are projections of the event log, updated in the same transaction as
/// the event they fold, so the log always replays to them. Every write decides through the pure lifecycle
/// (<c>BrokerCore.Decide</c>) under a row lock. The adapters supply connections, the write transaction and the
/// dialect; this class (split by job over the files of this folder) holds the schema, catalog, lifecycle transaction,
/// read model and audit.
/// </summary>
public abstract partial class SqlBrokerStore : IBrokerStore
{
    protected SqlBrokerStore(string description, TimeProvider? clock)
    {
        Description = description;
        Clock = clock ?? TimeProvider.System;
    }

    /// <summary>The store's clock: lease expiry and every timestamp it writes.</summary>
    public TimeProvider Clock { get; }
    public string Description { get; }
    public abstract bool IsPostgres { get; }
    public PendingSignals Signals { get; } = new();
    public abstract IReadOnlyList<StoreCounter> Counters { get; }

    protected DateTime UtcNow => Clock.GetUtcNow().UtcDateTime;

    /// <summary>Opens (creating if needed) a SQLite store file.</summary>
    public static SqlBrokerStore OpenSqlite(string path, TimeProvider? clock = null) => SqliteBrokerStore.Open(path, clock);

    /// <summary>Opens a PostgreSQL store (the schema is created if missing).</summary>
    public static SqlBrokerStore OpenPostgres(string connectionString, TimeProvider? clock = null) => PostgresBrokerStore.Open(connectionString, clock);

    public abstract void Dispose();

    /// <summary>SQLite: a consistent online copy of the store into the new file <paramref name="path"/>; its size in bytes.</summary>
    public abstract Task<long> BackupToAsync(string path, CancellationToken ct = default);

    // ---------------------------------------------------------------- what an adapter supplies

    /// <summary>A read connection (SQLite: pooled with its prepared statements; disposing it hands it back).</summary>
    protected abstract DbConnection OpenRead();

    /// <summary>A read connection opened without blocking the caller's thread (SQLite: <see cref="OpenRead"/>, which never waits on the network).</summary>
    protected virtual ValueTask<DbConnection> OpenReadAsync(CancellationToken ct) => new(OpenRead());

    /// <summary>Runs <paramref name="work"/> in a write transaction and completes once it is committed.</summary>
    protected abstract Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, T> work, CancellationToken ct);

    /// <summary>The prepared-statement cache of <paramref name="c"/>, or null when its commands are not kept.</summary>
    protected virtual Dictionary<string, SqliteCommand>? StatementsOf(DbConnection c) => null;

    /// <summary>The auto-increment primary key column type.</summary>
    protected abstract string Serial { get; }

    /// <summary>Appended to a SELECT that reads a row about to be changed (a row lock where the dialect has one).</summary>
    protected abstract string ForUpdate { get; }

    /// <summary>An INSERT that skips rows whose key exists, for <paramref name="table"/> and its column list.</summary>
    protected abstract string InsertOrIgnore(string table, string columns, string values);

    /// <summary>The LIMIT clause of a list query whose limit is bound as parameter @p<paramref name="param"/>.</summary>
    protected abstract string Limit(int? limit, int param);

    // ---------------------------------------------------------------- health

    /// <summary>
    /// Why <paramref name="e"/> (or an exception inside it) means the store itself failed (disk full, read-only,
    /// not a database, unreachable server...), or null when it is something else (a refusal, a bug).
    /// </summary>
    public static string? Unavailable(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case StoreUnavailableException su: return su.Message;
                case SqliteException se:
                    var why = (se.SqliteErrorCode & 0xFF) switch
                    {
                        13 => "disk full",
                        8 => "the database is read-only (file or file system not writable)",
                        10 => "I/O error",
                        14 => "the database file cannot be opened",
                        26 => "the file is not a database",
                        11 => "the database file is corrupt",
                        5 or 6 => "the database is locked by another process",
                        23 => "access to the database file denied",
                        _ => null,
                    };
                    if (why is not null) return $"{why} ({se.Message})";
                    break;
                case PostgresException pe:
                    if (pe.SqlState.StartsWith("53", StringComparison.Ordinal) || pe.SqlState.StartsWith("57", StringComparison.Ordinal)
                        || pe.SqlState.StartsWith("58", StringComparison.Ordinal) || pe.SqlState.StartsWith("08", StringComparison.Ordinal)
                        || pe.SqlState.StartsWith("3D", StringComparison.Ordinal) || pe.SqlState.StartsWith("28", StringComparison.Ordinal))
                        return pe.SqlState == "53100" ? $"disk full ({pe.MessageText})" : $"PostgreSQL {pe.SqlState}: {pe.MessageText}";
                    break;
                case NpgsqlException ne: return $"PostgreSQL unreachable ({ne.Message})";
            }
        }
        return null;
    }

    // The last write that failed because of the store (null after a successful commit).
    private volatile string? _lastWriteFailure;

    protected internal void NoteWrite(Exception? failure)
    {
        if (failure is null) _lastWriteFailure = null;
        else if (Unavailable(failure) is { } why) _lastWriteFailure = $"{why} (at {WireFormat.ctime(UtcNow)})";
    }

    /// <summary>Why writes will fail even though the last one succeeded (SQLite: a nearly full disk), or null.</summary>
    protected virtual string? WriteRisk() => null;

    /// <summary>
    /// The store's health for /healthz: a cheap read probe, and, when the last write failed, a tiny write probe (so a
    /// store that recovered, e.g. after space was freed, reports healthy again). Null when healthy, else why not.
    /// </summary>
    public async Task<string?> HealthAsync(CancellationToken ct = default)
    {
        try
        {
            using (var c = OpenRead())
                Scalar(c, null, "SELECT COUNT(*) FROM settings");
            if (WriteRisk() is { } risk) return risk;
            if (_lastWriteFailure is { } failed)
            {
                try
                {
                    await WriteAsync((c, tx) => Exec(c, tx, "INSERT INTO settings (key, value) VALUES ('health_probe', @p0) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        WireFormat.ctime(UtcNow)), ct);
                }
                catch (Exception e) when (Unavailable(e) is not null) { return "writes fail: " + (_lastWriteFailure ?? failed); }
            }
            return null;
        }
        catch (Exception e) when (Unavailable(e) is { } why)
        {
            return "reads fail: " + why;
        }
    }

    // ---------------------------------------------------------------- commands

    private DbCommand Cmd(DbConnection c, DbTransaction? tx, string sql, object?[] args, out bool cached)
    {
        cached = false;
        // A cache belongs to one connection, used by one thread at a time (the writer's by the writer, a pooled
        // reader's by its current borrower).
        if (StatementsOf(c) is { } cache)
        {
            var sc = (SqliteConnection)c;
            if (!cache.TryGetValue(sql, out var prepared))
            {
                prepared = sc.CreateCommand();
                prepared.CommandText = sql;
                for (var i = 0; i < args.Length; i++) prepared.Parameters.Add(new SqliteParameter("@p" + i, null));
                cache[sql] = prepared;
            }
            prepared.Transaction = (SqliteTransaction?)tx;
            for (var i = 0; i < args.Length; i++) prepared.Parameters[i].Value = args[i] ?? DBNull.Value;
            cached = true;
            return prepared;
        }
        var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        if (cmd is NpgsqlCommand npgsql)
        {
            PositionalSql.Bind(sql, args, npgsql.Parameters, out var text);
            npgsql.CommandText = text;
            return npgsql;
        }
        cmd.CommandText = sql;
        for (var i = 0; i < args.Length; i++)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = "@p" + i;
            p.Value = args[i] ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }
        return cmd;
    }

    protected int Exec(DbConnection c, DbTransaction? tx, string sql, params object?[] args)
    {
        var cmd = Cmd(c, tx, sql, args, out var cached);
        try { return cmd.ExecuteNonQuery(); }
        finally { if (!cached) cmd.Dispose(); }
    }

    protected object? Scalar(DbConnection c, DbTransaction? tx, string sql, params object?[] args)
    {
        var cmd = Cmd(c, tx, sql, args, out var cached);
        try
        {
            var v = cmd.ExecuteScalar();
            return v is DBNull ? null : v;
        }
        finally { if (!cached) cmd.Dispose(); }
    }

    protected List<T> Query<T>(DbConnection c, DbTransaction? tx, string sql, Func<DbDataReader, T> map, params object?[] args)
    {
        var cmd = Cmd(c, tx, sql, args, out var cached);
        try
        {
            using var r = cmd.ExecuteReader();
            var list = new List<T>();
            while (r.Read()) list.Add(map(r));
            return list;
        }
        finally { if (!cached) cmd.Dispose(); }
    }

    /// <summary>One read on a connection of its own (handed back afterwards).</summary>
    protected T Read<T>(Func<DbConnection, T> read)
    {
        using var c = OpenRead();
        return read(c);
    }

    /// <summary>
    /// Whether reads wait on the network (PostgreSQL), so they run asynchronously instead of holding a thread-pool
    /// thread; SQLite reads a local file, where the synchronous calls are cheaper and never block for long.
    /// </summary>
    protected virtual bool ReadsAsync => false;

    /// <summary>The mapped rows of one read query, on a connection of its own (see <see cref="ReadsAsync"/>).</summary>
    protected Task<List<T>> ReadRowsAsync<T>(string sql, Func<DbDataReader, T> map, object?[] args, CancellationToken ct) =>
        ReadsAsync ? ReadRowsOverNetwork(sql, map, args, ct) : Task.FromResult(Read(c => Query(c, null, sql, map, args)));

    /// <summary>The first column of the first row of one read query, or null (DBNull included).</summary>
    protected async Task<object?> ReadScalarAsync(string sql, object?[] args, CancellationToken ct)
    {
        var rows = await ReadRowsAsync(sql, r => r.IsDBNull(0) ? null : r.GetValue(0), args, ct);
        return rows.Count == 0 ? null : rows[0];
    }

    private async Task<List<T>> ReadRowsOverNetwork<T>(string sql, Func<DbDataReader, T> map, object?[] args, CancellationToken ct)
    {
        await using var c = await OpenReadAsync(ct);
        var cmd = Cmd(c, null, sql, args, out var cached);
        try
        {
            await using var r = await cmd.ExecuteReaderAsync(ct);
            var list = new List<T>();
            while (await r.ReadAsync(ct)) list.Add(map(r));
            return list;
        }
        finally { if (!cached) await cmd.DisposeAsync(); }
    }

    /// <summary>
    /// Rows of one query, mapped as the reader reaches them: memory stays bounded whatever the result size. Where reads
    /// do not wait on the network (<see cref="ReadsAsync"/>), each row is read synchronously (the asynchronous calls of
    /// Microsoft.Data.Sqlite only wrap the synchronous ones, at a cost per row).
    /// </summary>
    protected async IAsyncEnumerable<T> Stream<T>(string sql, Func<DbDataReader, T> map, object?[] args,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        using var c = ReadsAsync ? await OpenReadAsync(ct) : OpenRead();
        var cmd = Cmd(c, null, sql, args, out var cached);
        try
        {
            using var r = ReadsAsync ? await cmd.ExecuteReaderAsync(ct) : cmd.ExecuteReader();
            while (ReadsAsync ? await r.ReadAsync(ct) : r.Read()) yield return map(r);
        }
        finally { if (!cached) cmd.Dispose(); }
    }
}
