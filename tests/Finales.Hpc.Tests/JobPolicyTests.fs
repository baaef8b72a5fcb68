/// The supervisor's decisions (Finales.Core.Hpc.JobPolicy): properties over every state, evidence and attempt count,
/// and the C# facade the supervisor calls.
module Finales.Hpc.Tests.JobPolicyTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Finales.Core.Interop
open Finales.Core.Hpc

type Arbitraries =
    static member State() : Arbitrary<JobState> =
        Gen.elements JobPolicy.allStates |> Arb.fromGen

let private config =
    { FsCheckConfig.defaultConfig with
        arbitrary = [ typeof<Arbitraries> ]
        maxTest = 500 }

let private decide state evidence attempts max =
    JobPolicy.decide state evidence attempts max false

/// The C# contract's states (Finales.Hpc.JobState) and the facade's, by name.
let private contractStates = Enum.GetValues<Finales.Hpc.JobState>() |> List.ofArray

let tests =
    testList
        "job policy"
        [ testPropertyWithConfig config "success only with evidence, and never while the job is open"
          <| fun (state: JobState) (evidence: bool) (PositiveInt attempts) (PositiveInt max) ->
              let action = decide state evidence attempts max
              (action = Succeed) = (evidence && not (JobPolicy.isOpen state))

          testPropertyWithConfig
              config
              "requeue only after TIMEOUT/NODE_FAIL/PREEMPTED without evidence, while attempts remain"
          <| fun (state: JobState) (evidence: bool) (PositiveInt attempts) (PositiveInt max) ->
              let action = decide state evidence attempts max

              (action = Requeue) = (JobPolicy.isRequeueable state && not evidence && attempts < max)

          testPropertyWithConfig config "a retracted request is never requeued, and its verdict is the same otherwise"
          <| fun (state: JobState) (evidence: bool) (PositiveInt attempts) (PositiveInt max) ->
              let retracted = JobPolicy.decide state evidence attempts max true
              let plain = decide state evidence attempts max

              retracted <> Requeue
              && (if plain = Requeue then
                      retracted = Fail
                  else
                      retracted = plain)

          testPropertyWithConfig config "the number of requeues is bounded: from attempt 1 a TIMEOUT loop stops at max"
          <| fun (PositiveInt max) ->
              let max = min max 50

              let rec loop attempts =
                  match decide Timeout false attempts max with
                  | Requeue -> loop (attempts + 1)
                  | a -> attempts, a

              loop 1 = (max, Fail)

          test "FAILED, CANCELLED, OUT_OF_MEMORY and VANISHED without evidence fail at once" {
              for s in [ Failed; Cancelled; OutOfMemory; Vanished; Completed ] do
                  Expect.equal (decide s false 1 3) Fail (string s)
          }

          testPropertyWithConfig config "backoff doubles from the initial delay and never exceeds the cap"
          <| fun (PositiveInt attempts) (PositiveInt initial) (PositiveInt cap) ->
              let i, c = TimeSpan.FromSeconds(float initial), TimeSpan.FromSeconds(float cap)
              let d = JobPolicy.backoff attempts i c

              let expected =
                  min (float cap) (float initial * Math.Pow(2.0, float (min (attempts - 1) 30)))

              d <= c && abs (d.TotalSeconds - expected) < 1e-6

          test "Slurm-style state names in verdicts" {
              Expect.equal (JobPolicy.slurmName OutOfMemory) "OUT_OF_MEMORY" "oom"
              Expect.equal (JobPolicy.slurmName NodeFail) "NODE_FAIL" "node fail"
              Expect.equal (JobPolicy.slurmName Cancelled) "CANCELLED" "cancelled"
          }

          testPropertyWithConfig config "every state's Slurm-style name maps back to that state"
          <| fun (state: JobState) -> state = Vanished || SlurmText.mapState (JobPolicy.slurmName state) = Some state

          test "allStates lists every case once" {
              let cases = Reflection.FSharpType.GetUnionCases typeof<JobState>
              Expect.equal (List.length JobPolicy.allStates) cases.Length "one per case"
              Expect.equal (List.distinct JobPolicy.allStates) JobPolicy.allStates "no duplicates"
          }

          test "the C# contract's JobState, the facade's HpcJobState and the core's cases agree by name and order" {
              Expect.equal
                  (contractStates |> List.map string)
                  (Enum.GetValues<HpcJobState>() |> Seq.map string |> List.ofSeq)
                  "contract vs facade"

              Expect.equal
                  (contractStates |> List.map string)
                  (JobPolicy.allStates |> List.map string)
                  "contract vs core"

              for s in contractStates do
                  Expect.equal (Finales.Hpc.CoreJobStates.FromCore(Finales.Hpc.CoreJobStates.ToCore s)) s (string s)
                  Expect.equal (string (Finales.Hpc.CoreJobStates.ToCore s)) (string s) "same name"
          }

          testPropertyWithConfig config "the facade decides as the core does"
          <| fun (state: JobState) (evidence: bool) (PositiveInt attempts) (PositiveInt max) (retracted: bool) ->
              let facadeState = Enum.Parse<HpcJobState>(string state)

              let facade = HpcJobPolicy.Decide(facadeState, evidence, attempts, max, retracted)

              string facade = string (JobPolicy.decide state evidence attempts max retracted)
              && HpcJobPolicy.IsOpen facadeState = JobPolicy.isOpen state
              && HpcJobPolicy.IsRequeueable facadeState = JobPolicy.isRequeueable state
              && HpcJobPolicy.SlurmName facadeState = JobPolicy.slurmName state ]
