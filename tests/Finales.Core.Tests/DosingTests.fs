module Finales.Core.Tests.DosingTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Finales.Core
open Finales.Core.Units

/// A dosing problem: 2..4 stocks over chemicals A, B, C, their pumps, the settings and solver
/// volume fractions; `Requested` is the composition those volume fractions make exactly.
type DosingProblem =
    { Settings: DosingSettings
      Pumps: DosingPump list
      MolesPerMl: Map<string, (string * float<mol / mL>)[]>
      VolumeFractions: (string * float)[]
      Requested: (string * float)[] }

let private prime (_: string) (_: string) = 0.3<mL>

type DosingArbitraries =
    static member Problem() : Arbitrary<DosingProblem> =
        let between (lo: float) (hi: float) =
            Gen.choose (0, 10000) |> Gen.map (fun i -> lo + (hi - lo) * float i / 10000.0)

        let stock i =
            gen {
                let! moles =
                    [ "A"; "B"; "C" ]
                    |> List.map (fun c -> between 0.0 0.02 |> Gen.map (fun n -> c, n))
                    |> Gen.sequenceToList

                let moles =
                    match moles |> List.filter (fun (_, n) -> n > 1e-4) with
                    | [] -> [ "A", 0.01 ]
                    | xs -> xs

                let! capacity = Gen.elements [ 1.0; 2.5; 5.0; 10.0; 25.0 ]
                let! minFlow = between 1e-4 1e-2
                let! maxFlow = between 0.05 1.0
                let! weight = Gen.frequency [ 1, Gen.constant 0.0; 1, between 0.0 0.01; 4, between 0.0 1.0 ]
                let name = sprintf "S%d" i

                return
                    name,
                    moles |> List.map (fun (c, n) -> c, n * 1.0<mol / mL>) |> Array.ofList,
                    { Stock = name
                      Pump = sprintf "P%d" i
                      SyringeNominal = capacity * 1.0<mL>
                      MinFlow = minFlow * 1.0<mL / s>
                      MaxFlow = maxFlow * 1.0<mL / s>
                      Capacity = capacity * 1.0<mL> },
                    weight
            }

        gen {
            let! n = Gen.choose (2, 4)
            let! stocks = [ 0 .. n - 1 ] |> List.map stock |> Gen.sequenceToList
            let! flow = between 0.01 1.0
            let! flush = between 0.1 2.0
            let! sample = between 1.0 6.0

            let total = stocks |> List.sumBy (fun (_, _, _, w) -> w)

            let fractions =
                stocks
                |> List.map (fun (name, _, _, w) -> name, (if total > 0.0 then w / total else 0.0))
                |> Array.ofList

            let moles = stocks |> List.map (fun (name, m, _, _) -> name, m) |> Map.ofList

            return
                { Settings =
                    { MinDose = 0.01<mL>
                      TotalFlow = flow * 1.0<mL / s>
                      Flush = flush * 1.0<mL>
                      Sample = sample * 1.0<mL>
                      FillMargin = 0.2<mL> }
                  Pumps = stocks |> List.map (fun (_, _, p, _) -> p)
                  MolesPerMl = moles
                  VolumeFractions = fractions
                  Requested = Dosing.moleFractions (fractions |> Array.map (fun (s, v) -> s, v * 1.0<mL>)) moles }
        }
        |> Arb.fromGen

let private config =
    { FsCheckConfig.defaultConfig with
        arbitrary = [ typeof<DosingArbitraries> ]
        maxTest = 300 }

let private plan (p: DosingProblem) =
    Dosing.plan p.Settings p.Pumps p.MolesPerMl prime p.Requested p.VolumeFractions

let private pumpOf (p: DosingProblem) (stock: string) =
    p.Pumps |> List.find (fun x -> x.Stock = stock)

let private close = { absolute = 1e-9; relative = 1e-9 }

