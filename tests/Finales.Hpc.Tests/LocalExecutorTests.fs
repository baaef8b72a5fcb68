/// The local executor: real child processes, their files, exit codes, time limit, cancel and re-attach.
module Finales.Hpc.Tests.LocalExecutorTests

open System
open System.IO
open System.Threading
open Expecto
open Finales.Hpc
open Finales.Hpc.Tests.Jobs

let private submit (executor: IJobExecutor) spec =
    executor.SubmitAsync(spec, CancellationToken.None).Result

let tests =
    testList
        "local executor"
        [ test "a job that exits 0 is Completed, with its output in the work directory and the exit code file" {
              use d = new TempDir("local-ok")
              let ex = LocalExecutor()

              let id =
                  submit
                      ex
                      (spec "ok" d.Path "echo hello; echo oops >&2; pwd > where.txt" null (TimeSpan.FromMinutes 1.0))

              let s = waitFinal ex id 30.0
              Expect.equal s.State JobState.Completed "completed"
              Expect.equal s.ExitCode (Nullable 0) "exit code 0"
              Expect.equal (File.ReadAllText(d.Sub JobFiles.Stdout).Trim()) "hello" "stdout captured"
              Expect.equal (File.ReadAllText(d.Sub JobFiles.Stderr).Trim()) "oops" "stderr captured"
              Expect.equal (File.ReadAllText(d.Sub "where.txt").Trim()) d.Path "ran in the work directory"
              Expect.equal (JobFiles.ReadExitCode d.Path) (Nullable 0) "finales-exit-code holds 0"
          }

          test "a job that exits non-zero is Failed with its exit code" {
              use d = new TempDir("local-fail")
              let ex = LocalExecutor()

              let id =
                  submit ex (spec "fail" d.Path "echo before; exit 3" null (TimeSpan.FromMinutes 1.0))

              let s = waitFinal ex id 30.0
              Expect.equal s.State JobState.Failed "failed"
              Expect.equal s.ExitCode (Nullable 3) "exit code 3"
              Expect.stringContains s.Reason "exit code 3" "the reason names the exit code"
          }

          test "a job over its time limit is Timeout" {
              use d = new TempDir("local-timeout")
              let ex = LocalExecutor()
              let id = submit ex (spec "slow" d.Path "sleep 60" null (TimeSpan.FromSeconds 1.0))
              let s = waitFinal ex id 30.0
              Expect.equal s.State JobState.Timeout "timeout"
          }

          test "cancel stops the job and its children; the status is Cancelled" {
              use d = new TempDir("local-cancel")
              let ex = LocalExecutor()

              let id =
                  submit
                      ex
                      (spec "cancel" d.Path "sleep 120 & echo $! > child.pid; wait" null (TimeSpan.FromMinutes 5.0))

              waitUntil "the child's pid file" 10.0 (fun () ->
                  File.Exists(d.Sub "child.pid")
                  && File.ReadAllText(d.Sub "child.pid").Trim() <> "")

              let child = int (File.ReadAllText(d.Sub "child.pid").Trim())
              ex.CancelAsync(id, CancellationToken.None).Wait()
              let s = waitFinal ex id 30.0
              Expect.equal s.State JobState.Cancelled "cancelled"

              waitUntil "the job's child to exit" 15.0 (fun () ->
                  LocalExecutor.StartTime child |> Option.ofNullable |> Option.isNone)
          }

          test "a second executor (the host restarted) finds the running job by its id and sees it complete" {
              use d = new TempDir("local-reattach")
              let first = LocalExecutor()

              let id =
                  submit first (spec "reattach" d.Path "sleep 2; echo done > out.txt" null (TimeSpan.FromMinutes 1.0))

              let second = LocalExecutor()
              let now = second.StatusAsync(id, CancellationToken.None).Result
              Expect.equal now.State JobState.Running "running, seen from the process table"
              let s = waitFinal second id 30.0
              Expect.equal s.State JobState.Completed "completed"
              Expect.isTrue (File.Exists(d.Sub "out.txt")) "the job's output"
          }

          test "a job id whose process is gone and left no exit code is Vanished" {
              use d = new TempDir("local-vanished")
              let id = LocalJobId.Format(Int32.MaxValue - 1, 12345L, d.Path)
              let s = LocalExecutor().StatusAsync(id, CancellationToken.None).Result
              Expect.equal s.State JobState.Vanished "vanished"
          }

          test "local job ids round-trip, including work directories with dots and at signs" {
              let dir = "/tmp/a.b@c/d"
              let parsed = LocalJobId.Parse(LocalJobId.Format(42, 987654321L, dir))
              Expect.equal (parsed.Pid, parsed.StartTime, parsed.WorkDirectory) (42, 987654321L, dir) "round trip"
              Expect.throws (fun () -> LocalJobId.Parse "12345" |> ignore) "not a local id"
          } ]
