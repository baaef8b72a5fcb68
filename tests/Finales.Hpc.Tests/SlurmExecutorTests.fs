/// The Slurm executor against a private single-node Slurm: sbatch, squeue/scontrol, scancel on real jobs.
module Finales.Hpc.Tests.SlurmExecutorTests

open System
open System.IO
open System.Threading
open Expecto
open Finales.Hpc
open Finales.TestSupport
open Finales.Hpc.Tests.Jobs

let private executor () =
    SlurmCluster.Shared |> ignore
    SlurmExecutor(SlurmOptions.Default)

let private submit (ex: IJobExecutor) s =
    ex.SubmitAsync(s, CancellationToken.None).Result

let tests =
    testList
        "slurm executor"
        [ test "a LAMMPS LJ melt through sbatch is COMPLETED, with the exit code file 0 and the log's end" {
              use d = new TempDir("slurm-melt")
              let ex = executor ()
              let script = Lammps.script d.Path "in.melt" Lammps.melt
              let id = submit ex (spec "melt-1" d.Path script null (TimeSpan.FromMinutes 2.0))
              Expect.isTrue (id |> Seq.forall Char.IsAsciiDigit) "a Slurm job id"
              let s = waitFinal ex id 120.0
              Expect.equal s.State JobState.Completed (sprintf "completed: %A" s)
              Expect.equal (JobFiles.ReadExitCode d.Path) (Nullable 0) "exit code file 0"
              Expect.isTrue (Lammps.finished d.Path) "LAMMPS log ends with the total wall time"
              let show = SlurmCluster.Shared.Run("scontrol", "show", "job", id)
              Expect.stringContains show.Stdout "JobName=melt-1" "the job is named after the request"
              Expect.isTrue (File.Exists(d.Sub(sprintf "slurm-%s.out" id))) "Slurm's output file in the work directory"
          }

          test "a job script that exits 4 is FAILED with exit code 4, and the exit code file says 4" {
              use d = new TempDir("slurm-fail")
              let ex = executor ()

              let id =
                  submit ex (spec "fail-1" d.Path "echo going wrong; exit 4" null (TimeSpan.FromMinutes 1.0))

              let s = waitFinal ex id 120.0
              Expect.equal s.State JobState.Failed (sprintf "failed: %A" s)
              Expect.equal s.ExitCode (Nullable 4) "Slurm's ExitCode"
              Expect.stringContains s.Reason "NonZeroExitCode" "Slurm's reason"
              Expect.equal (JobFiles.ReadExitCode d.Path) (Nullable 4) "the job script's exit code is kept"
          }

          test "scancel of a running job: CANCELLED" {
              use d = new TempDir("slurm-cancel")
              let ex = executor ()

              let id =
                  submit ex (spec "cancel-1" d.Path "sleep 300" null (TimeSpan.FromMinutes 5.0))

              waitUntil "running" 60.0 (fun () ->
                  (ex.StatusAsync(id, CancellationToken.None).Result).State = JobState.Running)

              ex.CancelAsync(id, CancellationToken.None).Wait()
              let s = waitFinal ex id 60.0
              Expect.equal s.State JobState.Cancelled "cancelled"
              Expect.stringContains s.Reason "CANCELLED" "named"
              ex.CancelAsync(id, CancellationToken.None).Wait() // a finished job: left as it is, no error
          }

          test "an id Slurm never knew is Vanished" {
              let ex = executor ()
              let s = ex.StatusAsync("99999999", CancellationToken.None).Result
              Expect.equal s.State JobState.Vanished "vanished"
          }

          test "a queued job is found by its name and work directory" {
              use d = new TempDir("slurm-find")
              let ex = executor ()
              let id = submit ex (spec "find-1" d.Path "sleep 30" null (TimeSpan.FromMinutes 1.0))

              try
                  Expect.equal (ex.FindAsync("find-1", d.Path, CancellationToken.None).Result) id "found"

                  Expect.equal
                      (ex.FindAsync("find-1", "/elsewhere", CancellationToken.None).Result)
                      null
                      "other directory"
              finally
                  ex.CancelAsync(id, CancellationToken.None).Wait()
          } ]
