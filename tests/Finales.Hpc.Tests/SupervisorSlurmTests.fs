/// The job supervisor on a private Slurm: LAMMPS through sbatch, TIMEOUT requeued from the restart file, scancel from
/// outside, a supervisor "killed" mid-job and re-attached, a failing LAMMPS input, a retracted request.
module Finales.Hpc.Tests.SupervisorSlurmTests

open System
open System.IO
open System.Threading
open Expecto
open Finales.Hpc
open Finales.TestSupport
open Finales.Hpc.Tests.Jobs

let private options =
    JobSupervisorOptions(
        PollInterval = TimeSpan.FromMilliseconds 500.0,
        RequeueBackoff = TimeSpan.FromSeconds 1.0,
        MaxAttempts = 3
    )

let private supervisor (dir: TempDir) =
    SlurmCluster.Shared |> ignore
    let journal = new JobJournal(dir.Sub "jobs.db")
    journal, JobSupervisor(SlurmExecutor(SlurmOptions.Default), journal, options)

let private run (sup: JobSupervisor) (spec: JobSpec) =
    sup.RunAsync(spec, Func<string, bool> Lammps.finished, CancellationToken.None).Result

let private jobIdOf (journal: JobJournal) name =
    journal.Get name |> Option.ofObj |> Option.bind (fun r -> Option.ofObj r.JobId)

let private waitRunning (journal: JobJournal) name =
    waitUntil (name + " running") 60.0 (fun () ->
        (journal.Get name |> Option.ofObj |> Option.map (fun r -> r.State)) = Some "Running")

/// How many jobs of that name slurmctld knows (finished ones included, MinJobAge=600).
let private jobsNamed (name: string) =
    let show = SlurmCluster.Shared.Run("scontrol", "show", "job")

    show.Stdout.Split('\n')
    |> Array.filter (fun l -> l.Contains(sprintf "JobName=%s" name))
    |> Array.length

