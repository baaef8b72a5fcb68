/// The supervisor's decisions: properties over every state, evidence and attempt count.
module Finales.Hpc.Tests.JobPolicyTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Finales.Hpc

let private states = Enum.GetValues<JobState>() |> List.ofArray

type Arbitraries =
    static member State() : Arbitrary<JobState> = Gen.elements states |> Arb.fromGen

let private config =
    { FsCheckConfig.defaultConfig with
        arbitrary = [ typeof<Arbitraries> ]
        maxTest = 500 }

let tests =
    testList
        "job policy"
        [ testPropertyWithConfig config "success only with evidence, and never while the job is open"
          <| fun (state: JobState) (evidence: bool) (PositiveInt attempts) (PositiveInt max) ->
              let action = JobPolicy.Decide(state, evidence, attempts, max)
              (action = JobAction.Succeed) = (evidence && not (JobPolicy.IsOpen state))

          testPropertyWithConfig
              config
              "requeue only after TIMEOUT/NODE_FAIL/PREEMPTED without evidence, while attempts remain"
          <| fun (state: JobState) (evidence: bool) (PositiveInt attempts) (PositiveInt max) ->
              let action = JobPolicy.Decide(state, evidence, attempts, max)

              (action = JobAction.Requeue) = (JobPolicy.IsRequeueable state && not evidence && attempts < max)

          testPropertyWithConfig config "a retracted request is never requeued, and its verdict is the same otherwise"
          <| fun (state: JobState) (evidence: bool) (PositiveInt attempts) (PositiveInt max) ->
              let retracted = JobPolicy.Decide(state, evidence, attempts, max, true)
              let plain = JobPolicy.Decide(state, evidence, attempts, max)

              retracted <> JobAction.Requeue
              && (if plain = JobAction.Requeue then
                      retracted = JobAction.Fail
                  else
                      retracted = plain)

          testPropertyWithConfig config "the number of requeues is bounded: from attempt 1 a TIMEOUT loop stops at max"
          <| fun (PositiveInt max) ->
              let max = min max 50

              let rec loop attempts =
                  match JobPolicy.Decide(JobState.Timeout, false, attempts, max) with
                  | JobAction.Requeue -> loop (attempts + 1)
                  | a -> attempts, a

              loop 1 = (max, JobAction.Fail)

          test "FAILED, CANCELLED, OUT_OF_MEMORY and VANISHED without evidence fail at once" {
              for s in
                  [ JobState.Failed
                    JobState.Cancelled
                    JobState.OutOfMemory
                    JobState.Vanished
                    JobState.Completed ] do
                  Expect.equal (JobPolicy.Decide(s, false, 1, 3)) JobAction.Fail (string s)
          }

          testPropertyWithConfig config "backoff doubles from the initial delay and never exceeds the cap"
          <| fun (PositiveInt attempts) (PositiveInt initial) (PositiveInt cap) ->
              let i, c = TimeSpan.FromSeconds(float initial), TimeSpan.FromSeconds(float cap)
              let d = JobPolicy.Backoff(attempts, i, c)

              let expected =
                  min (float cap) (float initial * Math.Pow(2.0, float (min (attempts - 1) 30)))

              d <= c && abs (d.TotalSeconds - expected) < 1e-6

          test "Slurm-style state names in verdicts" {
              Expect.equal (JobPolicy.SlurmName JobState.OutOfMemory) "OUT_OF_MEMORY" "oom"
              Expect.equal (JobPolicy.SlurmName JobState.NodeFail) "NODE_FAIL" "node fail"
              Expect.equal (JobPolicy.SlurmName JobState.Cancelled) "CANCELLED" "cancelled"
          } ]
