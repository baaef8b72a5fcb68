namespace Finales.Core.Hpc

open System

/// Where a job is. Pending and Running are the open states; the others are final for one attempt.
type JobState =
    | Pending
    | Running
    | Completed
    | Failed
    | Cancelled
    | Timeout
    | NodeFail
    | Preempted
    | OutOfMemory
    /// Neither the scheduler nor the process table knows the job any more and it left no state behind.
    | Vanished

/// What the supervisor does next with a job.
type JobAction =
    /// Still pending or running: look again later.
    | Wait
    /// The job left evidence of success.
    | Succeed
    /// Stopped by the system (time limit, node failure, preemption): submit again from the restart file.
    | Requeue
    /// A failed verdict.
    | Fail

/// The supervisor's decisions as pure functions of what it has seen: success only from evidence, a bounded number
/// of requeues on the states the job is not to blame for, everything else a failure.
[<RequireQualifiedAccess>]
module JobPolicy =

    /// Every state, in declaration order.
    let allStates =
        [ Pending
          Running
          Completed
          Failed
          Cancelled
          Timeout
          NodeFail
          Preempted
          OutOfMemory
          Vanished ]

    /// States that resubmit the job (from its restart script) while attempts remain.
    let isRequeueable state =
        match state with
        | Timeout
        | NodeFail
        | Preempted -> true
        | _ -> false

    /// Pending and Running.
    let isOpen state =
        match state with
        | Pending
        | Running -> true
        | _ -> false

    /// The next action. `evidence`: exit-code file 0 and the caller's check of the job's own output (e.g. the LAMMPS
    /// log's end); it is the only road to success, whatever the scheduler says, and it wins over any final state (a
    /// job that finished just as its time limit struck did finish). `attempts`: submissions so far (at least 1). A
    /// `retracted` request is never requeued.
    let decide (state: JobState) (evidence: bool) (attempts: int) (maxAttempts: int) (retracted: bool) =
        if isOpen state then
            Wait
        elif evidence then
            Succeed
        elif isRequeueable state && attempts < maxAttempts && not retracted then
            Requeue
        else
            Fail

    /// The wait before resubmitting after the `attempts`-th submission stopped: `min(max, initial * 2^(attempts-1))`.
    let backoff (attempts: int) (initial: TimeSpan) (max: TimeSpan) =
        let factor = Math.Pow(2.0, float (Math.Clamp(attempts - 1, 0, 30)))
        let seconds = Math.Min(max.TotalSeconds, initial.TotalSeconds * factor)
        TimeSpan.FromSeconds(Math.Max(0.0, seconds))

    /// The Slurm-style name of a state (CANCELLED, OUT_OF_MEMORY, ...), used in verdict reasons.
    let slurmName state =
        match state with
        | Pending -> "PENDING"
        | Running -> "RUNNING"
        | Completed -> "COMPLETED"
        | Failed -> "FAILED"
        | Cancelled -> "CANCELLED"
        | Timeout -> "TIMEOUT"
        | NodeFail -> "NODE_FAIL"
        | Preempted -> "PREEMPTED"
        | OutOfMemory -> "OUT_OF_MEMORY"
        | Vanished -> "VANISHED"
