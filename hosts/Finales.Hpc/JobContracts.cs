namespace Finales.Hpc;

/// <summary>
/// One job to run: <paramref name="Script"/> is bash run in <paramref name="WorkDirectory"/>, which holds everything
/// the job reads and writes (inputs, outputs, logs, the <c>finales-exit-code</c> file the executor's wrapper writes).
/// </summary>
/// <param name="Name">The request id: the job name on the scheduler and the key of the job journal.</param>
/// <param name="WorkDirectory">Absolute or relative path; created if missing.</param>
/// <param name="Script">Bash run in the work directory on the first attempt.</param>
/// <param name="RestartScript">Bash run instead of <paramref name="Script"/> on a requeue (e.g. LAMMPS
/// <c>read_restart</c>); null = start over with <paramref name="Script"/>.</param>
/// <param name="TimeLimit">Wall-time limit of one attempt (Slurm rounds up to whole minutes).</param>
/// <param name="Cpus">CPUs per task.</param>
public sealed record JobSpec(string Name, string WorkDirectory, string Script, string? RestartScript, TimeSpan TimeLimit, int Cpus);

/// <summary>Where a job is. Pending and Running are the open states; the others are final for one attempt.</summary>
public enum JobState
{
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
    Timeout,
    NodeFail,
    Preempted,
    OutOfMemory,
    /// <summary>Neither the scheduler nor the process table knows the job any more and it left no state behind.</summary>
    Vanished,
}

/// <summary>What the executor knows about a job.</summary>
/// <param name="JobId">The executor's id of the job.</param>
/// <param name="State">Where the job is.</param>
/// <param name="Reason">The scheduler's reason (Slurm <c>Reason=</c>) or the executor's explanation; null if none.</param>
/// <param name="ExitCode">The job script's exit code when known.</param>
public sealed record JobStatus(string JobId, JobState State, string? Reason, int? ExitCode);

/// <summary>Runs jobs somewhere: a child process (<see cref="LocalExecutor"/>) or a Slurm cluster (<see cref="SlurmExecutor"/>).</summary>
public interface IJobExecutor
{
    /// <summary>"local" or "slurm": journaled with each job so a restart re-attaches with the same kind.</summary>
    string Kind { get; }

    /// <summary>Starts the job and returns its id (which survives a restart of the host).</summary>
    Task<string> SubmitAsync(JobSpec spec, CancellationToken cancellationToken);

    /// <summary>The job's state now; a job nobody knows any more is <see cref="JobState.Vanished"/>.</summary>
    Task<JobStatus> StatusAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Stops the job (scancel, or a signal to the process group); a finished job is left as it is.</summary>
    Task CancelAsync(string jobId, CancellationToken cancellationToken);
}

/// <summary>An executor that can find a job by its name (the request id): used after the host stopped between
/// submitting and journaling the job id.</summary>
public interface IJobLookup
{
    /// <summary>The id of the queued or running job named <paramref name="name"/> working in
    /// <paramref name="workDirectory"/>, or null.</summary>
    Task<string?> FindAsync(string name, string workDirectory, CancellationToken cancellationToken);
}

/// <summary>
/// The supervisor's final word on a job.
/// </summary>
/// <param name="Success">True only when the job left evidence: exit-code file 0 and the caller's evidence check.</param>
/// <param name="JobId">The last attempt's job id.</param>
/// <param name="FinalState">The last attempt's state.</param>
/// <param name="Attempts">Submissions made (1 + requeues).</param>
/// <param name="Reason">Why it failed (state, scheduler reason, exit code); null on success.</param>
/// <param name="LogTail">The last lines of the LAMMPS log and of the job's output files.</param>
/// <param name="Wall">From the first submission to the verdict.</param>
public sealed record JobVerdict(bool Success, string JobId, JobState FinalState, int Attempts, string? Reason, string LogTail, TimeSpan Wall);

/// <summary>Names of the files a job's work directory holds, shared by the executors and the supervisor.</summary>
public static class JobFiles
{
    /// <summary>Written by the executor's wrapper after the job script exits: its exit code.</summary>
    public const string ExitCode = "finales-exit-code";
    /// <summary>The job script of the current attempt.</summary>
    public const string JobScript = "finales-job.sh";
    /// <summary>The local executor's standard output and error of the job script.</summary>
    public const string Stdout = "finales-stdout.txt";
    public const string Stderr = "finales-stderr.txt";
    /// <summary>Left by a cancel so a later status says Cancelled rather than Vanished.</summary>
    public const string Cancelled = "finales-cancelled";
    /// <summary>Left by the local executor's wrapper when the time limit stopped the job.</summary>
    public const string TimedOut = "finales-timed-out";

    /// <summary>The exit code the job's wrapper wrote, or null when the file is missing or not an integer.</summary>
    public static int? ReadExitCode(string workDirectory)
    {
        var path = Path.Combine(workDirectory, ExitCode);
        if (!File.Exists(path)) return null;
        return int.TryParse(File.ReadAllText(path).Trim(), System.Globalization.NumberStyles.Integer,
            System.Globalization.CultureInfo.InvariantCulture, out var code) ? code : null;
    }

    /// <summary>Removes what a previous attempt left that would be mistaken for this attempt's outcome.</summary>
    public static void ClearOutcome(string workDirectory)
    {
        File.Delete(Path.Combine(workDirectory, ExitCode));
        File.Delete(Path.Combine(workDirectory, Cancelled));
        File.Delete(Path.Combine(workDirectory, TimedOut));
    }
}
