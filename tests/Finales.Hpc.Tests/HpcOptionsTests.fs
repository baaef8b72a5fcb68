/// The Hpc configuration section: every bad value named, the executor and paths it gives.
module Finales.Hpc.Tests.HpcOptionsTests

open System
open System.IO
open Expecto
open Finales.Hpc

let tests =
    testList
        "hpc options"
        [ test "the defaults are valid: local executor, journal next to the tenant's" {
              let o = HpcOptions()
              Expect.isEmpty (o.Problems()) "valid"
              Expect.equal (o.CreateExecutor().Kind) "local" "local by default"

              Expect.equal
                  (o.JournalPathFor "/var/lib/finales/md-journal.db")
                  "/var/lib/finales/md-journal-jobs.db"
                  "next to it"

              Expect.equal (o.WorkDirectoryFor "abc") (Path.GetFullPath "md-jobs/abc") "under the work root"
          }

          test "slurm with partition, account, modules and extra options builds a Slurm executor with them" {
              let o =
                  HpcOptions(
                      Executor = "slurm",
                      Partition = "compute",
                      Account = "chem42",
                      Modules = [| "lammps/2021" |],
                      ExtraSbatchArgs = [| "--mem=4G" |]
                  )

              Expect.isEmpty (o.Problems()) "valid"

              match o.CreateExecutor() with
              | :? SlurmExecutor as s ->
                  Expect.equal (s.Options.Partition, s.Options.Account) ("compute", "chem42") "partition and account"
                  Expect.sequenceEqual s.Options.Modules [ "lammps/2021" ] "modules"
              | other -> failtestf "a Slurm executor, not %s" other.Kind
          }

          test "every bad value is named with the field" {
              let o =
                  HpcOptions(
                      Executor = "pbs",
                      WorkRoot = " ",
                      TimeLimitMinutes = 0.0,
                      Cpus = 0,
                      PollIntervalSeconds = -1.0,
                      MaxAttempts = 0,
                      RequeueBackoffSeconds = 5.0,
                      MaxRequeueBackoffSeconds = 1.0,
                      ExtraSbatchArgs = [| "mem=4G" |],
                      Modules = [| "" |]
                  )

              let problems = o.Problems() |> String.concat "\n"

              for expected in
                  [ "Hpc:Executor is 'pbs'"
                    "Hpc:WorkRoot is empty"
                    "Hpc:TimeLimitMinutes is 0"
                    "Hpc:Cpus is 0"
                    "Hpc:PollIntervalSeconds is -1"
                    "Hpc:MaxAttempts is 0"
                    "Hpc:MaxRequeueBackoffSeconds is 1"
                    "Hpc:ExtraSbatchArgs has 'mem=4G'"
                    "Hpc:Modules has ''" ] do
                  Expect.stringContains problems expected expected

              Expect.throws (fun () -> o.CreateExecutor() |> ignore) "no executor from invalid options"
          } ]
