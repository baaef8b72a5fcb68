/// The job supervisor on the local executor: evidence, requeue from a restart file, bounded retries, cancel,
/// re-attach after a "killed" supervisor, the journal before and after.
module Finales.Hpc.Tests.SupervisorLocalTests

open System
open System.IO
open System.Threading
open Expecto
open Finales.Hpc
open Finales.Hpc.Tests.Jobs

let optionsWith (maxAttempts: int) =
    JobSupervisorOptions(
        PollInterval = TimeSpan.FromMilliseconds 200.0,
        RequeueBackoff = TimeSpan.FromMilliseconds 500.0,
        MaxAttempts = maxAttempts
    )

let options = optionsWith 3

/// A supervisor on a fresh local executor and the journal file in `dir` (a new instance = a restarted host).
let supervisor (dir: TempDir) (opts: JobSupervisorOptions) =
    let journal = new JobJournal(dir.Sub "jobs.db")
    journal, JobSupervisor(LocalExecutor(), journal, opts)

let run (sup: JobSupervisor) (spec: JobSpec) (evidence: string -> bool) =
    sup.RunAsync(spec, Func<string, bool> evidence, CancellationToken.None).Result

let tests =
    testList
        "supervisor (local)"
        [ test
              "a LAMMPS run that finishes is a success, journaled; asking again returns the journaled verdict, no second job" {
              use d = new TempDir("sup-ok")
              let journal, sup = supervisor d options
              use _ = journal
              let work = d.Sub "req-ok"

              let s =
                  spec "req-ok" work (Lammps.script work "in.melt" Lammps.melt) null (TimeSpan.FromMinutes 1.0)

              let v = run sup s Lammps.finished
              Expect.isTrue v.Success (sprintf "success: %A" v)
              Expect.equal v.Attempts 1 "one attempt"
              Expect.equal v.FinalState JobState.Completed "completed"
              let row = journal.Get "req-ok"
              Expect.equal row.JobId v.JobId "journaled job id"
              Expect.equal row.Success (Nullable true) "journaled verdict"
              File.Delete(Path.Combine(work, "log.lammps"))
              let again = run sup s Lammps.finished

              Expect.equal
                  (again.Success, again.JobId, again.Attempts)
                  (true, v.JobId, 1)
                  "the same verdict, from the journal"

              Expect.isFalse (File.Exists(Path.Combine(work, "log.lammps"))) "nothing ran again"
          }

          test "exit code 0 without the caller's evidence is a failure that says so" {
              use d = new TempDir("sup-noevidence")
              let journal, sup = supervisor d options
              use _ = journal

              let v =
                  run sup (spec "req-ne" (d.Sub "w") "echo pretending" null (TimeSpan.FromMinutes 1.0)) Lammps.finished

              Expect.isFalse v.Success "no evidence, no success"
              Expect.stringContains v.Reason "without evidence of success" "says why"
          }

          test "a LAMMPS input error: FAILED with the exit code and the log's last lines" {
              use d = new TempDir("sup-fail")
              let journal, sup = supervisor d options
              use _ = journal
              let work = d.Sub "w"
              let script = Lammps.script work "in.bad" (Lammps.melt + "bogus_command 1 2 3\n")

              let v =
                  run sup (spec "req-fail" work script null (TimeSpan.FromMinutes 1.0)) Lammps.finished

              Expect.isFalse v.Success "failed"
              Expect.equal v.FinalState JobState.Failed "FAILED"
              Expect.stringContains v.Reason "FAILED" "the state is named"
              Expect.stringContains v.LogTail "==> log.lammps <==" "the LAMMPS log's tail"
              Expect.stringContains v.LogTail "Unknown command" "LAMMPS' error"
          }

          test "over its time limit the job is requeued from its restart file and completes" {
              use d = new TempDir("sup-requeue")
              let journal, sup = supervisor d options
              use _ = journal
              let work = d.Sub "w"
              let first = Lammps.script work "in.chunks" (Lammps.chunked 30 1)
              let restart = Lammps.script work "in.restart" Lammps.fromRestart

              let v =
                  // 6 s: the restart (LAMMPS' start, read_restart, 100 steps) must fit in it on a loaded machine too.
                  run sup (spec "req-rq" work first restart (TimeSpan.FromSeconds 6.0)) Lammps.finished

              Expect.isTrue v.Success (sprintf "success: %A" v)
              Expect.equal v.Attempts 2 "one requeue"

              Expect.stringContains
                  (File.ReadAllText(Path.Combine(work, "log.lammps")))
                  "read_restart"
                  "continued from the restart file"

              Expect.equal ((journal.Get "req-rq").JobIds.Split(' ').Length) 2 "two job ids journaled"
          }

          test "requeues are bounded: a job that always times out fails after MaxAttempts, naming TIMEOUT" {
              use d = new TempDir("sup-bounded")
              let journal, sup = supervisor d (optionsWith 2)
              use _ = journal

              let v =
                  run sup (spec "req-b" (d.Sub "w") "sleep 30" "sleep 30" (TimeSpan.FromSeconds 1.0)) (fun _ -> true)

              Expect.isFalse v.Success "failed"
              Expect.equal v.Attempts 2 "two attempts"
              Expect.equal v.FinalState JobState.Timeout "timeout"
              Expect.stringContains v.Reason "TIMEOUT" "named"
              Expect.stringContains v.Reason "no requeues left" "says why it stopped"
          }

          test
              "a supervisor stopped mid-job leaves it running; a new one on the same journal re-attaches: one job, one verdict" {
              use d = new TempDir("sup-reattach")
              let work = d.Sub "w"

              let s =
                  spec
                      "req-ra"
                      work
                      (Lammps.script work "in.chunks" (Lammps.chunked 3 1))
                      null
                      (TimeSpan.FromMinutes 1.0)

              let firstJobId =
                  let journal, sup = supervisor d options
                  use _ = journal
                  use stop = new CancellationTokenSource()
                  let task = sup.RunAsync(s, Func<string, bool> Lammps.finished, stop.Token)

                  waitUntil "the job to be journaled" 20.0 (fun () ->
                      (journal.Get "req-ra"
                       |> Option.ofObj
                       |> Option.bind (fun r -> Option.ofObj r.JobId))
                          .IsSome)

                  stop.Cancel()
                  Expect.throws (fun () -> task.Wait()) "RunAsync ends with the host's cancellation"
                  let row = journal.Get "req-ra"
                  Expect.isFalse row.Success.HasValue "no verdict yet"
                  row.JobId

              Expect.equal
                  (LocalExecutor().StatusAsync(firstJobId, CancellationToken.None).Result.State)
                  JobState.Running
                  "the job kept running"

              let journal, sup = supervisor d options
              use _ = journal
              let v = run sup s Lammps.finished
              Expect.isTrue v.Success (sprintf "success: %A" v)
              Expect.equal v.JobId firstJobId "the same job"
              Expect.equal (journal.Get "req-ra").JobIds firstJobId "one job id in the journal"
              Expect.equal v.Attempts 1 "one attempt"
          }

          test "a retracted request's running job is cancelled: CANCELLED verdict that says retracted" {
              use d = new TempDir("sup-retract")
              let journal, sup = supervisor d options
              use _ = journal

              let task =
                  sup.RunAsync(
                      spec "req-rt" (d.Sub "w") "sleep 60" null (TimeSpan.FromMinutes 1.0),
                      Func<string, bool>(fun _ -> true),
                      CancellationToken.None
                  )

              waitUntil "running" 20.0 (fun () ->
                  (journal.Get "req-rt" |> Option.ofObj |> Option.map (fun r -> r.State)) = Some "Running")

              sup.CancelAsync("req-rt", CancellationToken.None).Wait()
              let v = task.Result
              Expect.isFalse v.Success "failed"
              Expect.equal v.FinalState JobState.Cancelled "cancelled"
              Expect.stringContains v.Reason "retracted" "says why"
          }

          test "a request retracted before its job was submitted never runs" {
              use d = new TempDir("sup-retract-early")
              let journal, sup = supervisor d options
              use _ = journal
              sup.CancelAsync("req-early", CancellationToken.None).Wait()
              let work = d.Sub "w"

              let v =
                  run sup (spec "req-early" work "touch ran" null (TimeSpan.FromMinutes 1.0)) (fun _ -> true)

              Expect.isFalse v.Success "failed"
              Expect.equal v.FinalState JobState.Cancelled "cancelled"
              Expect.isFalse (File.Exists(Path.Combine(work, "ran"))) "never submitted"
          }

          test "a journaled job of another executor kind is a failure that names both kinds" {
              use d = new TempDir("sup-kind")
              let journal, sup = supervisor d options
              use _ = journal
              journal.BeginSubmit("req-k", "slurm", d.Sub "w", 1)
              journal.Submitted("req-k", "123")

              let v =
                  run sup (spec "req-k" (d.Sub "w") "true" null (TimeSpan.FromMinutes 1.0)) (fun _ -> true)

              Expect.isFalse v.Success "failed"
              Expect.stringContains v.Reason "journaled as a slurm job, but this host runs local jobs" "names both"
          } ]
