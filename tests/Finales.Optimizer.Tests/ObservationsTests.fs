module Finales.Optimizer.Tests.ObservationsTests

open System
open System.Text.Json
open Expecto
open FsCheck
open FsCheck.FSharp
open Finales.Core
open Finales.Optimizer

/// Observed values at a few points (chemicals A, B, EC on a coarse grid, two temperatures), several per point, of two
/// objectives, some failed.
type ObservedValues = { Values: ObservedValue list }

/// One result of objective `x` (quantity q, method m): a readable formulation, or an unreadable one.
type ResultCase =
    { Readable: bool
      Fraction: int
      Value: int }

type ObservationArbitraries =
    static member Values() : Arbitrary<ObservedValues> =
        let value =
            gen {
                let! a = Gen.choose (0, 4)
                let! chemical = Gen.elements [ "B"; "EC"; "C1COC(=O)O1" ]
                let! t = Gen.elements [ 300.0; 310.0 ]
                let! objective = Gen.elements [ "x"; "y" ]
                let! success = Gen.frequency [ 4, Gen.constant true; 1, Gen.constant false ]
                let! v = Gen.choose (-100, 100)
                let! id = Gen.choose (0, Int32.MaxValue)
                let fractions = [ "A", float a / 4.0; chemical, 1.0 - float a / 4.0 ]

                let rule =
                    { FractionDigits = 6
                      TemperatureDigits = 2 }

                return
                    { Objective = objective
                      PointKey = PointKey.create rule fractions t |> PointKey.value
                      Formulation = PointKey.roundedFormulation rule fractions
                      Temperature = t * 1.0<Units.K>
                      Value = if success then Some(float v) else None
                      Rating = None
                      Success = success
                      ResultId = Guid(id, 0s, 0s, Array.zeroCreate 8)
                      RequestId = "" }
            }

        gen {
            let! values = Gen.listOf value
            return { Values = values }
        }
        |> Arb.fromGen

    static member Results() : Arbitrary<ResultCase list> =
        gen {
            let! readable = Gen.frequency [ 3, Gen.constant true; 1, Gen.constant false ]
            let! fraction = Gen.choose (1, 9)
            let! value = Gen.choose (-50, 50)

            return
                { Readable = readable
                  Fraction = fraction
                  Value = value }
        }
        |> Gen.listOf
        |> Arb.fromGen

let private config =
    { FsCheckConfig.defaultConfig with
        arbitrary = [ typeof<ObservationArbitraries> ]
        maxTest = 200 }

let private rule =
    { FractionDigits = 6
      TemperatureDigits = 2 }

let private source =
    { Name = "x"
      Quantity = "q"
      Method = "m"
      Path = "x.values"
      Aggregate = "mean" }

let private element (json: string) =
    JsonDocument.Parse(json).RootElement.Clone()

/// Result i: readable cases name EC and DMC by SMILES; unreadable ones give EC in mass fractions.
let private resultOf (i: int) (case: ResultCase) : ResultRecord =
    let x = float case.Fraction / 10.0

    let formulation =
        if case.Readable then
            sprintf
                """[{"chemical":{"SMILES":"C1COC(=O)O1"},"fraction":%g,"fraction_type":"molPerMol"},{"chemical":{"SMILES":"COC(=O)OC"},"fraction":%g,"fraction_type":"molPerMol"}]"""
                x
                (1.0 - x)
        else
            """[{"chemical":{"SMILES":"C1COC(=O)O1"},"fraction":1,"fraction_type":"gPerG"}]"""

    { Id = Guid(i + 1, 0s, 0s, Array.zeroCreate 8)
      RequestId = ""
      Quantity = "q"
      Method = "m"
      Status = "original"
      Body = element (sprintf """{"parameters":{"m":{"formulation":%s,"temperature":300}}}""" formulation)
      Data = element (sprintf """{"x":{"values":[%d],"meta":{"success":true}}}""" case.Value) }

