using System.Globalization;
using Finales.Storage;
using Microsoft.Data.Sqlite;

namespace Finales.Hpc;

/// <summary>One journal row: the job of one request (keyed by <see cref="Name"/>, the request id).</summary>
/// <param name="Name">The request id.</param>
/// <param name="WorkDirectory">The job's directory (absolute).</param>
/// <param name="Reason">The last reason seen (scheduler or executor), or the verdict's reason.</param>
/// <param name="ExitCode">The last exit code seen.</param>
/// <param name="Submitted">The first submission (UTC): the start of the verdict's wall time.</param>
/// <param name="Updated">The last change (UTC).</param>
/// <param name="LogTail">The verdict's log tail.</param>
/// <param name="WallSeconds">The verdict's wall time.</param>
/// <param name="CancelRequested">The request was retracted: cancel its job, never submit it again.</param>
/// <param name="JobId">The current attempt's job id; null while the first submission is under way or never happened.</param>
/// <param name="Kind">The executor kind that owns <see cref="JobId"/> ("local", "slurm").</param>
/// <param name="Attempts">Submissions made so far.</param>
/// <param name="State">The last state seen (a <see cref="JobState"/> name), or "submitting" / "cancel-requested".</param>
/// <param name="JobIds">Every job id this request had, oldest first, space-separated.</param>
/// <param name="Success">Null while open; the verdict once final.</param>
public sealed record JobJournalEntry(
    string Name, string? JobId, string Kind, string WorkDirectory, int Attempts, string State, string? Reason,
    int? ExitCode, string JobIds, DateTime Submitted, DateTime Updated, bool? Success, string LogTail, double WallSeconds,
    bool CancelRequested);

/// <summary>
/// The write-ahead record of submitted jobs, one SQLite file (WAL, synchronous FULL) next to the tenant's journal:
/// a row per request name with its job id, attempts, last state and, once decided, the verdict. A job id is
/// written here before anyone is told about the job, so a restarted host re-attaches instead of submitting again.
/// Thread-safe (one connection behind a lock).
/// </summary>
public sealed class JobJournal : IDisposable
{
    /// <summary>Row state between "about to submit" and "the scheduler answered with an id".</summary>
    public const string Submitting = "submitting";

    private readonly DurableSqlite _db;

    public string Path => _db.Path;

    public JobJournal(string path) =>
        _db = new DurableSqlite(path,
            "CREATE TABLE IF NOT EXISTS jobs (name TEXT PRIMARY KEY, job_id TEXT, kind TEXT NOT NULL, work_dir TEXT NOT NULL, " +
            "attempts INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT, exit_code INTEGER, job_ids TEXT NOT NULL DEFAULT '', " +
            "submitted TEXT NOT NULL, updated TEXT NOT NULL, success INTEGER, log_tail TEXT NOT NULL DEFAULT '', " +
            "wall_seconds REAL NOT NULL DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0)");

    private int Exec(string sql, params object?[] args) => _db.Execute(sql, args);

    private static string Now() => DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);

    /// <summary>Records the intent to submit (attempt <paramref name="attempt"/>) before the scheduler is asked.
    /// Creates the row on the first attempt, keeping an earlier cancel request.</summary>
    public void BeginSubmit(string name, string kind, string workDirectory, int attempt) =>
        Exec("INSERT INTO jobs (name, kind, work_dir, attempts, state, submitted, updated) VALUES (@p0,@p1,@p2,@p3,@p4,@p5,@p5) " +
             "ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, work_dir = excluded.work_dir, state = excluded.state, " +
             "attempts = excluded.attempts, job_id = NULL, reason = NULL, exit_code = NULL, updated = excluded.updated",
            name, kind, workDirectory, attempt, Submitting, Now());

    /// <summary>Records the id the scheduler gave the current attempt.</summary>
    public void Submitted(string name, string jobId) =>
        Exec("UPDATE jobs SET job_id = @p1, state = @p2, job_ids = trim(job_ids || ' ' || @p1), updated = @p3 WHERE name = @p0",
            name, jobId, nameof(JobState.Pending), Now());

    /// <summary>Records the latest status seen.</summary>
    public void Seen(string name, JobStatus status) =>
        Exec("UPDATE jobs SET state = @p1, reason = @p2, exit_code = @p3, updated = @p4 WHERE name = @p0 AND success IS NULL",
            name, status.State.ToString(), status.Reason, status.ExitCode, Now());

    /// <summary>Records that the request was retracted: its job is to be cancelled, and never submitted if it was not yet.</summary>
    public void RequestCancel(string name, string kind) =>
        Exec("INSERT INTO jobs (name, kind, work_dir, attempts, state, submitted, updated, cancel_requested) VALUES (@p0,@p1,'',0,'cancel-requested',@p2,@p2,1) " +
             "ON CONFLICT(name) DO UPDATE SET cancel_requested = 1, updated = excluded.updated",
            name, kind, Now());

    /// <summary>Records the verdict; the row is final from then on.</summary>
    public void Decided(string name, JobVerdict verdict) =>
        Exec("UPDATE jobs SET success = @p1, state = @p2, reason = @p3, log_tail = @p4, wall_seconds = @p5, attempts = @p6, updated = @p7 WHERE name = @p0",
            name, verdict.Success ? 1 : 0, verdict.FinalState.ToString(), verdict.Reason, verdict.LogTail, verdict.Wall.TotalSeconds, verdict.Attempts, Now());

    /// <summary>The row of a request, or null.</summary>
    public JobJournalEntry? Get(string name) =>
        _db.Query("SELECT name, job_id, kind, work_dir, attempts, state, reason, exit_code, job_ids, submitted, updated, success, " +
                  "log_tail, wall_seconds, cancel_requested FROM jobs WHERE name = @p0", Read, name).SingleOrDefault();

    /// <summary>Every row without a verdict (jobs to re-attach to after a restart), oldest first.</summary>
    public IReadOnlyList<JobJournalEntry> Open() =>
        _db.Query("SELECT name, job_id, kind, work_dir, attempts, state, reason, exit_code, job_ids, submitted, updated, success, " +
                  "log_tail, wall_seconds, cancel_requested FROM jobs WHERE success IS NULL ORDER BY submitted", Read);

    private static JobJournalEntry Read(SqliteDataReader r) =>
        new(r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt32(4), r.GetString(5),
            r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetInt32(7), r.GetString(8),
            DateTime.Parse(r.GetString(9), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
            DateTime.Parse(r.GetString(10), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
            r.IsDBNull(11) ? null : r.GetInt32(11) == 1, r.GetString(12), r.GetDouble(13), r.GetInt32(14) == 1);

    public void Dispose() => _db.Dispose();
}
