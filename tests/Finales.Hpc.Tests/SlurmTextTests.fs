/// The Slurm executor's pure half: the batch script and the readings of captured real client output (Slurm 22.05).
module Finales.Hpc.Tests.SlurmTextTests

open System
open Expecto
open Finales.Hpc

/// `scontrol show job 1` of a job whose script exited 3 (captured from the private test cluster).
let scontrolFailed =
    """JobId=1 JobName=abc
   UserId=root(0) GroupId=root(0) MCS_label=N/A
   Priority=4294901759 Nice=0 Account=(null) QOS=(null)
   JobState=FAILED Reason=NonZeroExitCode Dependency=(null)
   Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0
   RunTime=00:00:00 TimeLimit=00:01:00 TimeMin=N/A
   SubmitTime=2026-11-29T20:34:51 EligibleTime=2026-11-29T20:34:51
   StartTime=2026-11-29T20:34:52 EndTime=2026-11-29T20:34:52 Deadline=N/A
   Partition=debug AllocNode:Sid=localhost:9240
   NodeList=vm
   Command=/tmp/hpc-slurm-try/job/b.sh
   WorkDir=/tmp/hpc-slurm-try/job
   StdOut=/tmp/hpc-slurm-try/job/slurm-1.out
   Power=
"""

/// The state lines of `scontrol show job` after `scancel` of a running job.
let scontrolCancelled =
    """JobId=2 JobName=can
   JobState=CANCELLED Reason=None Dependency=(null)
   Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:15
"""

/// A pending job that cannot start (asked for more CPUs than the node has).
let scontrolPending =
    """JobId=3 JobName=can
   JobState=PENDING Reason=PartitionConfig Dependency=(null)
   Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0
"""