[<Tests>]
let tests =
    testList
        "Dosing"
        [ testPropertyWithConfig
              config
              "volume fractions sum to 1 and every kept dose is at least the resolution"
              (fun (p: DosingProblem) ->
                  match plan p with
                  | Error _ -> ()
                  | Ok r ->
                      Expect.floatClose close (r.VolumeFractions |> Array.sumBy snd) 1.0 "fractions sum to 1"
                      let total = p.Settings.Flush + p.Settings.Sample

                      for stock, v in r.VolumeFractions do
                          Expect.isTrue
                              (v = 0.0 || v * total >= p.Settings.MinDose * (1.0 - 1e-12))
                              (sprintf "%s: %g x %g mL is 0 or >= the resolution" stock v (float total)))
          testPropertyWithConfig
              config
              "every flow lies in its syringe's window and the flows add up to the total"
              (fun (p: DosingProblem) ->
                  match plan p with
                  | Error _ -> ()
                  | Ok r ->
                      for d in r.Doses do
                          let pump = pumpOf p d.Stock

                          Expect.isTrue
                              (d.Flow >= pump.MinFlow && d.Flow <= pump.MaxFlow)
                              (sprintf "%s flow %g" d.Pump (float d.Flow))

                          Expect.isLessThanOrEqual (d.Needed + p.Settings.FillMargin) pump.Capacity "fits the syringe"

                      Expect.floatClose
                          close
                          (r.Doses |> Array.sumBy (fun d -> float d.Flow))
                          (float r.TotalFlow)
                          "flows add up"

                      Expect.floatClose
                          close
                          (r.Doses |> Array.sumBy (fun d -> float d.Sample))
                          (float p.Settings.Sample)
                          "sample volumes add up"

                      Expect.floatClose
                          close
                          (r.Doses |> Array.sumBy (fun d -> float d.Flush))
                          (float p.Settings.Flush)
                          "flush volumes add up")
          testPropertyWithConfig
              config
              "the planned volumes reproduce a mixable target when no dose is dropped"
              (fun (p: DosingProblem) ->
                  let total = p.Settings.Flush + p.Settings.Sample

                  let nothingDropped =
                      p.VolumeFractions
                      |> Array.forall (fun (_, v) -> v = 0.0 || v * total >= p.Settings.MinDose)

                  match plan p with
                  | Ok r when nothingDropped ->
                      for chemical, x in p.Requested do
                          let achieved = r.Achieved |> Array.find (fun (c, _) -> c = chemical) |> snd
                          Expect.floatClose close achieved x (sprintf "mole fraction of %s" chemical)

                      Expect.floatClose { absolute = 1e-9; relative = 0.0 } r.Deviation 0.0 "no deviation"
                      Expect.equal r.MixRating 5 "a perfect mix rates 5"
                  | _ -> ())
          testPropertyWithConfig
              config
              "a plan is refused for want of a flow window exactly when the windows do not meet"
              (fun (p: DosingProblem) ->
                  match plan p with
                  | Error(NoFlowWindow(_, _, _, lo, hi)) ->
                      Expect.isGreaterThan lo (hi * (1.0 - 1e-9)) "the lowest total flow exceeds the highest"
                  | Ok r ->
                      let used = r.Doses |> Array.map (fun d -> d.VolumeFraction, pumpOf p d.Stock)
                      let lo = used |> Array.map (fun (v, pump) -> pump.MinFlow / v) |> Array.max
                      let hi = used |> Array.map (fun (v, pump) -> pump.MaxFlow / v) |> Array.min
                      Expect.isLessThanOrEqual lo (hi * (1.0 - 1e-9)) "the windows meet"
                  | Error _ -> ())
          testPropertyWithConfig
              config
              "prime volumes are asked for the used stocks only, in dose order"
              (fun (p: DosingProblem) ->
                  let asked = ResizeArray<string>()

                  let record stock pump =
                      asked.Add stock
                      prime stock pump

                  match Dosing.plan p.Settings p.Pumps p.MolesPerMl record p.Requested p.VolumeFractions with
                  | Ok r -> Expect.sequenceEqual asked (r.Doses |> Array.map (fun d -> d.Stock)) "one call per dose"
                  | Error _ -> ())
          testPropertyWithConfig
              config
              "the mix rating lies in 0..5 and the distance is a symmetric metric"
              (fun (p: DosingProblem) ->
                  let a = p.Requested
                  let b = p.VolumeFractions
                  let rating = Dosing.mixRating a b
                  Expect.isTrue (rating >= 0 && rating <= 5) (sprintf "rating %d" rating)
                  Expect.floatClose close (Dosing.distance a b) (Dosing.distance b a) "symmetric"
                  Expect.equal (Dosing.distance a a) 0.0 "zero to itself")
          test "the generated problems give both plans and refusals, so the properties above are not vacuous" {
              let problems =
                  Gen.sampleWithSeed (Rnd(42UL)) 20 400 (DosingArbitraries.Problem().Generator)

              let plans = problems |> Array.filter (fun p -> Result.isOk (plan p)) |> Array.length
              Expect.isGreaterThan plans 100 (sprintf "%d of 400 problems planned" plans)
              Expect.isLessThan plans 400 (sprintf "%d of 400 problems planned; some must be refused" plans)
          }
          test "every dose below the resolution is an error that says so" {
              let r =
                  Dosing.plan
                      { MinDose = 10.0<mL>
                        TotalFlow = 0.1<mL / s>
                        Flush = 0.5<mL>
                        Sample = 3.0<mL>
                        FillMargin = 0.2<mL> }
                      []
                      Map.empty
                      prime
                      [| "A", 1.0 |]
                      [| "S0", 1.0 |]

              match r with
              | Error e ->
                  Expect.equal (DosingError.message e) "every dose is below the dosing resolution" "the message"
              | Ok _ -> failtest "a 3.5 mL sample cannot hold a 10 mL dose"
          }
          test "a syringe too small for its stock is named with the volumes" {
              let pump =
                  { Stock = "S0"
                    Pump = "P0"
                    SyringeNominal = 1.0<mL>
                    MinFlow = 0.001<mL / s>
                    MaxFlow = 1.0<mL / s>
                    Capacity = 1.0<mL> }

              let r =
                  Dosing.plan
                      { MinDose = 0.01<mL>
                        TotalFlow = 0.1<mL / s>
                        Flush = 0.5<mL>
                        Sample = 3.0<mL>
                        FillMargin = 0.2<mL> }
                      [ pump ]
                      (Map.ofList [ "S0", [| "A", 0.01<mol / mL> |] ])
                      prime
                      [| "A", 1.0 |]
                      [| "S0", 1.0 |]

              match r with
              | Error e ->
                  Expect.equal
                      (DosingError.message e)
                      "stock 'S0' needs 4 mL in pump P0, more than its 1 mL syringe holds"
                      "names stock, volume, pump and syringe"
              | Ok _ -> failtest "3.8 mL + margin do not fit a 1 mL syringe"
          } ]
