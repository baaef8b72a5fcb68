using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Finales.Hpc;

/// <summary>
/// Runs each job as a child process on this machine (the embedded default, no scheduler): a bash wrapper in its own
/// session (<c>setsid</c>) runs <see cref="JobSpec.Script"/> in the work directory under coreutils <c>timeout</c>,
/// with stdout/stderr to <see cref="JobFiles.Stdout"/>/<see cref="JobFiles.Stderr"/>, then writes the exit code to
/// <see cref="JobFiles.ExitCode"/>. The job outlives the host: its id (<c>pid.starttime@workdir</c>) is enough to
/// find it again after a restart, from the process table and the files it leaves.
/// </summary>
public sealed class LocalExecutor : IJobExecutor
{
    private const string Wrapper = "finales-run.sh";
    private readonly ConcurrentDictionary<string, Process> _children = new();

    public string Kind => "local";

    public Task<string> SubmitAsync(JobSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        cancellationToken.ThrowIfCancellationRequested();
        var dir = Path.GetFullPath(spec.WorkDirectory);
        Directory.CreateDirectory(dir);
        JobFiles.ClearOutcome(dir);
        File.WriteAllText(Path.Combine(dir, JobFiles.JobScript), spec.Script);
        File.WriteAllText(Path.Combine(dir, Wrapper), WrapperScript(spec.TimeLimit));
        var psi = new ProcessStartInfo("setsid") { WorkingDirectory = dir, UseShellExecute = false };
        psi.ArgumentList.Add("bash");
        psi.ArgumentList.Add(Wrapper);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("setsid bash did not start");
        var id = LocalJobId.Format(process.Id, StartTime(process.Id) ?? 0, dir);
        _children[id] = process;
        return Task.FromResult(id);
    }

    /// <summary>The wrapper: the job under <c>timeout</c> in its own process group, TERM forwarded to that group
    /// (cancel), the exit code written atomically, a marker when the time limit stopped it.</summary>
    public static string WrapperScript(TimeSpan timeLimit)
    {
        var seconds = Math.Max(1L, (long)Math.Ceiling(timeLimit.TotalSeconds));
        return string.Join('\n',
            "#!/bin/bash",
            "# Written by the Finales local executor: runs finales-job.sh, then records its exit code.",
            "exec </dev/null >/dev/null 2>&1",
            $"timeout --signal=TERM --kill-after=10 {seconds} bash {JobFiles.JobScript} > {JobFiles.Stdout} 2> {JobFiles.Stderr} &",
            "child=$!",
            $"trap 'kill -TERM -- -$child 2>/dev/null; touch {JobFiles.Cancelled}; exit 143' TERM INT",
            "wait $child",
            "code=$?",
            $"if [ $code -eq 124 ] && [ $SECONDS -ge {seconds} ]; then touch {JobFiles.TimedOut}; fi",
            $"echo $code > {JobFiles.ExitCode}.tmp && mv -f {JobFiles.ExitCode}.tmp {JobFiles.ExitCode}",
            "");
    }

    public Task<JobStatus> StatusAsync(string jobId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var job = LocalJobId.Parse(jobId);
        if (IsAlive(jobId, job)) return Task.FromResult(new JobStatus(jobId, JobState.Running, null, null));
        return Task.FromResult(FromFiles(jobId, job.WorkDirectory));
    }

    /// <summary>The state of a finished (or gone) local job, from what its wrapper left in the work directory.</summary>
    public static JobStatus FromFiles(string jobId, string workDirectory)
    {
        var code = JobFiles.ReadExitCode(workDirectory);
        var cancelled = File.Exists(Path.Combine(workDirectory, JobFiles.Cancelled));
        if (code is int c)
        {
            if (File.Exists(Path.Combine(workDirectory, JobFiles.TimedOut)))
                return new JobStatus(jobId, JobState.Timeout, "time limit reached", c);
            if (c == 0) return new JobStatus(jobId, JobState.Completed, null, 0);
            return cancelled
                ? new JobStatus(jobId, JobState.Cancelled, "cancelled", c)
                : new JobStatus(jobId, JobState.Failed, $"exit code {c}", c);
        }
        return cancelled
            ? new JobStatus(jobId, JobState.Cancelled, "cancelled", null)
            : new JobStatus(jobId, JobState.Vanished, "the process is gone and left no exit code", null);
    }

    public Task CancelAsync(string jobId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var job = LocalJobId.Parse(jobId);
        if (!IsAlive(jobId, job)) return Task.CompletedTask;
        File.WriteAllText(Path.Combine(job.WorkDirectory, JobFiles.Cancelled), "");
        // The wrapper traps TERM and forwards it to the job's process group (the one timeout created).
        _ = Kill(job.Pid, SigTerm);
        return Task.CompletedTask;
    }

    private bool IsAlive(string jobId, LocalJobId job)
    {
        if (_children.TryGetValue(jobId, out var process))
        {
            if (!process.HasExited) return true;
            // Reaped: from now on the files it left say how it ended.
            if (_children.TryRemove(jobId, out var done)) done.Dispose();
            return false;
        }
        // Not started by this instance (the host restarted): the process table, guarded against pid reuse.
        return job.StartTime != 0 && StartTime(job.Pid) == job.StartTime && !IsZombie(job.Pid);
    }

    /// <summary>Field 22 of /proc/PID/stat (start time in clock ticks since boot), or null if there is no such process.</summary>
    public static long? StartTime(int pid)
    {
        var fields = StatFields(pid);
        return fields is { Length: > 19 } && long.TryParse(fields[19], NumberStyles.Integer, CultureInfo.InvariantCulture, out var t) ? t : null;
    }

    private static bool IsZombie(int pid) => StatFields(pid) is { Length: > 0 } f && f[0] is "Z" or "X";

    // Fields after "pid (comm)": the command name may contain spaces and parentheses, so split after the last ')'.
    private static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close < 0 ? null : stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}

/// <summary>A local job id, <c>pid.starttime@workdir</c>: the process (guarded against pid reuse by its start time)
/// and the directory whose files tell how it ended.</summary>
public readonly record struct LocalJobId(int Pid, long StartTime, string WorkDirectory)
{
    public static string Format(int pid, long startTime, string workDirectory) =>
        string.Create(CultureInfo.InvariantCulture, $"{pid}.{startTime}@{workDirectory}");

    /// <summary>Parses an id made by <see cref="Format"/>; anything else is a programmer error.</summary>
    public static LocalJobId Parse(string jobId)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        var at = jobId.IndexOf('@');
        var dot = at < 0 ? -1 : jobId.IndexOf('.', 0, at);
        if (at < 0 || dot < 0
            || !int.TryParse(jobId.AsSpan(0, dot), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid)
            || !long.TryParse(jobId.AsSpan(dot + 1, at - dot - 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var start))
            throw new ArgumentException($"'{jobId}' is not a local job id (pid.starttime@workdir)", nameof(jobId));
        return new LocalJobId(pid, start, jobId[(at + 1)..]);
    }
}