let tests =
    testList
        "slurm text"
        [ test "scontrol of a failed job: state, reason and exit code" {
              let ok, job = SlurmText.TryParseScontrol scontrolFailed
              Expect.isTrue ok "parsed"
              Expect.equal job.SlurmState "FAILED" "state"
              Expect.equal job.Reason "NonZeroExitCode" "reason"
              Expect.equal job.ExitCode (Nullable 3) "exit code"
              let s = SlurmText.ToStatus("1", job)
              Expect.equal s.State JobState.Failed "mapped"
              Expect.stringContains s.Reason "NonZeroExitCode" "the status keeps Slurm's reason"
          }

          test "scontrol of a cancelled job: CANCELLED, Reason=None read as no reason, the signal kept" {
              let ok, job = SlurmText.TryParseScontrol scontrolCancelled
              Expect.isTrue ok "parsed"
              Expect.equal job.Reason null "None is no reason"
              Expect.equal job.Signal (Nullable 15) "SIGTERM"
              let s = SlurmText.ToStatus("2", job)
              Expect.equal s.State JobState.Cancelled "mapped"
              Expect.stringContains s.Reason "CANCELLED" "named"
          }

          test "scontrol of a pending job is Pending with its reason" {
              let ok, job = SlurmText.TryParseScontrol scontrolPending
              Expect.isTrue ok "parsed"
              Expect.equal (SlurmText.ToStatus("3", job)).State JobState.Pending "pending"
              Expect.equal job.Reason "PartitionConfig" "reason"
          }

          test "scontrol's answer for an unknown job is not a job" {
              let ok, _ =
                  SlurmText.TryParseScontrol "slurm_load_jobs error: Invalid job id specified\n"

              Expect.isFalse ok "no JobState="
          }

          test "sbatch --parsable: an id, an id with a cluster, and garbage" {
              let ok1, id1, _ = SlurmText.TryParseSbatch "1\n"
              Expect.isTrue ok1 "plain"
              Expect.equal id1 "1" "id"
              let ok2, id2, _ = SlurmText.TryParseSbatch "42;finalestest\n"
              Expect.isTrue ok2 "with cluster"
              Expect.equal id2 "42" "id before the cluster"

              let ok3, _, err =
                  SlurmText.TryParseSbatch "sbatch: error: Batch job submission failed"

              Expect.isFalse ok3 "not an id"
              Expect.stringContains err "not a job id" "says why"
          }

          test "squeue --name -o '%i %Z': the job whose work directory matches" {
              let out = "12 /scratch/a\n13 /scratch/b\n"
              Expect.equal (SlurmText.FindByWorkDirectory(out, "/scratch/b")) "13" "by directory"
              Expect.equal (SlurmText.FindByWorkDirectory(out, "/scratch/c")) null "none"
              Expect.equal (SlurmText.FindByWorkDirectory("", "/scratch/a")) null "empty queue"

              Expect.equal
                  (SlurmText.FindByWorkDirectory("14 /scratch/a\n9 /scratch/a\n21 /scratch/a\n", "/scratch/a"))
                  "21"
                  "the newest of several attempts"
          }

          test "squeue -h -o %T: a state, or nothing once the job has finished" {
              Expect.equal (SlurmText.ParseSqueueState "RUNNING\n") "RUNNING" "running"
              Expect.equal (SlurmText.ParseSqueueState "") null "finished jobs are not listed"
          }

          test "sacct -P rows, and the accounting-disabled answer (empty output)" {
              let ok, job = SlurmText.TryParseSacct "CANCELLED by 0|0:15|None\n"
              Expect.isTrue ok "parsed"
              Expect.equal (SlurmText.ToStatus("7", job)).State JobState.Cancelled "CANCELLED by 0"
              let okTimeout, timeout = SlurmText.TryParseSacct "TIMEOUT|0:0|TimeLimit\n"
              Expect.isTrue okTimeout "parsed"
              Expect.equal (SlurmText.ToStatus("8", timeout)).State JobState.Timeout "timeout"
              let okEmpty, _ = SlurmText.TryParseSacct ""
              Expect.isFalse okEmpty "nothing accounted"
          }

          test "every Slurm state name maps, and an unknown one is a failure that names it" {
              let names =
                  [ "PENDING", JobState.Pending
                    "CONFIGURING", JobState.Pending
                    "REQUEUED", JobState.Pending
                    "RUNNING", JobState.Running
                    "COMPLETING", JobState.Running
                    "COMPLETED", JobState.Completed
                    "FAILED", JobState.Failed
                    "BOOT_FAIL", JobState.Failed
                    "CANCELLED", JobState.Cancelled
                    "TIMEOUT", JobState.Timeout
                    "NODE_FAIL", JobState.NodeFail
                    "PREEMPTED", JobState.Preempted
                    "OUT_OF_MEMORY", JobState.OutOfMemory ]

              for (name, expected) in names do
                  let ok, s = SlurmText.TryMapState name
                  Expect.isTrue ok name
                  Expect.equal s expected name

              let s =
                  SlurmText.ToStatus("9", SlurmText.ScontrolJob("WEIRD", null, Nullable(), Nullable()))

              Expect.equal s.State JobState.Failed "unknown is a failure"
              Expect.stringContains s.Reason "unknown Slurm state WEIRD" "named"
          }

          test "--time is whole minutes rounded up, at least 1" {
              Expect.equal (SlurmText.TimeLimit(TimeSpan.FromSeconds 5.0)) "1" "5 s"
              Expect.equal (SlurmText.TimeLimit(TimeSpan.FromMinutes 1.0)) "1" "1 min"
              Expect.equal (SlurmText.TimeLimit(TimeSpan.FromSeconds 61.0)) "2" "61 s"
              Expect.equal (SlurmText.TimeLimit(TimeSpan.FromHours 24.0)) "1440" "a day"
          }

          test "the batch script: header from the spec and the options, modules, the job script, then the exit code" {
              let options =
                  SlurmOptions("compute", "chem42", [| "lammps/2021"; "packmol" |], [| "--mem=4G"; "--qos=short" |])

              let spec =
                  JobSpec("req-1", "/w", "lmp -in in.lammps", null, TimeSpan.FromMinutes 90.0, 8)

              let script = SlurmText.BatchScript(spec, "/w", options)
              let lines = script.Split('\n') |> List.ofArray

              for expected in
                  [ "#SBATCH --job-name=req-1"
                    "#SBATCH --time=90"
                    "#SBATCH --cpus-per-task=8"
                    "#SBATCH --output=/w/slurm-%j.out"
                    "#SBATCH --partition=compute"
                    "#SBATCH --account=chem42"
                    "#SBATCH --mem=4G"
                    "#SBATCH --qos=short"
                    "module load lammps/2021"
                    "module load packmol" ] do
                  Expect.contains lines expected expected

              let idx (l: string) = lines |> List.findIndex ((=) l)
              Expect.isLessThan (idx "module load packmol") (idx "bash finales-job.sh") "modules before the job"

              Expect.isLessThan
                  (idx "bash finales-job.sh")
                  (idx "echo $code > finales-exit-code")
                  "exit code after the job"

              Expect.equal
                  (lines |> List.filter ((<>) "") |> List.last)
                  "exit $code"
                  "the batch script exits with the job's code"

              let lastHeader = lines |> List.findIndexBack (fun l -> l.StartsWith "#SBATCH")

              let firstCommand =
                  lines |> List.findIndex (fun l -> l.Length > 0 && not (l.StartsWith "#"))

              Expect.isLessThan lastHeader firstCommand "sbatch reads options only before the first command"
          }

          test "without partition or account the script has no such lines" {
              let script =
                  SlurmText.BatchScript(
                      JobSpec("r", "/w", "true", null, TimeSpan.FromMinutes 1.0, 1),
                      "/w",
                      SlurmOptions.Default
                  )

              Expect.isFalse (script.Contains "--partition") "no partition"
              Expect.isFalse (script.Contains "--account") "no account"
          } ]
