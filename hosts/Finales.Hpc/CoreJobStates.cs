using Finales.Core.Interop;

namespace Finales.Hpc;

/// <summary>Between this project's <see cref="JobState"/> (the C# contract) and the core's <see cref="HpcJobState"/>
/// (the decisions in Finales.Core.Hpc): the same members, mapped by name.</summary>
public static class CoreJobStates
{
    public static HpcJobState ToCore(JobState state) => state switch
    {
        JobState.Pending => HpcJobState.Pending,
        JobState.Running => HpcJobState.Running,
        JobState.Completed => HpcJobState.Completed,
        JobState.Failed => HpcJobState.Failed,
        JobState.Cancelled => HpcJobState.Cancelled,
        JobState.Timeout => HpcJobState.Timeout,
        JobState.NodeFail => HpcJobState.NodeFail,
        JobState.Preempted => HpcJobState.Preempted,
        JobState.OutOfMemory => HpcJobState.OutOfMemory,
        JobState.Vanished => HpcJobState.Vanished,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "not a job state"),
    };

    public static JobState FromCore(HpcJobState state) => state switch
    {
        HpcJobState.Pending => JobState.Pending,
        HpcJobState.Running => JobState.Running,
        HpcJobState.Completed => JobState.Completed,
        HpcJobState.Failed => JobState.Failed,
        HpcJobState.Cancelled => JobState.Cancelled,
        HpcJobState.Timeout => JobState.Timeout,
        HpcJobState.NodeFail => JobState.NodeFail,
        HpcJobState.Preempted => JobState.Preempted,
        HpcJobState.OutOfMemory => JobState.OutOfMemory,
        HpcJobState.Vanished => JobState.Vanished,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "not a job state"),
    };
}
