using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;

namespace Finales.Broker;

/// <summary>
/// Copies committed WAL pages of a SQLite store back into the database file five times a second when anything was
/// committed, with a PASSIVE checkpoint: it never blocks the writer or readers, and the writer restarts the WAL from
/// its beginning once everything in it has been copied. Started with the writer (or by the host).
/// </summary>
public sealed class WalCheckpointer(SqliteWriteQueue writer, string connectionString) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(200);
    private long _checkpoints;

    /// <summary>Background checkpoints run so far.</summary>
    public long Checkpoints => Interlocked.Read(ref _checkpoints);

    // A thread of its own, as before the hosted-service shape: a checkpoint copies pages back and fsyncs the database
    // file, blocking I/O that must not hold one of the (two-core machine's few) thread-pool threads serving requests.
    // The period is wall-clock time whatever clock the store runs on (a checkpoint is housekeeping, not behaviour).
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Loop(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Loop(CancellationToken stoppingToken)
    {
        Thread.CurrentThread.Name = "finales-sqlite-checkpoint";
        using var c = new SqliteConnection(connectionString);
        c.Open();
        using (var pragma = c.CreateCommand())
        {
            pragma.CommandText = "PRAGMA busy_timeout=30000;";
            pragma.ExecuteNonQuery();
        }
        using var checkpoint = c.CreateCommand();
        checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
        long seen = 0;
        while (!stoppingToken.WaitHandle.WaitOne(Period))
        {
            var now = writer.Commits;
            if (now == seen) continue;
            seen = now;
            try
            {
                checkpoint.ExecuteNonQuery();
                Interlocked.Increment(ref _checkpoints);
                // The writer copies the few pages committed meanwhile between two batches, so the whole WAL is in
                // the database and the next write transaction starts the WAL over instead of growing it.
                writer.RequestCheckpointTail();
            }
            catch (SqliteException) { /* busy or closing: the next round (or the writer's backstop) catches up */ }
        }
    }
}
