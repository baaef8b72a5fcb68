using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Finales.Hpc;

/// <summary>What the Slurm executor needs from its configuration to write a batch script.</summary>
/// <param name="Partition">-p; null = the cluster's default partition.</param>
/// <param name="Account">-A; null = the user's default account.</param>
/// <param name="Modules">Environment modules loaded before the job script (<c>module load X</c>).</param>
/// <param name="ExtraSbatchArgs">Further <c>#SBATCH</c> options verbatim, e.g. <c>--mem=4G</c> or <c>--qos=short</c>.</param>
public sealed record SlurmOptions(string? Partition, string? Account, IReadOnlyList<string> Modules, IReadOnlyList<string> ExtraSbatchArgs)
{
    public static SlurmOptions Default { get; } = new(null, null, [], []);
}

/// <summary>
/// The pure half of the Slurm executor: the batch script it writes and the readings of sbatch, squeue, scontrol and
/// sacct output (tested on captured real outputs).
/// </summary>
public static class SlurmText
{
    /// <summary>The <c>--time</c> value: whole minutes, rounded up, at least 1 (Slurm's granularity).</summary>
    public static string TimeLimit(TimeSpan limit) =>
        Math.Max(1L, (long)Math.Ceiling(limit.TotalMinutes)).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The batch script: #SBATCH header (job name = request id, time, cpus, output file, partition, account, extra
    /// options), module loads, the job script (<see cref="JobFiles.JobScript"/>, written next to it), then its exit
    /// code to <see cref="JobFiles.ExitCode"/> and as the batch script's own exit code.
    /// </summary>
    public static string BatchScript(JobSpec spec, string workDirectory, SlurmOptions options)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(options);
        var b = new StringBuilder();
        b.Append("#!/bin/bash\n");
        b.Append(CultureInfo.InvariantCulture, $"#SBATCH --job-name={spec.Name}\n");
        b.Append(CultureInfo.InvariantCulture, $"#SBATCH --time={TimeLimit(spec.TimeLimit)}\n");
        b.Append(CultureInfo.InvariantCulture, $"#SBATCH --cpus-per-task={Math.Max(1, spec.Cpus)}\n");
        b.Append("#SBATCH --ntasks=1\n");
        b.Append(CultureInfo.InvariantCulture, $"#SBATCH --output={Path.Combine(workDirectory, "slurm-%j.out")}\n");
        b.Append(CultureInfo.InvariantCulture, $"#SBATCH --chdir={workDirectory}\n");
        if (!string.IsNullOrWhiteSpace(options.Partition)) b.Append(CultureInfo.InvariantCulture, $"#SBATCH --partition={options.Partition}\n");
        if (!string.IsNullOrWhiteSpace(options.Account)) b.Append(CultureInfo.InvariantCulture, $"#SBATCH --account={options.Account}\n");
        foreach (var extra in options.ExtraSbatchArgs) b.Append(CultureInfo.InvariantCulture, $"#SBATCH {extra}\n");
        b.Append("# Written by the Finales Slurm executor.\n");
        foreach (var module in options.Modules) b.Append(CultureInfo.InvariantCulture, $"module load {module}\n");
        b.Append(CultureInfo.InvariantCulture, $"cd {Quote(workDirectory)}\n");
        b.Append(CultureInfo.InvariantCulture, $"rm -f {JobFiles.ExitCode}\n");
        b.Append(CultureInfo.InvariantCulture, $"bash {JobFiles.JobScript}\n");
        b.Append("code=$?\n");
        b.Append(CultureInfo.InvariantCulture, $"echo $code > {JobFiles.ExitCode}\n");
        // Slurm's own state then agrees with the job: FAILED with ExitCode=code:0 when the job script failed.
        b.Append("exit $code\n");
        return b.ToString();
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary><c>sbatch --parsable</c> prints <c>JOBID</c> or <c>JOBID;CLUSTER</c>.</summary>
    public static bool TryParseSbatch(string stdout, out string jobId, out string error)
    {
        var line = (stdout ?? "").Trim().Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim() ?? "";
        var id = line.Split(';')[0];
        if (id.Length > 0 && id.All(char.IsAsciiDigit))
        {
            jobId = id;
            error = "";
            return true;
        }
        jobId = "";
        error = $"sbatch --parsable printed '{stdout?.Trim()}', not a job id";
        return false;
    }

