namespace Finales.Core.Interop

open System
open System.Collections.Generic
open System.Runtime.InteropServices
open Finales.Core.Hpc

/// `Finales.Core.Hpc.JobState` for C# (the same members in the same order as `Finales.Hpc.JobState`).
type HpcJobState =
    | Pending = 0
    | Running = 1
    | Completed = 2
    | Failed = 3
    | Cancelled = 4
    | Timeout = 5
    | NodeFail = 6
    | Preempted = 7
    | OutOfMemory = 8
    | Vanished = 9

/// `Finales.Core.Hpc.JobAction` for C#: what the supervisor does next with a job.
type HpcJobAction =
    | Wait = 0
    | Succeed = 1
    | Requeue = 2
    | Fail = 3

/// What `scontrol show job` or `sacct` says about a job, for C#: Reason, ExitCode and Signal are null when absent.
[<Sealed; AllowNullLiteral>]
type SlurmJobInfo(slurmState: string, reason: string, exitCode: Nullable<int>, signal: Nullable<int>) =
    member _.SlurmState = slurmState
    member _.Reason = reason
    member _.ExitCode = exitCode
    member _.Signal = signal

    member internal _.ToCore() : SlurmJob =
        { SlurmState = (if isNull slurmState then "" else slurmState)
          Reason = Option.ofObj reason
          ExitCode = Option.ofNullable exitCode
          Signal = Option.ofNullable signal }

    static member internal Of(job: SlurmJob) =
        SlurmJobInfo(
            job.SlurmState,
            Option.toObj job.Reason,
            Option.toNullable job.ExitCode,
            Option.toNullable job.Signal
        )

/// A job's state and the reason to report with it (null when none), for C#.
[<Sealed>]
type SlurmStatusInfo(state: HpcJobState, reason: string) =
    member _.State = state
    member _.Reason = reason

/// The supervisor's decisions (`Finales.Core.Hpc.JobPolicy`) with C# shapes.
[<AbstractClass; Sealed>]
type HpcJobPolicy =
    static member internal ToCore(state: HpcJobState) : JobState =
        match state with
        | HpcJobState.Pending -> Pending
        | HpcJobState.Running -> Running
        | HpcJobState.Completed -> Completed
        | HpcJobState.Failed -> Failed
        | HpcJobState.Cancelled -> Cancelled
        | HpcJobState.Timeout -> Timeout
        | HpcJobState.NodeFail -> NodeFail
        | HpcJobState.Preempted -> Preempted
        | HpcJobState.OutOfMemory -> OutOfMemory
        | HpcJobState.Vanished -> Vanished
        | other -> raise (ArgumentOutOfRangeException("state", other, "not a job state"))

    static member internal OfCore(state: JobState) : HpcJobState =
        match state with
        | Pending -> HpcJobState.Pending
        | Running -> HpcJobState.Running
        | Completed -> HpcJobState.Completed
        | Failed -> HpcJobState.Failed
        | Cancelled -> HpcJobState.Cancelled
        | Timeout -> HpcJobState.Timeout
        | NodeFail -> HpcJobState.NodeFail
        | Preempted -> HpcJobState.Preempted
        | OutOfMemory -> HpcJobState.OutOfMemory
        | Vanished -> HpcJobState.Vanished

    /// States that resubmit the job (from its restart script) while attempts remain.
    static member IsRequeueable(state: HpcJobState) =
        JobPolicy.isRequeueable (HpcJobPolicy.ToCore state)

    /// Pending and Running.
    static member IsOpen(state: HpcJobState) =
        JobPolicy.isOpen (HpcJobPolicy.ToCore state)

    /// The next action (`JobPolicy.decide`): success only from evidence, requeue on TIMEOUT/NODE_FAIL/PREEMPTED while
    /// attempts remain and the request is not retracted.
    static member Decide(state: HpcJobState, evidence: bool, attempts: int, maxAttempts: int, retracted: bool) =
        match JobPolicy.decide (HpcJobPolicy.ToCore state) evidence attempts maxAttempts retracted with
        | Wait -> HpcJobAction.Wait
        | Succeed -> HpcJobAction.Succeed
        | Requeue -> HpcJobAction.Requeue
        | Fail -> HpcJobAction.Fail

    /// The wait before resubmitting after the `attempts`-th submission stopped.
    static member Backoff(attempts: int, initial: TimeSpan, max: TimeSpan) = JobPolicy.backoff attempts initial max

    /// The Slurm-style name of a state (CANCELLED, OUT_OF_MEMORY, ...).
    static member SlurmName(state: HpcJobState) =
        JobPolicy.slurmName (HpcJobPolicy.ToCore state)

