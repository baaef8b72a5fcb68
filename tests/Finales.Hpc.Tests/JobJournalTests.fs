/// The job journal: rows survive reopening the file; cancel requests and verdicts are kept.
module Finales.Hpc.Tests.JobJournalTests

open System
open Expecto
open Finales.Hpc
open Finales.Hpc.Tests.Jobs

let tests =
    testList
        "job journal"
        [ test "a row written before and after submission is read back from a reopened file" {
              use d = new TempDir("journal")
              let path = d.Sub "jobs.db"

              do
                  use j = new JobJournal(path)
                  j.BeginSubmit("r1", "slurm", "/w/r1", 1)
                  Expect.equal (j.Get "r1").State JobJournal.Submitting "submitting before the id is known"
                  Expect.isNull (j.Get "r1").JobId "no id yet"
                  j.Submitted("r1", "17")
                  j.Seen("r1", JobStatus("17", JobState.Running, null, Nullable()))

              use j = new JobJournal(path)
              let row = j.Get "r1"

              Expect.equal
                  (row.JobId, row.Kind, row.WorkDirectory, row.Attempts, row.State)
                  ("17", "slurm", "/w/r1", 1, "Running")
                  "row"

              Expect.equal (j.Open() |> Seq.map (fun r -> r.Name) |> List.ofSeq) [ "r1" ] "open rows"
              j.BeginSubmit("r1", "slurm", "/w/r1", 2)
              j.Submitted("r1", "18")
              Expect.equal (j.Get "r1").JobIds "17 18" "every job id kept"

              let verdict =
                  JobVerdict(true, "18", JobState.Completed, 2, null, "", TimeSpan.FromSeconds 5.0)

              j.Decided("r1", verdict)
              Expect.equal (j.Get "r1").Success (Nullable true) "decided"
              Expect.isEmpty (j.Open()) "nothing open"
              Expect.isNull (j.Get "other") "unknown name"
          }

          test "a cancel request is kept, also for a name never submitted" {
              use d = new TempDir("journal-cancel")
              use j = new JobJournal(d.Sub "jobs.db")
              j.RequestCancel("r2", "local")
              Expect.isTrue (j.Get "r2").CancelRequested "kept"
              j.BeginSubmit("r3", "local", "/w", 1)
              j.RequestCancel("r3", "local")
              let row = j.Get "r3"
              Expect.isTrue row.CancelRequested "kept on an existing row"
              Expect.equal row.WorkDirectory "/w" "the row is otherwise unchanged"
          } ]
