namespace Finales.Hpc;

/// <summary>What the supervisor does next with a job.</summary>
public enum JobAction
{
    /// <summary>Still pending or running: look again later.</summary>
    Wait,
    /// <summary>The job left evidence of success.</summary>
    Succeed,
    /// <summary>Stopped by the system (time limit, node failure, preemption): submit again from the restart file.</summary>
    Requeue,
    /// <summary>A failed verdict.</summary>
    Fail,
}

/// <summary>
/// The supervisor's decisions as pure functions of what it has seen: success only from evidence, a bounded number of
/// requeues on the states the job is not to blame for, everything else a failure.
/// </summary>
public static class JobPolicy
{
    /// <summary>States that resubmit the job (from its restart script) while attempts remain.</summary>
    public static bool IsRequeueable(JobState state) => state is JobState.Timeout or JobState.NodeFail or JobState.Preempted;

    /// <summary>Pending and Running.</summary>
    public static bool IsOpen(JobState state) => state is JobState.Pending or JobState.Running;

    /// <summary>
    /// The next action. <paramref name="evidence"/>: exit-code file 0 and the caller's check of the job's own output
    /// (e.g. the LAMMPS log's end); it is the only road to success, whatever the scheduler says, and it wins over any
    /// final state (a job that finished just as its time limit struck did finish). <paramref name="attempts"/>:
    /// submissions so far (at least 1).
    /// </summary>
    public static JobAction Decide(JobState state, bool evidence, int attempts, int maxAttempts) =>
        Decide(state, evidence, attempts, maxAttempts, retracted: false);

    /// <summary>As above; a <paramref name="retracted"/> request is never requeued.</summary>
    public static JobAction Decide(JobState state, bool evidence, int attempts, int maxAttempts, bool retracted)
    {
        if (IsOpen(state)) return JobAction.Wait;
        if (evidence) return JobAction.Succeed;
        if (IsRequeueable(state) && attempts < maxAttempts && !retracted) return JobAction.Requeue;
        return JobAction.Fail;
    }

    /// <summary>The wait before resubmitting after the <paramref name="attempts"/>-th submission stopped:
    /// <c>min(max, initial * 2^(attempts-1))</c>.</summary>
    public static TimeSpan Backoff(int attempts, TimeSpan initial, TimeSpan max)
    {
        var factor = Math.Pow(2, Math.Clamp(attempts - 1, 0, 30));
        var seconds = Math.Min(max.TotalSeconds, initial.TotalSeconds * factor);
        return TimeSpan.FromSeconds(Math.Max(0, seconds));
    }

    /// <summary>The Slurm-style name of a state (CANCELLED, OUT_OF_MEMORY, ...), used in verdict reasons.</summary>
    public static string SlurmName(JobState state) => state switch
    {
        JobState.NodeFail => "NODE_FAIL",
        JobState.OutOfMemory => "OUT_OF_MEMORY",
        _ => state.ToString().ToUpperInvariant(),
    };
}
