namespace Finales.Hpc;

/// <summary>
/// Where and how a tenant runs its jobs. Bound from the <c>Hpc</c> section of the tenant's configuration (see
/// docs/hpc.md); <see cref="Problems"/> names every bad field and value, the factories build the executor and the
/// supervisor's options from it.
/// </summary>
public sealed class HpcOptions
{
    public const string Section = "Hpc";

    /// <summary><c>local</c> (child processes on this machine, the default) or <c>slurm</c>.</summary>
    public string Executor { get; set; } = "local";
    /// <summary>Directory under which each request gets its work directory (<c>WorkRoot/REQUEST-ID</c>); on a
    /// cluster it must be on a file system the compute nodes see at the same path.</summary>
    public string WorkRoot { get; set; } = "md-jobs";
    /// <summary>SQLite job journal; empty = next to the tenant's journal (<c>NAME-jobs.db</c>).</summary>
    public string JournalPath { get; set; } = "";
    /// <summary>Slurm partition (<c>--partition</c>); empty = the cluster's default.</summary>
    public string Partition { get; set; } = "";
    /// <summary>Slurm account (<c>--account</c>); empty = the user's default.</summary>
    public string Account { get; set; } = "";
    /// <summary>Environment modules loaded in the batch script before the job (<c>module load X</c>).</summary>
    public string[] Modules { get; set; } = [];
    /// <summary>Further <c>#SBATCH</c> options verbatim, e.g. <c>--mem=4G</c>, <c>--qos=short</c>.</summary>
    public string[] ExtraSbatchArgs { get; set; } = [];
    /// <summary>Wall-time limit of one attempt (Slurm: whole minutes).</summary>
    public double TimeLimitMinutes { get; set; } = 60;
    /// <summary>CPUs per job (<c>--cpus-per-task</c>).</summary>
    public int Cpus { get; set; } = 1;
    public double PollIntervalSeconds { get; set; } = 10;
    /// <summary>Submissions per request: the first plus requeues after TIMEOUT/NODE_FAIL/PREEMPTED.</summary>
    public int MaxAttempts { get; set; } = 3;
    public double RequeueBackoffSeconds { get; set; } = 30;
    public double MaxRequeueBackoffSeconds { get; set; } = 600;
    /// <summary>Lines of the LAMMPS log (and of the job's output) in a failed verdict.</summary>
    public int LogTailLines { get; set; } = 20;

    /// <summary>Every problem with these options, each naming the field and the value (empty when valid).</summary>
    public IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        if (Executor is not ("local" or "slurm")) p.Add($"Hpc:Executor is '{Executor}'; it must be local or slurm");
        if (string.IsNullOrWhiteSpace(WorkRoot)) p.Add("Hpc:WorkRoot is empty; give the directory the job directories go under");
        if (!(TimeLimitMinutes > 0)) p.Add($"Hpc:TimeLimitMinutes is {TimeLimitMinutes}; it must be > 0");
        if (Cpus < 1) p.Add($"Hpc:Cpus is {Cpus}; it must be >= 1");
        if (!(PollIntervalSeconds > 0)) p.Add($"Hpc:PollIntervalSeconds is {PollIntervalSeconds}; it must be > 0");
        if (MaxAttempts < 1) p.Add($"Hpc:MaxAttempts is {MaxAttempts}; it must be >= 1");
        if (!(RequeueBackoffSeconds >= 0)) p.Add($"Hpc:RequeueBackoffSeconds is {RequeueBackoffSeconds}; it must be >= 0");
        if (!(MaxRequeueBackoffSeconds >= RequeueBackoffSeconds))
            p.Add($"Hpc:MaxRequeueBackoffSeconds is {MaxRequeueBackoffSeconds}; it must be >= RequeueBackoffSeconds ({RequeueBackoffSeconds})");
        if (LogTailLines < 0) p.Add($"Hpc:LogTailLines is {LogTailLines}; it must be >= 0");
        foreach (var arg in ExtraSbatchArgs)
            if (!arg.StartsWith('-') || arg.Contains('\n'))
                p.Add($"Hpc:ExtraSbatchArgs has '{arg}'; each entry must be one sbatch option such as --mem=4G");
        foreach (var module in Modules)
            if (string.IsNullOrWhiteSpace(module) || module.Contains('\n'))
                p.Add($"Hpc:Modules has '{module}'; each entry must be one module name such as lammps/2021");
        return p;
    }

    /// <summary>The executor these options name; call only when <see cref="Problems"/> is empty.</summary>
    public IJobExecutor CreateExecutor() => Executor switch
    {
        "local" => new LocalExecutor(),
        "slurm" => new SlurmExecutor(new SlurmOptions(
            string.IsNullOrWhiteSpace(Partition) ? null : Partition,
            string.IsNullOrWhiteSpace(Account) ? null : Account,
            Modules, ExtraSbatchArgs)),
        _ => throw new InvalidOperationException($"Hpc:Executor is '{Executor}'; check Problems() before CreateExecutor()"),
    };

    /// <summary>The supervisor's options from these settings.</summary>
    public JobSupervisorOptions SupervisorOptions() => new()
    {
        PollInterval = TimeSpan.FromSeconds(PollIntervalSeconds),
        MaxAttempts = MaxAttempts,
        RequeueBackoff = TimeSpan.FromSeconds(RequeueBackoffSeconds),
        MaxRequeueBackoff = TimeSpan.FromSeconds(MaxRequeueBackoffSeconds),
        LogTailLines = LogTailLines,
    };

    /// <summary>The job journal's file: <see cref="JournalPath"/>, or next to the tenant's journal
    /// (<c>/var/lib/finales/md-journal.db</c> gives <c>/var/lib/finales/md-journal-jobs.db</c>).</summary>
    public string JournalPathFor(string tenantJournalPath)
    {
        if (!string.IsNullOrWhiteSpace(JournalPath)) return Path.GetFullPath(JournalPath);
        var full = Path.GetFullPath(tenantJournalPath);
        return Path.Combine(Path.GetDirectoryName(full) ?? ".", Path.GetFileNameWithoutExtension(full) + "-jobs.db");
    }

    /// <summary>The work directory of one request.</summary>
    public string WorkDirectoryFor(string requestId) => Path.GetFullPath(Path.Combine(WorkRoot, requestId));
}