let tests =
    testList
        "supervisor (slurm)"
        [ test "a LAMMPS job through sbatch succeeds from its evidence" {
              use d = new TempDir("ss-ok")
              let journal, sup = supervisor d
              use _ = journal
              let work = d.Sub "w"

              let v =
                  run sup (spec "ss-ok" work (Lammps.script work "in.melt" Lammps.melt) null (TimeSpan.FromMinutes 2.0))

              Expect.isTrue v.Success (sprintf "success: %A" v)
              Expect.equal v.FinalState JobState.Completed "COMPLETED"
              Expect.equal (jobsNamed "ss-ok") 1 "one Slurm job"
          }

          test "a job over --time=1 is TIMEOUT, requeued from its LAMMPS restart file, and completes" {
              use d = new TempDir("ss-timeout")
              let journal, sup = supervisor d
              use _ = journal
              let work = d.Sub "w"
              let first = Lammps.script work "in.chunks" (Lammps.chunked 200 2)
              let restart = Lammps.script work "in.restart" Lammps.fromRestart
              let v = run sup (spec "ss-timeout" work first restart (TimeSpan.FromMinutes 1.0))
              Expect.isTrue v.Success (sprintf "success: %A" v)
              Expect.equal v.Attempts 2 "one requeue"
              let ids = (journal.Get "ss-timeout").JobIds.Split(' ')
              Expect.equal ids.Length 2 "two Slurm jobs"
              let firstJob = SlurmCluster.Shared.Run("scontrol", "show", "job", ids[0])
              Expect.stringContains firstJob.Stdout "JobState=TIMEOUT" "Slurm stopped the first one at its limit"

              Expect.stringContains
                  (File.ReadAllText(Path.Combine(work, "log.lammps")))
                  "read_restart"
                  "continued from the restart file"
          }

          test "scancel from outside gives a failed verdict naming CANCELLED" {
              use d = new TempDir("ss-scancel")
              let journal, sup = supervisor d
              use _ = journal
              let work = d.Sub "w"

              let task =
                  sup.RunAsync(
                      spec "ss-scancel" work "sleep 300" null (TimeSpan.FromMinutes 5.0),
                      Func<string, bool> Lammps.finished,
                      CancellationToken.None
                  )

              waitRunning journal "ss-scancel"
              let r = SlurmCluster.Shared.Run("scancel", (jobIdOf journal "ss-scancel").Value)
              Expect.equal r.Code 0 (sprintf "scancel: %s" r.Stderr)
              let v = task.Result
              Expect.isFalse v.Success "failed"
              Expect.equal v.FinalState JobState.Cancelled "cancelled"
              Expect.stringContains v.Reason "CANCELLED" "named"
          }

          test "a supervisor killed mid-job: a new one on the same journal re-attaches, one job id, one verdict" {
              use d = new TempDir("ss-reattach")
              let work = d.Sub "w"

              let s =
                  spec
                      "ss-reattach"
                      work
                      (Lammps.script work "in.chunks" (Lammps.chunked 4 2))
                      null
                      (TimeSpan.FromMinutes 2.0)

              let firstJobId =
                  let journal, sup = supervisor d
                  use _ = journal
                  use stop = new CancellationTokenSource()
                  let task = sup.RunAsync(s, Func<string, bool> Lammps.finished, stop.Token)
                  waitRunning journal "ss-reattach"
                  stop.Cancel()
                  Expect.throws (fun () -> task.Wait()) "RunAsync ends with the host's cancellation"
                  (jobIdOf journal "ss-reattach").Value

              let journal, sup = supervisor d
              use _ = journal
              let v = run sup s
              Expect.isTrue v.Success (sprintf "success: %A" v)
              Expect.equal v.JobId firstJobId "the same job"
              Expect.equal (journal.Get "ss-reattach").JobIds firstJobId "one job id journaled"
              Expect.equal (jobsNamed "ss-reattach") 1 "one Slurm job"
          }

          test "a host stopped between sbatch and journaling the id: the job is found by name, not submitted again" {
              use d = new TempDir("ss-lost")
              let journal, sup = supervisor d
              use _ = journal
              let work = d.Sub "w"

              let s =
                  spec
                      "ss-lost"
                      work
                      (Lammps.script work "in.chunks" (Lammps.chunked 2 2))
                      null
                      (TimeSpan.FromMinutes 2.0)

              journal.BeginSubmit("ss-lost", "slurm", work, 1)
              let lost = (sup.Executor.SubmitAsync(s, CancellationToken.None)).Result
              waitFinal sup.Executor lost 120.0 |> ignore // it even finished while the host was down
              let v = run sup s
              Expect.isTrue v.Success (sprintf "success: %A" v)
              Expect.equal v.JobId lost "the job sbatch had started"
              Expect.equal (jobsNamed "ss-lost") 1 "one Slurm job"
          }

          test "a LAMMPS input error: FAILED with Slurm's reason and the log's last lines" {
              use d = new TempDir("ss-fail")
              let journal, sup = supervisor d
              use _ = journal
              let work = d.Sub "w"

              let v =
                  run
                      sup
                      (spec
                          "ss-fail"
                          work
                          (Lammps.script work "in.bad" (Lammps.melt + "bogus_command 1\n"))
                          null
                          (TimeSpan.FromMinutes 1.0))

              Expect.isFalse v.Success "failed"
              Expect.equal v.FinalState JobState.Failed "FAILED"
              Expect.stringContains v.Reason "NonZeroExitCode" "Slurm's reason"
              Expect.stringContains v.LogTail "Unknown command" "LAMMPS' error in the tail"
          }

          test "a retracted request's job is scancelled: CANCELLED, the request named as retracted" {
              use d = new TempDir("ss-retract")
              let journal, sup = supervisor d
              use _ = journal

              let task =
                  sup.RunAsync(
                      spec "ss-retract" (d.Sub "w") "sleep 300" null (TimeSpan.FromMinutes 5.0),
                      Func<string, bool> Lammps.finished,
                      CancellationToken.None
                  )

              waitRunning journal "ss-retract"
              sup.CancelAsync("ss-retract", CancellationToken.None).Wait()
              let v = task.Result
              Expect.equal v.FinalState JobState.Cancelled "cancelled"
              Expect.stringContains v.Reason "retracted" "says why"
              let show = SlurmCluster.Shared.Run("scontrol", "show", "job", v.JobId)
              Expect.stringContains show.Stdout "JobState=CANCELLED" "Slurm cancelled it"
          } ]
