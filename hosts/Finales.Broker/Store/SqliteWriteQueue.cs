using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;

namespace Finales.Broker;

/// <summary>
/// The single writer of a SQLite store, with group commit: one dedicated thread takes every queued job, runs each
/// inside its own savepoint of one shared transaction and commits once; a job that throws is rolled back to its
/// savepoint and only its caller sees the error. Started on first use (or by the host); stopping it lets the
/// queued jobs finish first.
/// </summary>
/// <remarks>
/// A dedicated thread and a plain monitor rather than the thread pool and a BlockingCollection: the semaphore of the
/// latter spins (sched_yield) before it sleeps, which on a 2-core machine takes the CPU from the request threads the
/// writer is waiting for.
/// </remarks>
public sealed class SqliteWriteQueue(SqliteBrokerStore store, string connectionString) : IHostedService, IDisposable
{
    private const int MaxBatch = 64;

    private sealed class WriteJob(Func<DbConnection, DbTransaction, object?> work)
    {
        public Func<DbConnection, DbTransaction, object?> Work { get; } = work;
        public TaskCompletionSource<object?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        /// <summary>Requests this job made pending: signalled to waiters once the batch is committed.</summary>
        public List<(string Quantity, IReadOnlyList<string> Methods)> BecamePending { get; } = [];
    }

    private readonly Queue<WriteJob> _queue = new();
    private readonly object _gate = new();
    private bool _writerWaiting;
    private volatile bool _closed;
    private Thread? _thread;
    private SqliteConnection? _writer;
    private long _commits;
    private long _jobs;
    private bool _checkpointTail;

    /// <summary>Prepared statements of the writer connection, reused across transactions (only the writer thread uses them).</summary>
    internal Dictionary<string, SqliteCommand> Statements { get; } = new();

    internal bool IsWriter(DbConnection c) => ReferenceEquals(c, _writer);

    public long Commits => Interlocked.Read(ref _commits);
    public long Jobs => Interlocked.Read(ref _jobs);
    public bool Closed => _closed;

    /// <summary>
    /// Asks the writer to copy the WAL's tail back between two batches (after a background checkpoint), so the next
    /// write transaction starts the WAL over instead of growing it.
    /// </summary>
    internal void RequestCheckpointTail() => Volatile.Write(ref _checkpointTail, true);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        EnsureStarted();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_queue) { _closed = true; Monitor.Pulse(_queue); }
        _thread?.Join(TimeSpan.FromSeconds(10));
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        StopAsync(CancellationToken.None).GetAwaiter().GetResult();
        foreach (var cmd in Statements.Values) cmd.Dispose();
        _writer?.Dispose();
    }

    /// <summary>Queues <paramref name="work"/>; the task completes once its batch is committed (or failed).</summary>
    public Task<T> Enqueue<T>(Func<DbConnection, DbTransaction, T> work)
    {
        EnsureStarted();
        var job = new WriteJob((c, tx) => work(c, tx));
        lock (_queue)
        {
            if (_closed) throw new ObjectDisposedException(nameof(SqliteBrokerStore));
            _queue.Enqueue(job);
            if (_writerWaiting) Monitor.Pulse(_queue);
        }
        return Completion<T>(job.Done.Task);
    }

    private static async Task<T> Completion<T>(Task<object?> done) => (T)(await done)!;

    private void EnsureStarted()
    {
        if (_thread is not null) return;
        lock (_gate)
        {
            if (_thread is not null) return;
            _writer = new SqliteConnection(connectionString);
            _writer.Open();
            using (var pragma = _writer.CreateCommand())
            {
                // Checkpoints run on their own (WalCheckpointer), so a commit never waits for pages being copied back
                // and fsynced; the writer's own automatic checkpoint stays only as a backstop for a huge WAL, and a WAL
                // file that grew past 64 MB is cut back when it starts over.
                pragma.CommandText = "PRAGMA busy_timeout=30000; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=20000; PRAGMA journal_size_limit=67108864;";
                pragma.ExecuteNonQuery();
            }
            var thread = new Thread(Loop) { IsBackground = true, Name = "finales-sqlite-writer" };
            thread.Start();
            _thread = thread;
            store.OnWriterStarted();
        }
    }

    private void Loop()
    {
        var writer = _writer!;
        var batch = new List<WriteJob>(MaxBatch);
        while (true)
        {
            batch.Clear();
            lock (_queue)
            {
                while (_queue.Count == 0)
                {
                    if (_closed) return;
                    _writerWaiting = true;
                    Monitor.Wait(_queue);
                    _writerWaiting = false;
                }
                while (batch.Count < MaxBatch && _queue.TryDequeue(out var job)) batch.Add(job);
            }
            var results = new object?[batch.Count];
            var errors = new Exception?[batch.Count];
            try
            {
                using var tx = writer.BeginTransaction(deferred: false);
                for (var i = 0; i < batch.Count; i++)
                {
                    tx.Save("job");
                    SqlBrokerStore.CollectBecamePending(batch[i].BecamePending);
                    try
                    {
                        results[i] = batch[i].Work(writer, tx);
                        tx.Release("job");
                    }
                    catch (Exception e)
                    {
                        tx.Rollback("job");
                        tx.Release("job");
                        errors[i] = e;
                        batch[i].BecamePending.Clear();
                        store.NoteWrite(e);
                    }
                    finally { SqlBrokerStore.CollectBecamePending(null); }
                }
                tx.Commit();
                if (errors.All(x => x is null || SqlBrokerStore.Unavailable(x) is null)) store.NoteWrite(null);
                Interlocked.Increment(ref _commits);
                Interlocked.Add(ref _jobs, batch.Count);
            }
            catch (Exception e)
            {
                store.NoteWrite(e);
                // The commit (or the transaction itself) failed: nothing of this batch is durable.
                for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetException(errors[i] ?? e);
                continue;
            }
            for (var i = 0; i < batch.Count; i++)
            {
                store.SignalCommitted(batch[i].BecamePending);
                if (errors[i] is { } err) batch[i].Done.TrySetException(err);
                else batch[i].Done.TrySetResult(results[i]);
            }
            if (Volatile.Read(ref _checkpointTail))
            {
                Volatile.Write(ref _checkpointTail, false);
                try
                {
                    using var cmd = writer.CreateCommand();
                    cmd.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
                    cmd.ExecuteNonQuery();
                }
                catch (SqliteException) { /* a reader's lock: the next round catches up */ }
            }
        }
    }
}
