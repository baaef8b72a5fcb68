using Finales.Hpc;

namespace Finales.Tenants.Md;

/// <summary>
/// What the worker needs from job supervision: run a job to a verdict keyed by the request id (re-attaching after a
/// restart), and cancel the job of a retracted request. <see cref="JobSupervisor"/> is the implementation
/// (<see cref="SupervisedJobs"/>); the interface keeps the worker to these two calls.
/// </summary>
public interface IMdJobRunner
{
    /// <summary>Runs (or re-attaches to) the job named <c>spec.Name</c> until it has a verdict. <paramref name="stop"/>
    /// cancelled (host stopping) throws <see cref="OperationCanceledException"/> and leaves the job running.</summary>
    Task<JobVerdict> RunAsync(JobSpec spec, Func<string, bool> evidenceOfSuccess, CancellationToken stop);

    /// <summary>Stops the job of request <paramref name="name"/> (a retracted request).</summary>
    Task CancelAsync(string name, CancellationToken cancellationToken);
}

/// <summary>hpc's <see cref="JobSupervisor"/> (journal, re-attach, requeue from restart files, evidence) as the
/// worker's job runner.</summary>
public sealed class SupervisedJobs(JobSupervisor supervisor) : IMdJobRunner
{
    public JobSupervisor Supervisor { get; } = supervisor ?? throw new ArgumentNullException(nameof(supervisor));

    public Task<JobVerdict> RunAsync(JobSpec spec, Func<string, bool> evidenceOfSuccess, CancellationToken stop) =>
        Supervisor.RunAsync(spec, evidenceOfSuccess, stop);

    public Task CancelAsync(string name, CancellationToken cancellationToken) => Supervisor.CancelAsync(name, cancellationToken);

    /// <summary>A supervisor on <paramref name="executor"/> with its job journal at <paramref name="journalPath"/>.</summary>
    public static SupervisedJobs Create(IJobExecutor executor, string journalPath, TimeSpan poll) =>
        new(new JobSupervisor(executor, new JobJournal(journalPath), new JobSupervisorOptions { PollInterval = poll }));
}
