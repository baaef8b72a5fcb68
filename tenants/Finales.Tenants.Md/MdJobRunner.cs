using Finales.Hpc;

namespace Finales.Tenants.Md;

/// <summary>
/// What the worker needs from job supervision (the shape of hpc's JobSupervisor): run a job to a verdict, keyed by
/// the request id, and cancel the job of a retracted request.
/// </summary>
public interface IMdJobRunner
{
    /// <summary>Runs (or re-attaches to) the job named <c>spec.Name</c> until it has a verdict. <paramref name="stop"/>
    /// cancelled (host stopping) throws <see cref="OperationCanceledException"/> and leaves the job running.</summary>
    Task<JobVerdict> RunAsync(JobSpec spec, Func<string, bool> evidenceOfSuccess, CancellationToken stop);

    /// <summary>Stops the job of request <paramref name="name"/> (a retracted request).</summary>
    Task CancelAsync(string name, CancellationToken cancellationToken);
}

/// <summary>
/// Job supervision on an <see cref="IJobExecutor"/> until hpc's JobSupervisor is wired in: the job id is written to
/// <c>finales-job-id</c> in the job directory before anything else happens, and a second run for the same request
/// re-attaches to that job instead of submitting again; success only from evidence (exit code 0 and the caller's
/// check). No requeue: a timed-out job is a failed verdict.
/// </summary>
public sealed class ExecutorJobRunner(IJobExecutor executor, TimeSpan poll, TimeProvider? time = null) : IMdJobRunner
{
    /// <summary>The job id file in the job directory.</summary>
    public const string JobIdFile = "finales-job-id";

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Dictionary<string, string> _directories = new();

    public async Task<JobVerdict> RunAsync(JobSpec spec, Func<string, bool> evidenceOfSuccess, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(evidenceOfSuccess);
        var dir = Path.GetFullPath(spec.WorkDirectory);
        Directory.CreateDirectory(dir);
        lock (_directories) _directories[spec.Name] = dir;
        var idFile = Path.Combine(dir, JobIdFile);
        var started = _time.GetTimestamp();
        string jobId;
        if (File.Exists(idFile) && File.ReadAllText(idFile).Trim() is { Length: > 0 } known)
            jobId = known; // re-attach: the job was submitted before a restart
        else
        {
            jobId = await executor.SubmitAsync(spec, stop);
            var tmp = idFile + ".tmp";
            await File.WriteAllTextAsync(tmp, jobId, CancellationToken.None);
            File.Move(tmp, idFile, overwrite: true);
        }
        while (true)
        {
            var status = await executor.StatusAsync(jobId, stop);
            if (status.State is not (JobState.Pending or JobState.Running))
            {
                var wall = _time.GetElapsedTime(started);
                var tail = Tail(dir);
                var success = status.State == JobState.Completed && JobFiles.ReadExitCode(dir) == 0 && evidenceOfSuccess(dir);
                var reason = success ? null
                    : status.State == JobState.Completed ? "the job exited 0 but left no evidence of a finished run (LAMMPS log incomplete)"
                    : $"{status.State}{(status.Reason is null ? "" : ": " + status.Reason)}";
                return new JobVerdict(success, jobId, status.State, 1, reason, tail, wall);
            }
            await Task.Delay(poll, _time, stop);
        }
    }

    public async Task CancelAsync(string name, CancellationToken cancellationToken)
    {
        string? dir;
        lock (_directories) _directories.TryGetValue(name, out dir);
        if (dir is null) return;
        var idFile = Path.Combine(dir, JobIdFile);
        if (File.Exists(idFile)) await executor.CancelAsync(File.ReadAllText(idFile).Trim(), cancellationToken);
    }

    /// <summary>The last lines of the LAMMPS log and the job's stderr.</summary>
    public static string Tail(string dir)
    {
        static IEnumerable<string> Last(string path, int n) =>
            File.Exists(path) ? File.ReadLines(path).TakeLast(n) : [];
        return string.Join('\n', Last(Path.Combine(dir, "log.lammps"), 10).Concat(Last(Path.Combine(dir, JobFiles.Stderr), 5)));
    }
}