[<Tests>]
let tests =
    testList
        "Observations"
        [ testPropertyWithConfig config "the join never loses or duplicates a value" (fun (v: ObservedValues) ->
              let groups = Observations.groups v.Values

              let order (xs: ObservedValue list) =
                  xs |> List.sortBy (fun x -> x.ResultId, x.Objective, x.Value)

              order (List.concat groups) = order v.Values
              && groups |> List.forall (fun g -> not g.IsEmpty))

          testPropertyWithConfig
              config
              "one group per point key, every value in the group of its key"
              (fun (v: ObservedValues) ->
                  let keys =
                      Observations.groups v.Values
                      |> List.map (List.map (fun x -> x.PointKey) >> List.distinct)

                  keys |> List.forall (fun k -> k.Length = 1)
                  && (keys |> List.map List.head |> List.distinct).Length = keys.Length)

          testPropertyWithConfig
              config
              "repeated values of an objective at one point are averaged, and any failure marks the point failed"
              (fun (v: ObservedValues) ->
                  let points = Observations.join [ "x"; "y" ] v.Values

                  points
                  |> List.forall (fun p ->
                      let mine = v.Values |> List.filter (fun x -> x.PointKey = p.PointKey)
                      let failed = mine |> List.exists (fun x -> not x.Success)

                      let meansAgree =
                          [ "x"; "y" ]
                          |> List.forall (fun name ->
                              let xs =
                                  mine
                                  |> List.filter (fun x -> x.Objective = name)
                                  |> List.choose (fun x -> x.Value)

                              match xs, p.Values.TryFind name with
                              | [], None -> true
                              | xs, Some m -> abs (m - List.average xs) <= 1e-9
                              | _ -> false)

                      meansAgree
                      && p.Failed = failed
                      && p.Complete = (not failed && p.Values.Count = 2)))

          testPropertyWithConfig
              config
              "a result whose formulation does not parse is reported by id, and every readable one gives its value"
              (fun (cases: ResultCase list) ->
                  let results = cases |> List.mapi resultOf
                  let x = Observations.extract [ source ] (fun _ -> None) 0.0 rule results

                  let idsOf (readable: bool) =
                      List.zip cases results
                      |> List.filter (fun (c, _) -> c.Readable = readable)
                      |> List.map (fun (_, r) -> r.Id)

                  let reported =
                      idsOf false
                      |> List.forall (fun id ->
                          x.Unreadable
                          |> List.filter (fun u -> u.Contains(id.ToString("D")))
                          |> List.length = 1)

                  reported
                  && x.Unreadable.Length = (idsOf false).Length
                  && (x.Values |> List.map (fun v -> v.ResultId)) = idsOf true
                  && List.zip (cases |> List.filter (fun c -> c.Readable)) x.Values
                     |> List.forall (fun (c, v) -> v.Value = Some(float c.Value)))

          test "values are read at the point of the result, by canonical key, and the request is the fallback" {
              let request =
                  element
                      """{"m":{"formulation":[{"chemical":{"SMILES":"C1COC(=O)O1"},"fraction":0.3000004},{"chemical":{"name":"DMC"},"fraction":0.7}],"temperature":298.149}}"""

              let result =
                  { Id = Guid.NewGuid()
                    RequestId = "r1"
                    Quantity = "q"
                    Method = "m"
                    Status = "amended"
                    Body = element """{"data":{}}"""
                    Data = element """{"x":{"values":[1,2,6],"meta":{"success":true,"rating":4}}}""" }

              let x =
                  Observations.extract
                      [ { source with Aggregate = "median" } ]
                      (fun id -> if id = "r1" then Some request else None)
                      1.0
                      rule
                      [ result ]

              Expect.isEmpty x.Unreadable "readable"
              let v = List.exactlyOne x.Values
              Expect.equal v.Value (Some 2.0) "the median of the values"
              Expect.equal v.Rating (Some 4.0) "the rating from meta"

              Expect.equal
                  v.Formulation
                  [ "KMTRUDSVKNLOMY-UHFFFAOYSA-N", 0.3; "IEJIGPNLZYLLBP-UHFFFAOYSA-N", 0.7 ]
                  "canonical keys, rounded fractions"

              Expect.floatClose Accuracy.veryHigh (float v.Temperature) 298.15 "temperature rounded to 0.01 K"

              Expect.equal
                  v.PointKey
                  (PointKey.create rule [ "EC", 0.3; "DMC", 0.7 ] 298.15 |> PointKey.value)
                  "the core's point key"
          }

          test "deleted, low-rated and data-less results are counted or skipped, not read" {
              let ok =
                  resultOf
                      0
                      { Readable = true
                        Fraction = 5
                        Value = 1 }

              let x =
                  Observations.extract
                      [ source ]
                      (fun _ -> None)
                      2.0
                      rule
                      [ { ok with Status = "deleted" }
                        { ok with
                            Data = element """{"x":{"values":[1],"meta":{"rating":1}}}""" }
                        { ok with
                            Data = element """{"y":{"values":[1]}}""" }
                        { ok with
                            Data = element """{"x":{"values":["a"]}}""" } ]

              Expect.equal x.Deleted 1 "one deleted"
              Expect.equal x.BelowMinRating 1 "one rated below 2"
              Expect.isEmpty x.Values "no value"
              Expect.equal x.Unreadable.Length 1 "the non-numeric value is reported"
              Expect.stringContains x.Unreadable.Head "data.x.values holds no finite number" "named"
          } ]
