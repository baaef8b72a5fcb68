using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Finales.Hpc;

/// <summary>How the supervisor polls, requeues and reports.</summary>
public sealed record JobSupervisorOptions
{
    /// <summary>Between two status queries of a pending/running job.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Submissions in all (the first one plus requeues after TIMEOUT/NODE_FAIL/PREEMPTED).</summary>
    public int MaxAttempts { get; init; } = 3;
    /// <summary>Wait before the first requeue; doubled for each further one, up to <see cref="MaxRequeueBackoff"/>.</summary>
    public TimeSpan RequeueBackoff { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan MaxRequeueBackoff { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>The LAMMPS log in the work directory whose last lines go into a failed verdict.</summary>
    public string LogFile { get; init; } = "log.lammps";
    public int LogTailLines { get; init; } = 20;
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// Runs each request's job exactly once through an <see cref="IJobExecutor"/>, keyed by the request id in a
/// <see cref="JobJournal"/>: journals before submitting and the job id as soon as the scheduler answers, re-attaches
/// to a journaled job on a second call (after a restart) instead of submitting again, decides success only from the
/// evidence the job leaves (<see cref="JobPolicy"/>), requeues from the restart script after TIMEOUT/NODE_FAIL/
/// PREEMPTED with backoff, and leaves the job running when the host stops.
/// </summary>
public sealed class JobSupervisor(IJobExecutor executor, JobJournal journal, JobSupervisorOptions? options = null, ILogger? logger = null)
{
    private readonly IJobExecutor _executor = executor ?? throw new ArgumentNullException(nameof(executor));
    private readonly JobJournal _journal = journal ?? throw new ArgumentNullException(nameof(journal));
    private readonly JobSupervisorOptions _options = options ?? new JobSupervisorOptions();
    private readonly ILogger _log = logger ?? NullLogger.Instance;
    private readonly SemaphoreSlim _submitGate = new(1, 1);

    public IJobExecutor Executor => _executor;

    /// <summary>
    /// Runs (or re-attaches to) the job of <paramref name="spec"/> until its verdict. <paramref name="evidenceOfSuccess"/>
    /// gets the work directory and says whether the job's own output shows it finished (e.g. the LAMMPS log's last
    /// line); it is asked only when the exit-code file says 0. Cancelling <paramref name="stop"/> (the host stopping)
    /// throws <see cref="OperationCanceledException"/> and leaves the job running: the next call re-attaches.
    /// </summary>
    public async Task<JobVerdict> RunAsync(JobSpec spec, Func<string, bool> evidenceOfSuccess, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(evidenceOfSuccess);
        var dir = Path.GetFullPath(spec.WorkDirectory);
        string jobId;
        int attempt;
        await _submitGate.WaitAsync(stop);
        try
        {
            var row = _journal.Get(spec.Name);
            if (row is { Success: bool })
            {
                _log.LogInformation("Job of {Name} already decided ({State}); returning the journaled verdict", spec.Name, row.State);
                return Journaled(row);
            }
            if (row is not null && row.Kind != _executor.Kind)
                return Decide(spec.Name, new JobVerdict(false, row.JobId ?? "", JobState.Failed, row.Attempts,
                    $"the job was journaled as a {row.Kind} job, but this host runs {_executor.Kind} jobs", "", Wall(row)));
            if (row is { CancelRequested: true, JobId: null })
                return Decide(spec.Name, new JobVerdict(false, "", JobState.Cancelled, row.Attempts,
                    "CANCELLED: the request was retracted before its job was submitted", "", TimeSpan.Zero));
            if (row is { JobId: string known })
            {
                jobId = known;
                attempt = row.Attempts;
                _log.LogInformation("Re-attaching to job {JobId} of {Name} (attempt {Attempt}, last seen {State})", jobId, spec.Name, attempt, row.State);
            }
            else if (row is not null && _executor is IJobLookup lookup
                     && await lookup.FindAsync(spec.Name, dir, stop) is string found
                     && !row.JobIds.Split(' ').Contains(found))
            {
                // The host stopped between sbatch and journaling its answer: the scheduler knows the job by its name
                // (the newest of that name; an earlier attempt's id does not count).
                jobId = found;
                attempt = Math.Max(1, row.Attempts);
                _journal.Submitted(spec.Name, jobId);
                _log.LogInformation("Found job {JobId} of {Name} by its name after an interrupted submission", jobId, spec.Name);
            }
            else
            {
                attempt = Math.Max(1, row?.Attempts ?? 1);
                jobId = await SubmitAsync(spec, dir, spec.Script, attempt, stop);
            }
        }
        finally
        {
            _submitGate.Release();
        }
        return await SuperviseAsync(spec, dir, jobId, attempt, evidenceOfSuccess, stop);
    }

    private async Task<string> SubmitAsync(JobSpec spec, string dir, string script, int attempt, CancellationToken stop)
    {
        _journal.BeginSubmit(spec.Name, _executor.Kind, dir, attempt);
        var jobId = await _executor.SubmitAsync(spec with { WorkDirectory = dir, Script = script }, CancellationToken.None);
        _journal.Submitted(spec.Name, jobId);
        _log.LogInformation("Submitted {Name} as {Kind} job {JobId} (attempt {Attempt})", spec.Name, _executor.Kind, jobId, attempt);
        stop.ThrowIfCancellationRequested();
        return jobId;
    }

    private async Task<JobVerdict> SuperviseAsync(
        JobSpec spec, string dir, string jobId, int attempt, Func<string, bool> evidenceOfSuccess, CancellationToken stop)
    {
        var cancelSent = false;
        var lastState = (JobState?)null;
        while (true)
        {
            stop.ThrowIfCancellationRequested();
            var row = _journal.Get(spec.Name) ?? throw new InvalidOperationException($"journal row of {spec.Name} disappeared");
            if (row.CancelRequested && !cancelSent)
            {
                _log.LogInformation("Cancelling job {JobId} of retracted {Name}", jobId, spec.Name);
                await _executor.CancelAsync(jobId, stop);
                cancelSent = true;
            }
            JobStatus status;
            try
            {
                status = await _executor.StatusAsync(jobId, stop);
            }
            catch (SlurmException e)
            {
                _log.LogWarning("Status of job {JobId} ({Name}) unavailable, asking again later: {Error}", jobId, spec.Name, e.Message);
                await Task.Delay(_options.PollInterval, _options.Time, stop);
                continue;
            }
            if (status.State != lastState)
            {
                _journal.Seen(spec.Name, status);
                _log.LogInformation("Job {JobId} of {Name}: {State}{Reason}", jobId, spec.Name, status.State,
                    status.Reason is null ? "" : " (" + status.Reason + ")");
                lastState = status.State;
            }
            var evidence = !JobPolicy.IsOpen(status.State) && Evidence(dir, evidenceOfSuccess);
            switch (JobPolicy.Decide(status.State, evidence, attempt, _options.MaxAttempts, row.CancelRequested))
            {
                case JobAction.Wait:
                    await Task.Delay(_options.PollInterval, _options.Time, stop);
                    break;
                case JobAction.Succeed:
                    _log.LogInformation("Job {JobId} of {Name} succeeded after {Attempts} attempt(s)", jobId, spec.Name, attempt);
                    return Decide(spec.Name, new JobVerdict(true, jobId, status.State, attempt, null, "", Wall(row)));
                case JobAction.Requeue:
                    var delay = JobPolicy.Backoff(attempt, _options.RequeueBackoff, _options.MaxRequeueBackoff);
                    _log.LogWarning("Job {JobId} of {Name} stopped with {State}; requeueing from {From} in {Delay} (attempt {Next} of {Max})",
                        jobId, spec.Name, JobPolicy.SlurmName(status.State), spec.RestartScript is null ? "the start" : "its restart file",
                        delay, attempt + 1, _options.MaxAttempts);
                    await Task.Delay(delay, _options.Time, stop);
                    attempt++;
                    jobId = await SubmitAsync(spec, dir, spec.RestartScript ?? spec.Script, attempt, stop);
                    lastState = null;
                    break;
                default:
                    var reason = FailureReason(status, attempt, row.CancelRequested, dir);
                    var tail = LogTail(dir, _options.LogFile, _options.LogTailLines);
                    _log.LogWarning("Job {JobId} of {Name} failed: {Reason}", jobId, spec.Name, reason);
                    return Decide(spec.Name, new JobVerdict(false, jobId, status.State, attempt, reason, tail, Wall(row)));
            }
        }
    }

    /// <summary>
    /// Stops the job of a retracted request (scancel / signal); the running <see cref="RunAsync"/> then returns a
    /// CANCELLED verdict. A request whose job is not submitted yet is marked so it never will be.
    /// </summary>
    public async Task CancelAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        _journal.RequestCancel(name, _executor.Kind);
        var row = _journal.Get(name);
        if (row is { JobId: string jobId, Success: null } && row.Kind == _executor.Kind)
        {
            _log.LogInformation("Cancelling job {JobId} of retracted {Name}", jobId, name);
            await _executor.CancelAsync(jobId, cancellationToken);
        }
    }

    private static bool Evidence(string dir, Func<string, bool> evidenceOfSuccess) =>
        JobFiles.ReadExitCode(dir) == 0 && evidenceOfSuccess(dir);

    private static string FailureReason(JobStatus status, int attempts, bool retracted, string dir)
    {
        var name = JobPolicy.SlurmName(status.State);
        // Slurm's reason already starts with the state ("CANCELLED (signal 15)"); the local executor's does not.
        var head = status.Reason is null ? name
            : status.Reason.StartsWith(name, StringComparison.Ordinal) ? status.Reason
            : $"{name} ({status.Reason})";
        var exit = JobFiles.ReadExitCode(dir) is int code ? $"exit code file says {code}" : "no exit code file";
        var why = status.State switch
        {
            JobState.Completed or JobState.Vanished => $"{head} without evidence of success: {exit}",
            _ when JobPolicy.IsRequeueable(status.State) => $"{head} on attempt {attempts} of {attempts}: no requeues left",
            _ => $"{head}, {exit}",
        };
        return retracted ? why + "; the request was retracted" : why;
    }

    private JobVerdict Decide(string name, JobVerdict verdict)
    {
        _journal.Decided(name, verdict);
        return verdict;
    }

    private TimeSpan Wall(JobJournalEntry row)
    {
        var wall = _options.Time.GetUtcNow().UtcDateTime - row.Submitted.ToUniversalTime();
        return wall < TimeSpan.Zero ? TimeSpan.Zero : wall;
    }

    private static JobVerdict Journaled(JobJournalEntry row) =>
        new(row.Success == true, row.JobId ?? "", Enum.TryParse<JobState>(row.State, out var s) ? s : JobState.Failed,
            row.Attempts, row.Reason, row.LogTail, TimeSpan.FromSeconds(row.WallSeconds));

    /// <summary>
    /// The last <paramref name="lines"/> lines of the LAMMPS log and of the job's output files (Slurm's newest
    /// slurm-*.out, the local executor's stdout/stderr), each under a <c>==&gt; file &lt;==</c> header like tail's;
    /// files that are missing or empty are left out.
    /// </summary>
    public static string LogTail(string workDirectory, string logFile, int lines)
    {
        if (!Directory.Exists(workDirectory)) return "";
        var files = new List<string> { Path.Combine(workDirectory, logFile) };
        var slurmOut = new DirectoryInfo(workDirectory).GetFiles("slurm-*.out").OrderByDescending(f => f.LastWriteTimeUtc).FirstOrDefault();
        if (slurmOut is not null) files.Add(slurmOut.FullName);
        files.Add(Path.Combine(workDirectory, JobFiles.Stdout));
        files.Add(Path.Combine(workDirectory, JobFiles.Stderr));
        var parts = new List<string>();
        foreach (var f in files)
        {
            var tail = TailOf(f, lines);
            if (tail.Length > 0) parts.Add($"==> {Path.GetFileName(f)} <==\n{tail}");
        }
        return string.Join("\n", parts);
    }

    private static string TailOf(string path, int lines)
    {
        if (!File.Exists(path)) return "";
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        const int window = 64 * 1024;
        if (fs.Length > window) fs.Seek(-window, SeekOrigin.End);
        using var reader = new StreamReader(fs);
        var all = reader.ReadToEnd().TrimEnd('\n', '\r').Split('\n');
        return string.Join("\n", all.Skip(Math.Max(0, all.Length - lines))).Trim('\n');
    }
}
