using System.Diagnostics;

namespace Finales.Hpc;

/// <summary>
/// Runs jobs on Slurm: writes <see cref="JobFiles.JobScript"/> and a batch script (<see cref="SlurmText.BatchScript"/>)
/// into the work directory, submits with <c>sbatch --parsable</c>, tracks with <c>squeue -h -j ID -o %T</c> and, once
/// the job is final or has left the queue, <c>scontrol show job ID</c> (and <c>sacct</c> when accounting answers);
/// cancels with <c>scancel</c>. The clients find the cluster the usual way (SLURM_CONF or /etc/slurm).
/// </summary>
public sealed class SlurmExecutor(SlurmOptions options) : IJobExecutor, IJobLookup
{
    /// <summary>The batch script's file name in the work directory.</summary>
    public const string BatchFile = "finales-batch.sh";

    public string Kind => "slurm";

    public SlurmOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    public async Task<string> SubmitAsync(JobSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var dir = Path.GetFullPath(spec.WorkDirectory);
        Directory.CreateDirectory(dir);
        JobFiles.ClearOutcome(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, JobFiles.JobScript), spec.Script, cancellationToken);
        var batch = Path.Combine(dir, BatchFile);
        await File.WriteAllTextAsync(batch, SlurmText.BatchScript(spec, dir, Options), cancellationToken);
        var (code, stdout, stderr) = await RunAsync("sbatch", ["--parsable", batch], dir, cancellationToken);
        if (code != 0) throw new SlurmException($"sbatch failed (exit code {code}): {stderr.Trim()}");
        if (!SlurmText.TryParseSbatch(stdout, out var jobId, out var error)) throw new SlurmException(error);
        return jobId;
    }

    public async Task<JobStatus> StatusAsync(string jobId, CancellationToken cancellationToken)
    {
        var (code, stdout, _) = await RunAsync("squeue", ["-h", "-j", jobId, "-o", "%T"], null, cancellationToken);
        if (code == 0 && SlurmText.ParseSqueueState(stdout) is string queued
            && SlurmText.TryMapState(queued, out var state) && state is JobState.Pending or JobState.Running)
            return new JobStatus(jobId, state, null, null);
        // Final, or gone from squeue: scontrol remembers it for MinJobAge, sacct (if there is accounting) for longer.
        var show = await RunAsync("scontrol", ["show", "job", jobId], null, cancellationToken);
        if (show.Code == 0 && SlurmText.TryParseScontrol(show.Stdout, out var job)) return SlurmText.ToStatus(jobId, job);
        if (await SacctAsync(jobId, cancellationToken) is { } accounted) return SlurmText.ToStatus(jobId, accounted);
        return new JobStatus(jobId, JobState.Vanished, $"Slurm no longer knows job {jobId} (squeue and scontrol: {show.Stderr.Trim()})", null);
    }

    private static async Task<SlurmText.ScontrolJob?> SacctAsync(string jobId, CancellationToken cancellationToken)
    {
        try
        {
            var (code, stdout, _) = await RunAsync("sacct", ["-j", jobId, "-X", "-n", "-P", "-o", "State,ExitCode,Reason"], null, cancellationToken);
            return code == 0 && SlurmText.TryParseSacct(stdout, out var job) ? job : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // sacct is not installed: there is no accounting to ask
        }
    }

    public async Task CancelAsync(string jobId, CancellationToken cancellationToken)
    {
        var (code, _, stderr) = await RunAsync("scancel", [jobId], null, cancellationToken);
        // scancel of a job that already finished says so and exits non-zero: the job is left as it is.
        if (code != 0 && !stderr.Contains("already completing or completed", StringComparison.OrdinalIgnoreCase)
            && !stderr.Contains("Invalid job id", StringComparison.OrdinalIgnoreCase))
            throw new SlurmException($"scancel {jobId} failed (exit code {code}): {stderr.Trim()}");
    }

    /// <summary>The job of that name Slurm still knows, in any state (<c>squeue -h --states=all --name=NAME -o "%i %Z"</c>:
    /// finished jobs stay for MinJobAge), matched by work directory.</summary>
    public async Task<string?> FindAsync(string name, string workDirectory, CancellationToken cancellationToken)
    {
        var (code, stdout, stderr) = await RunAsync("squeue", ["-h", "--states=all", "--name=" + name, "-o", "%i %Z"], null, cancellationToken);
        if (code != 0) throw new SlurmException($"squeue --name={name} failed (exit code {code}): {stderr.Trim()}");
        return SlurmText.FindByWorkDirectory(stdout, Path.GetFullPath(workDirectory));
    }

    /// <summary>Runs a Slurm client and collects its output.</summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(
        string tool, IReadOnlyList<string> args, string? workDirectory, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (workDirectory is not null) psi.WorkingDirectory = workDirectory;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{tool} did not start");
        var stdout = p.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(cancellationToken);
        await p.WaitForExitAsync(cancellationToken);
        return (p.ExitCode, await stdout, await stderr);
    }
}

/// <summary>A Slurm client failed in a way the executor cannot interpret (the cluster is unreachable, sbatch refused).</summary>
public sealed class SlurmException(string message) : Exception(message);