/// The Slurm executor's pure half (`Finales.Core.Hpc.SlurmText`) with C# shapes: Try pattern, null for absent.
[<AbstractClass; Sealed>]
type HpcSlurmText =
    /// The `--time` value: whole minutes, rounded up, at least 1.
    static member TimeLimit(limit: TimeSpan) = SlurmText.timeLimit limit

    /// The batch script of a job named `name` (the request id); `partition`/`account` null = the cluster's default.
    static member BatchScript
        (
            name: string,
            workDirectory: string,
            timeLimit: TimeSpan,
            cpus: int,
            partition: string,
            account: string,
            modules: IReadOnlyList<string>,
            extraSbatchArgs: IReadOnlyList<string>
        ) =
        ArgumentNullException.ThrowIfNull name
        ArgumentNullException.ThrowIfNull workDirectory
        ArgumentNullException.ThrowIfNull modules
        ArgumentNullException.ThrowIfNull extraSbatchArgs

        SlurmText.batchScript
            name
            workDirectory
            timeLimit
            cpus
            { Partition = Option.ofObj partition
              Account = Option.ofObj account
              Modules = List.ofSeq modules
              ExtraSbatchArgs = List.ofSeq extraSbatchArgs }

    /// `sbatch --parsable` output to a job id.
    static member TryParseSbatch(stdout: string, [<Out>] jobId: byref<string>, [<Out>] error: byref<string>) =
        match SlurmText.parseSbatch stdout with
        | Ok id ->
            jobId <- id
            error <- ""
            true
        | Error e ->
            jobId <- ""
            error <- e
            false

    /// The newest job id of `squeue -o "%i %Z"` lines working in `workDirectory`; null if none.
    static member FindByWorkDirectory(stdout: string, workDirectory: string) : string =
        ArgumentNullException.ThrowIfNull workDirectory
        SlurmText.findByWorkDirectory stdout workDirectory |> Option.toObj

    /// The state name of `squeue -h -j ID -o %T`; null when the job left squeue's memory.
    static member ParseSqueueState(stdout: string) : string =
        SlurmText.parseSqueueState stdout |> Option.toObj

    /// A Slurm state name mapped to a job state; false (with the error naming it) for a name this code does not know.
    static member TryMapState(slurmState: string, [<Out>] state: byref<HpcJobState>, [<Out>] error: byref<string>) =
        match SlurmText.mapState slurmState with
        | Some s ->
            state <- HpcJobPolicy.OfCore s
            error <- ""
            true
        | None ->
            state <- HpcJobState.Failed
            error <- $"unknown Slurm state {slurmState}"
            false

    static member private Try(r: Result<SlurmJob, string>, job: byref<SlurmJobInfo>, error: byref<string>) : bool =
        match r with
        | Ok j ->
            job <- SlurmJobInfo.Of j
            error <- ""
            true
        | Error e ->
            job <- null
            error <- e
            false

    /// Reads `scontrol show job` output; false when it holds no JobState=.
    static member TryParseScontrol(stdout: string, [<Out>] job: byref<SlurmJobInfo>, [<Out>] error: byref<string>) =
        HpcSlurmText.Try(SlurmText.parseScontrol stdout, &job, &error)

    /// Reads `sacct -j ID -X -n -P -o State,ExitCode,Reason`; false when empty.
    static member TryParseSacct(stdout: string, [<Out>] job: byref<SlurmJobInfo>, [<Out>] error: byref<string>) =
        HpcSlurmText.Try(SlurmText.parseSacct stdout, &job, &error)

    /// The state and reason of a parsed scontrol/sacct record; an unknown state name is a failure that names it.
    static member ToStatus(job: SlurmJobInfo) =
        ArgumentNullException.ThrowIfNull job
        let s = SlurmText.toStatus (job.ToCore())
        SlurmStatusInfo(HpcJobPolicy.OfCore s.State, Option.toObj s.Reason)
