/// The Slurm executor's pure half (Finales.Core.Hpc.SlurmText): the batch script and the readings of captured real
/// client output (Slurm 22.05), and its C# facade.
module Finales.Hpc.Tests.SlurmTextTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Finales.Core.Interop
open Finales.Core.Hpc

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

let private ok (r: Result<'a, string>) =
    match r with
    | Ok v -> v
    | Error e -> failtestf "expected a value, got the error %s" e

let private noOptions =
    { Partition = None
      Account = None
      Modules = []
      ExtraSbatchArgs = [] }

/// A word sbatch takes as an option value: no whitespace, no '#', not empty.
let private word =
    Gen.elements (List.ofSeq "abcxyz019_-./%")
    |> Gen.nonEmptyListOf
    |> Gen.map (fun cs -> String(Array.ofList cs))

/// Headers as the executor writes them; extras are options the header does not write itself.
let private directivesGen =
    gen {
        let! name = word
        let! minutes = Gen.choose (1, 100000)
        let! cpus = Gen.choose (1, 512)
        let! dir = word |> Gen.map (fun w -> "/" + w)
        let! partition = Gen.optionOf word
        let! account = Gen.optionOf word

        let! extra =
            Gen.listOf (
                Gen.zip (Gen.elements [ "--mem="; "--qos="; "--gres="; "--constraint=" ]) word
                |> Gen.map (fun (k, v) -> k + v)
            )

        return
            { JobName = name
              TimeMinutes = int64 minutes
              Cpus = cpus
              Output = IO.Path.Combine(dir, "slurm-%j.out")
              WorkDirectory = dir
              Partition = partition
              Account = account
              Extra = extra }
    }

let private variants (name: string) =
    [ name
      name.ToLowerInvariant()
      name + "+"
      name + " by 0"
      "  " + name + "\n" ]

let tests =
    testList
        "slurm text"
        [ test "scontrol of a failed job: state, reason and exit code" {
              let job = ok (SlurmText.parseScontrol scontrolFailed)
              Expect.equal job.SlurmState "FAILED" "state"
              Expect.equal job.Reason (Some "NonZeroExitCode") "reason"
              Expect.equal job.ExitCode (Some 3) "exit code"
              let s = SlurmText.toStatus job
              Expect.equal s.State Failed "mapped"
              Expect.stringContains (Option.toObj s.Reason) "NonZeroExitCode" "the status keeps Slurm's reason"
          }

          test "scontrol of a cancelled job: CANCELLED, Reason=None read as no reason, the signal kept" {
              let job = ok (SlurmText.parseScontrol scontrolCancelled)
              Expect.equal job.Reason None "None is no reason"
              Expect.equal job.Signal (Some 15) "SIGTERM"
              let s = SlurmText.toStatus job
              Expect.equal s.State Cancelled "mapped"
              Expect.stringContains (Option.toObj s.Reason) "CANCELLED" "named"
          }

          test "scontrol of a pending job is Pending with its reason" {
              let job = ok (SlurmText.parseScontrol scontrolPending)
              Expect.equal (SlurmText.toStatus job).State Pending "pending"
              Expect.equal job.Reason (Some "PartitionConfig") "reason"
          }

          test "scontrol's answer for an unknown job is not a job" {
              let r = SlurmText.parseScontrol "slurm_load_jobs error: Invalid job id specified\n"

              Expect.isError r "no JobState="
          }

          test "sbatch --parsable: an id, an id with a cluster, and garbage" {
              Expect.equal (SlurmText.parseSbatch "1\n") (Ok "1") "plain"
              Expect.equal (SlurmText.parseSbatch "42;finalestest\n") (Ok "42") "id before the cluster"

              match SlurmText.parseSbatch "sbatch: error: Batch job submission failed" with
              | Ok id -> failtestf "not an id, but read %s" id
              | Error err -> Expect.stringContains err "not a job id" "says why"
          }

          test "squeue --name -o '%i %Z': the job whose work directory matches" {
              let out = "12 /scratch/a\n13 /scratch/b\n"
              Expect.equal (SlurmText.findByWorkDirectory out "/scratch/b") (Some "13") "by directory"
              Expect.equal (SlurmText.findByWorkDirectory out "/scratch/c") None "none"
              Expect.equal (SlurmText.findByWorkDirectory "" "/scratch/a") None "empty queue"

              Expect.equal
                  (SlurmText.findByWorkDirectory "14 /scratch/a\n9 /scratch/a\n21 /scratch/a\n" "/scratch/a")
                  (Some "21")
                  "the newest of several attempts"
          }

          test "squeue -h -o %T: a state, or nothing once the job has finished" {
              Expect.equal (SlurmText.parseSqueueState "RUNNING\n") (Some "RUNNING") "running"
              Expect.equal (SlurmText.parseSqueueState "") None "finished jobs are not listed"
          }

          test "sacct -P rows, and the accounting-disabled answer (empty output)" {
              let job = ok (SlurmText.parseSacct "CANCELLED by 0|0:15|None\n")
              Expect.equal (SlurmText.toStatus job).State Cancelled "CANCELLED by 0"
              let timeout = ok (SlurmText.parseSacct "TIMEOUT|0:0|TimeLimit\n")
              Expect.equal (SlurmText.toStatus timeout).State Timeout "timeout"
              Expect.isError (SlurmText.parseSacct "") "nothing accounted"
          }

          test "every Slurm state name maps, and an unknown one is a failure that names it" {
              let names =
                  [ "PENDING", Pending
                    "CONFIGURING", Pending
                    "REQUEUED", Pending
                    "RUNNING", Running
                    "COMPLETING", Running
                    "COMPLETED", Completed
                    "FAILED", Failed
                    "BOOT_FAIL", Failed
                    "CANCELLED", Cancelled
                    "TIMEOUT", Timeout
                    "NODE_FAIL", NodeFail
                    "PREEMPTED", Preempted
                    "OUT_OF_MEMORY", OutOfMemory ]

              for (name, expected) in names do
                  Expect.equal (SlurmText.mapState name) (Some expected) name

              let s =
                  SlurmText.toStatus
                      { SlurmState = "WEIRD"
                        Reason = None
                        ExitCode = None
                        Signal = None }

              Expect.equal s.State Failed "unknown is a failure"
              Expect.stringContains (Option.toObj s.Reason) "unknown Slurm state WEIRD" "named"
          }

          test "--time is whole minutes rounded up, at least 1" {
              Expect.equal (SlurmText.timeLimit (TimeSpan.FromSeconds 5.0)) "1" "5 s"
              Expect.equal (SlurmText.timeLimit (TimeSpan.FromMinutes 1.0)) "1" "1 min"
              Expect.equal (SlurmText.timeLimit (TimeSpan.FromSeconds 61.0)) "2" "61 s"
              Expect.equal (SlurmText.timeLimit (TimeSpan.FromHours 24.0)) "1440" "a day"
          }

          test "the batch script: header from the spec and the options, modules, the job script, then the exit code" {
              let options =
                  { Partition = Some "compute"
                    Account = Some "chem42"
                    Modules = [ "lammps/2021"; "packmol" ]
                    ExtraSbatchArgs = [ "--mem=4G"; "--qos=short" ] }

              let script =
                  SlurmText.batchScript "req-1" "/w" (TimeSpan.FromMinutes 90.0) 8 options

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
              let script = SlurmText.batchScript "r" "/w" (TimeSpan.FromMinutes 1.0) 1 noOptions

              Expect.isFalse (script.Contains "--partition") "no partition"
              Expect.isFalse (script.Contains "--account") "no account"
          }

          test
              "every known Slurm state name maps to exactly one open or final state, and every state but Vanished has one" {
              let groups =
                  SlurmText.knownStateNames |> List.map (fun n -> n, SlurmText.mapState n)

              for (n, s) in groups do
                  Expect.isSome s n

              Expect.equal (List.distinct SlurmText.knownStateNames) SlurmText.knownStateNames "no name twice"

              Expect.equal
                  (groups |> List.choose snd |> List.distinct |> List.sortBy string)
                  (JobPolicy.allStates |> List.filter ((<>) Vanished) |> List.sortBy string)
                  "every state a scheduler can report is reachable"
          }

          testProperty "a state name maps the same whatever its case, '+' suffix, 'by N' tail or surrounding blanks"
          <| fun (i: NonNegativeInt) ->
              let name = SlurmText.knownStateNames[i.Get % SlurmText.knownStateNames.Length]

              variants name
              |> List.forall (fun v -> SlurmText.mapState v = SlurmText.mapState name)

          testProperty "a name outside Slurm's state list maps to nothing, and its status is a failure naming it"
          <| fun (NonEmptyString s) ->
              let name = s.Trim().Split(' ').[0].TrimEnd('+').ToUpperInvariant()

              List.contains name SlurmText.knownStateNames
              || (SlurmText.mapState s = None
                  && (let st =
                          SlurmText.toStatus
                              { SlurmState = s
                                Reason = None
                                ExitCode = None
                                Signal = None }

                      st.State = Failed
                      && (Option.defaultValue "" st.Reason).Contains("unknown Slurm state " + s)))

          testProperty "the #SBATCH header reads back as written: parse (render d) = d"
          <| Prop.forAll (Arb.fromGen directivesGen) (fun d ->
              let script =
                  "#!/bin/bash\n"
                  + String.concat "\n" (SlurmText.renderDirectives d)
                  + "\nbash x\n"

              SlurmText.parseDirectives script = Ok d)

          testProperty "the batch script's header is the directives of its spec and options"
          <| Prop.forAll (Arb.fromGen directivesGen) (fun d ->
              let options =
                  { Partition = d.Partition
                    Account = d.Account
                    Modules = [ "lammps" ]
                    ExtraSbatchArgs = d.Extra }

              let limit = TimeSpan.FromMinutes(float d.TimeMinutes)

              let script = SlurmText.batchScript d.JobName d.WorkDirectory limit d.Cpus options

              SlurmText.parseDirectives script = Ok(
                  SlurmText.directives d.JobName d.WorkDirectory limit d.Cpus options
              )
              && SlurmText.parseDirectives script = Ok d)

          test "a header without a job name or with a bad --time is an error naming it" {
              match SlurmText.parseDirectives "#!/bin/bash\n#SBATCH --time=5\n" with
              | Ok _ -> failtest "no job name"
              | Error e -> Expect.stringContains e "--job-name=" "names the option"

              match
                  SlurmText.parseDirectives
                      "#!/bin/bash\n#SBATCH --job-name=a\n#SBATCH --time=soon\n#SBATCH --cpus-per-task=1\n#SBATCH --output=o\n#SBATCH --chdir=/w\n"
              with
              | Ok _ -> failtest "bad time"
              | Error e -> Expect.stringContains e "--time=soon" "names the value"
          }

          test "the facade: Try pattern, null for absent, the same readings as the core" {
              let okS, job, err = HpcSlurmText.TryParseScontrol scontrolFailed
              Expect.isTrue okS err
              Expect.equal job.ExitCode (Nullable 3) "exit code"
              Expect.equal job.Signal (Nullable 0) "signal"
              let status = HpcSlurmText.ToStatus job
              Expect.equal status.State HpcJobState.Failed "state"
              Expect.stringContains status.Reason "NonZeroExitCode" "reason"

              let okBad, bad, errBad = HpcSlurmText.TryParseScontrol "Invalid job id specified"
              Expect.isFalse okBad "not a job"
              Expect.isNull bad "no job"
              Expect.isNotEmpty errBad "says why"

              let okSacct, _, _ = HpcSlurmText.TryParseSacct ""
              Expect.isFalse okSacct "empty sacct"
              let okState, state, _ = HpcSlurmText.TryMapState "NODE_FAIL"
              Expect.isTrue okState "known"
              Expect.equal state HpcJobState.NodeFail "node fail"
              let okWeird, _, errWeird = HpcSlurmText.TryMapState "WEIRD"
              Expect.isFalse okWeird "unknown"
              Expect.stringContains errWeird "WEIRD" "named"
              Expect.isNull (HpcSlurmText.FindByWorkDirectory("", "/w")) "null when none"
              Expect.isNull (HpcSlurmText.ParseSqueueState "") "null when gone"

              let viaFacade =
                  HpcSlurmText.BatchScript(
                      "r",
                      "/w",
                      TimeSpan.FromMinutes 3.0,
                      2,
                      null,
                      "acc",
                      [| "m" |],
                      [| "--mem=1G" |]
                  )

              let viaCore =
                  SlurmText.batchScript
                      "r"
                      "/w"
                      (TimeSpan.FromMinutes 3.0)
                      2
                      { Partition = None
                        Account = Some "acc"
                        Modules = [ "m" ]
                        ExtraSbatchArgs = [ "--mem=1G" ] }

              Expect.equal viaFacade viaCore "same script"
          }

          test "the file names the batch script uses are the executors' JobFiles" {
              Expect.equal SlurmText.ExitCodeFile Finales.Hpc.JobFiles.ExitCode "exit code file"
              Expect.equal SlurmText.JobScriptFile Finales.Hpc.JobFiles.JobScript "job script"
          } ]