    /// <summary>The newest (highest) job id of <c>squeue -o "%i %Z"</c> lines (id, work directory) whose directory
    /// is <paramref name="workDirectory"/>; null if none.</summary>
    public static string? FindByWorkDirectory(string stdout, string workDirectory)
    {
        long? newest = null;
        foreach (var line in (stdout ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var space = line.IndexOf(' ');
            if (space > 0 && line[(space + 1)..].Trim() == workDirectory.TrimEnd('/')
                && long.TryParse(line.AsSpan(0, space), NumberStyles.Integer, CultureInfo.InvariantCulture, out var id)
                && (newest is null || id > newest))
                newest = id;
        }
        return newest?.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The job state from <c>squeue -h -j ID -o %T</c> (one line, e.g. <c>RUNNING</c>); null when the
    /// output is empty (the job left squeue's memory).</summary>
    public static string? ParseSqueueState(string stdout)
    {
        var line = (stdout ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        return string.IsNullOrEmpty(line) ? null : line;
    }

    /// <summary>A Slurm state name (squeue %T, scontrol JobState=, sacct State such as "CANCELLED by 0") mapped
    /// to <see cref="JobState"/>; false for a name this code does not know.</summary>
    public static bool TryMapState(string slurmState, out JobState state)
    {
        var name = (slurmState ?? "").Trim().Split(' ')[0].TrimEnd('+').ToUpperInvariant();
        JobState? mapped = name switch
        {
            "PENDING" or "CONFIGURING" or "REQUEUED" or "REQUEUE_HOLD" or "REQUEUE_FED" or "RESV_DEL_HOLD" => JobState.Pending,
            "RUNNING" or "COMPLETING" or "SUSPENDED" or "STOPPED" or "SIGNALING" or "STAGE_OUT" or "RESIZING" => JobState.Running,
            "COMPLETED" => JobState.Completed,
            "FAILED" or "BOOT_FAIL" or "DEADLINE" or "SPECIAL_EXIT" or "REVOKED" => JobState.Failed,
            "CANCELLED" => JobState.Cancelled,
            "TIMEOUT" => JobState.Timeout,
            "NODE_FAIL" => JobState.NodeFail,
            "PREEMPTED" => JobState.Preempted,
            "OUT_OF_MEMORY" => JobState.OutOfMemory,
            _ => null,
        };
        state = mapped ?? JobState.Failed;
        return mapped is not null;
    }

    /// <summary>What <c>scontrol show job ID</c> says: JobState=, Reason=, ExitCode=code:signal.</summary>
    public sealed record ScontrolJob(string SlurmState, string? Reason, int? ExitCode, int? Signal);

    private static readonly Regex JobStateField = new(@"(?:^|\s)JobState=(\S+)", RegexOptions.CultureInvariant);
    private static readonly Regex ReasonField = new(@"(?:^|\s)Reason=(\S+)", RegexOptions.CultureInvariant);
    private static readonly Regex ExitCodeField = new(@"(?:^|\s)ExitCode=(\d+):(\d+)", RegexOptions.CultureInvariant);

    /// <summary>Reads <c>scontrol show job</c> output; false when it holds no JobState= (e.g. "Invalid job id specified").</summary>
    public static bool TryParseScontrol(string stdout, out ScontrolJob job)
    {
        var text = stdout ?? "";
        var state = JobStateField.Match(text);
        if (!state.Success)
        {
            job = new ScontrolJob("", null, null, null);
            return false;
        }
        var reason = ReasonField.Match(text);
        var exit = ExitCodeField.Match(text);
        var reasonValue = reason.Success && reason.Groups[1].Value is not ("None" or "(null)") ? reason.Groups[1].Value : null;
        job = new ScontrolJob(state.Groups[1].Value, reasonValue,
            exit.Success ? int.Parse(exit.Groups[1].Value, CultureInfo.InvariantCulture) : null,
            exit.Success ? int.Parse(exit.Groups[2].Value, CultureInfo.InvariantCulture) : null);
        return true;
    }

    /// <summary>Reads <c>sacct -j ID -X -n -P -o State,ExitCode,Reason</c> (e.g. <c>CANCELLED by 0|0:15|None</c>);
    /// false when empty.</summary>
    public static bool TryParseSacct(string stdout, out ScontrolJob job)
    {
        var line = (stdout ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        var parts = line?.Split('|') ?? [];
        if (parts.Length < 2 || parts[0].Length == 0)
        {
            job = new ScontrolJob("", null, null, null);
            return false;
        }
        var codes = parts[1].Split(':');
        int? code = codes.Length > 0 && int.TryParse(codes[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var c) ? c : null;
        int? signal = codes.Length > 1 && int.TryParse(codes[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : null;
        var reason = parts.Length > 2 && parts[2] is not ("" or "None") ? parts[2] : null;
        job = new ScontrolJob(parts[0], reason, code, signal);
        return true;
    }

    /// <summary>The executor's status from a parsed scontrol/sacct record; an unknown state name is a failure that
    /// names it.</summary>
    public static JobStatus ToStatus(string jobId, ScontrolJob job)
    {
        var reason = job.Reason;
        if (!TryMapState(job.SlurmState, out var state)) reason = $"unknown Slurm state {job.SlurmState}" + (reason is null ? "" : $" ({reason})");
        var detail = job.Signal is > 0 ? $"{job.SlurmState} (signal {job.Signal})" : job.SlurmState;
        return new JobStatus(jobId, state, state is JobState.Completed && reason is null ? null : $"{detail}" + (reason is null ? "" : $", Reason={reason}"), job.ExitCode);
    }
}
