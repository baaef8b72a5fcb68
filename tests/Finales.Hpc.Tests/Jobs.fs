/// Helpers shared by the job tests: temp work directories and waiting for an executor's job to leave the queue.
module Finales.Hpc.Tests.Jobs

open System
open System.IO
open System.Threading
open Finales.Hpc

/// A fresh directory under the system temp dir, removed on dispose.
type TempDir(prefix: string) =
    let path =
        Path.Combine(Path.GetTempPath(), sprintf "finales-%s-%s" prefix (Guid.NewGuid().ToString("N").Substring(0, 8)))

    do Directory.CreateDirectory path |> ignore
    member _.Path = path
    member _.Sub(name: string) = Path.Combine(path, name)

    interface IDisposable with
        member _.Dispose() =
            try
                Directory.Delete(path, true)
            with _ ->
                ()

let spec name dir script restart (limit: TimeSpan) =
    JobSpec(name, dir, script, restart, limit, 1)

let isOpen (s: JobState) =
    s = JobState.Pending || s = JobState.Running

/// Polls StatusAsync until the job is no longer Pending/Running; fails after `guardSeconds` (a hang guard).
let waitFinal (executor: IJobExecutor) (jobId: string) (guardSeconds: float) =
    let deadline = DateTime.UtcNow.AddSeconds guardSeconds

    let rec loop () =
        let s = executor.StatusAsync(jobId, CancellationToken.None).Result

        if not (isOpen s.State) then
            s
        elif DateTime.UtcNow > deadline then
            failwithf "job %s still %A after %.0f s" jobId s.State guardSeconds
        else
            Thread.Sleep 200
            loop ()

    loop ()

/// Polls until `cond` holds; fails after `guardSeconds`.
let waitUntil (what: string) (guardSeconds: float) (cond: unit -> bool) =
    let deadline = DateTime.UtcNow.AddSeconds guardSeconds

    while not (cond ()) do
        if DateTime.UtcNow > deadline then
            failwithf "timed out waiting for %s" what

        Thread.Sleep 200
