module Finales.Optimizer.Tests.BatchSelectionTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Finales.Optimizer

/// A batch problem: suggestions over chemicals A..D (some repeated after rounding), targets,
/// own requests already taken, a batch size and a check that refuses some requests.
type BatchProblem =
    { Suggestions: ((string * float)[] * float) list
      Targets: string list
      Taken: Set<string>
      Batch: int
      RefuseEvery: int }

type BatchArbitraries =
    static member Problem() : Arbitrary<BatchProblem> =
        let suggestion =
            gen {
                let! weights = Gen.listOfLength 4 (Gen.choose (0, 20))
                let weights = if List.sum weights = 0 then [ 1; 0; 0; 0 ] else weights
                let total = float (List.sum weights)
                let! t = Gen.choose (280, 284)

                return
                    List.zip [ "A"; "B"; "C"; "D" ] weights
                    |> List.map (fun (c, w) -> c, float w / total)
                    |> Array.ofList,
                    float t
            }

        gen {
            let! suggestions = Gen.listOf suggestion
            let! targets = Gen.elements [ [ "q/m" ]; [ "q/m"; "r/n" ] ]
            let! batch = Gen.choose (0, 6)
            let! refuse = Gen.choose (0, 4)
            let! takenFrom = Gen.subListOf suggestions

            let taken =
                takenFrom
                |> List.collect (fun (f, t) ->
                    let key =
                        Finales.Core.PointKey.create
                            { FractionDigits = 2
                              TemperatureDigits = 0 }
                            (BatchSelection.roundToSum 2 f)
                            t
                        |> Finales.Core.PointKey.value

                    targets |> List.map (fun target -> target + "|" + key))
                |> Set.ofList

            return
                { Suggestions = suggestions
                  Targets = targets
                  Taken = taken
                  Batch = batch
                  RefuseEvery = refuse }
        }
        |> Arb.fromGen

let private config =
    { FsCheckConfig.defaultConfig with
        arbitrary = [ typeof<BatchArbitraries> ]
        maxTest = 300 }

let private select (p: BatchProblem) =
    let mutable calls = 0

    let check (target: string) (_: (string * float)[]) (_: float) =
        calls <- calls + 1

        if p.RefuseEvery > 0 && calls % p.RefuseEvery = 0 then
            Error "refused by the check"
        else
            Ok target

    BatchSelection.select p.Batch 2 0 p.Targets id p.Taken check p.Suggestions

[<Tests>]
let tests =
    testList
        "BatchSelection"
        [ testPropertyWithConfig
              config
              "never more points than the batch, each with at least one request"
              (fun (p: BatchProblem) ->
                  let s = select p
                  Expect.isLessThanOrEqual s.Points.Length p.Batch "at most the batch"

                  for point in s.Points do
                      Expect.isNonEmpty point.Requests "a point has a request")
          testPropertyWithConfig
              config
              "never re-requests a point the tenant has pending or observed, nor one point twice"
              (fun (p: BatchProblem) ->
                  let s = select p

                  for point in s.Points do
                      for target in point.Requests do
                          Expect.isFalse
                              (p.Taken.Contains(target + "|" + point.Key))
                              (sprintf "%s|%s is taken" target point.Key)

                  let keys = s.Points |> List.map (fun x -> x.Key)
                  Expect.equal (List.distinct keys) keys "keys are unique")
          testPropertyWithConfig
              config
              "selected fractions are positive and sum to exactly 1 at the digits"
              (fun (p: BatchProblem) ->
                  for point in (select p).Points do
                      Expect.all point.Fractions (fun (_, v) -> v > 0.0) "positive"

                      Expect.floatClose
                          { absolute = 1e-9; relative = 0.0 }
                          (point.Fractions |> Array.sumBy snd)
                          1.0
                          "sum is 1")
          testPropertyWithConfig config "the same problem gives the same batch" (fun (p: BatchProblem) ->
              Expect.equal (select p) (select p) "deterministic")
          testPropertyWithConfig
              config
              "posting a room's worth of points never takes the open requests above the cap"
              (fun (cap: int) (openRequests: int) (perPoint: int) (batch: int) ->
                  let cap, openRequests, perPoint, batch =
                      abs cap % 200, abs openRequests % 200, 1 + abs perPoint % 4, abs batch % 10

                  let room = BatchSelection.room cap openRequests perPoint batch
                  Expect.isGreaterThanOrEqual room 0 "never negative"
                  Expect.isLessThanOrEqual room batch "at most the batch"

                  if room > 0 then
                      Expect.isLessThanOrEqual (openRequests + room * perPoint) cap "within the cap")
          test "a refused point is skipped naming its key and why; a partly refused one is kept and reported" {
              let f = [| "A", 0.5; "B", 0.5 |]

              let s =
                  BatchSelection.select
                      3
                      2
                      0
                      [ "q/m"; "r/n" ]
                      id
                      (Set.ofList [ "q/m|A=0.50;B=0.50;@300" ])
                      (fun t _ _ -> if t = "r/n" then Ok t else Error "no")
                      [ f, 300.0; f, 300.0; [| "A", 0.25; "B", 0.75 |], 301.0 ]

              Expect.equal (s.Points |> List.map (fun p -> p.Requests)) [ [ "r/n" ]; [ "r/n" ] ] "r/n kept twice"

              Expect.equal
                  s.Skipped
                  [ "A=0.50;B=0.50;@300: partly skipped: duplicate of an own q/m request"
                    "A=0.50;B=0.50;@300: suggested twice in this batch"
                    "A=0.25;B=0.75;@301: partly skipped: no" ]
                  "reasons name the key"
          }
          test "roundToSum drops zeros and gives the remainder to the largest fraction" {
              let r =
                  BatchSelection.roundToSum 6 [ "a", 0.33333333; "b", 0.33333333; "c", 0.33333334; "d", 1e-9 ]

              Expect.equal (r |> Array.map fst) [| "a"; "b"; "c" |] "d dropped, order kept"
              Expect.floatClose Accuracy.veryHigh (r |> Array.sumBy snd) 1.0 "sum is 1"

              Expect.floatClose
                  Accuracy.veryHigh
                  (snd r[0])
                  0.333334
                  "the first of the tied largest takes the remainder"
          } ]
