/// The worker against the simulated lab: plans, routes, flows, bookkeeping, results, failure modes.
module Finales.Asab.Tests.WorkerTests

open System
open System.IO
open System.Text.Json
open Expecto
open Finales.Core
open Finales.Devices
open Finales.Devices.Fluidics
open Finales.Devices.Lims
open Finales.Hosting
open Finales.Tenants.Asab
open Finales.Integration.Tests.Harness
open Finales.Asab.Tests.AsabWorld

let density (o: WorkOutcome) = o.Data.GetProperty("density")
let viscosity (o: WorkOutcome) = o.Data.GetProperty("viscosity")
let meta (q: JsonElement) = q.GetProperty("meta")

let values (q: JsonElement) =
    [ for v in q.GetProperty("values").EnumerateArray() -> v.GetDouble() ]

let reported (o: WorkOutcome) =
    [ for c in o.Data.GetProperty("run_info").GetProperty("formulation").EnumerateArray() ->
          (ScienceApi.FindChemical(c.GetProperty("chemical").GetProperty("InChIKey").GetString())).Name,
          c.GetProperty("fraction").GetDouble() ]
    |> Map.ofList

let request1 = [ "LiPF6", 0.07; "EC", 0.3; "EMC", 0.33; "DMC", 0.3 ]

let expectFailed (o: WorkOutcome) (fragment: string) =
    Expect.isFalse o.Success (sprintf "failed outcome expected (%s)" fragment)

    for q in [ density o; viscosity o ] do
        Expect.isFalse ((meta q).GetProperty("success").GetBoolean()) "meta.success false"
        Expect.equal ((meta q).GetProperty("rating").GetInt32()) 0 "rating 0"
        Expect.isEmpty (values q) "no values"
        Expect.stringContains ((meta q).GetProperty("message").GetString()) fragment "message says why"

    Expect.equal
        (o.Data.GetProperty("run_info").GetProperty("internal_reference").GetString().Length)
        36
        "internal reference"

let tests =
    testList
        "worker"
        [ test "the plan projects onto the stocks, keeps every flow inside its syringe's limits and rates the mix" {
              let w = worker (settings 1)

              try
                  let p = w.Planner
                  let rng = Random 5

                  for _ in 1..30 do
                      let req = p.ParseRequest(AsabTenant.RandomParameters(rng, stocks))
                      let plan = p.Plan req
                      let sum = plan.SolverVolumeFractions.Values |> Seq.sum
                      Expect.floatClose Accuracy.high sum 1.0 "volume fractions sum to 1"

                      for d in plan.Doses do
                          let syringe = SyringeSize.FromNominalVolume 25.0

                          Expect.isGreaterThanOrEqual
                              d.FlowMlPerS
                              syringe.MinFlowMlPerS
                              (sprintf "%s flow >= min" d.Pump)

                          Expect.isLessThanOrEqual d.FlowMlPerS syringe.MaxFlowMlPerS (sprintf "%s flow <= max" d.Pump)

                          Expect.floatClose
                              Accuracy.high
                              d.FlowMlPerS
                              (d.VolumeFraction * plan.TotalFlowMlPerS)
                              "flow = fraction x total"

                      let total = plan.Doses |> Seq.sumBy (fun d -> d.SampleMl)
                      Expect.floatClose Accuracy.high total p.SampleMl "sample volume = dead volume to the inlet + 3 mL"
                      Expect.floatClose Accuracy.high p.SampleMl (p.MixerToCellInletMl + 3.0) "sample volume definition"
                  // A reachable request: achieved = the solver's, rating 5.
                  let req = p.ParseRequest(parameters request1 (Some 298.15))
                  let plan = p.Plan req
                  let solver = stocks.Plan.Solve(fractions request1)

                  for KeyValue(k, v) in solver.Achieved do
                      Expect.floatClose
                          Accuracy.medium
                          (match plan.Achieved.TryGetValue k with
                           | true, x -> x
                           | _ -> 0.0)
                          v
                          (sprintf "achieved %s equals the solver's" k)

                  Expect.equal plan.MixRating (AsabPlanner.MixRating(req.Fractions, plan.Achieved)) "rating formula"
                  // Rating formula by hand: error 0.25 -> floor(3.75) = 3; error >= 1 -> 0.
                  Expect.equal
                      (AsabPlanner.MixRating(fractions [ "EC", 1.0 ], fractions [ "EC", 0.75; "DMC", 0.0 ]))
                      3
                      "rating 3"

                  Expect.equal
                      (AsabPlanner.MixRating(fractions [ "EC", 1.0 ], fractions [ "DMC", 1.0; "EMC", 1.0 ]))
                      0
                      "rating 0"
              finally
                  dispose w
          }

          test "a request is mixed along the graph's routes, measured and reported with the achieved formulation" {
              let w = worker (settings 3)

              try
                  let lab = lab w
                  let mutable cell = Map.empty

                  lab.PropertyOverride <-
                      Func<string, SampleProperties>(fun _ ->
                          let c = lab.CellComposition()
                          cell <- c |> Seq.map (fun kv -> kv.Key, kv.Value) |> Map.ofSeq
                          let e = ScienceApi.Electrolyte(c, 298.15)
                          SampleProperties(e.DensityGramsPerCubicCentimeter, e.ViscosityMillipascalSeconds))

                  let id, o = run w (parameters request1 (Some 298.15))
                  Expect.isTrue o.Success o.Message
                  let r = w.Runs |> Seq.find (fun r -> r.RequestId = id)
                  let plan = r.Plan
                  // Routes: fill from the reservoir, mix through the mixer into the cell, drain with gas, clean with solvent.
                  let routes = r.Steps |> Seq.map (fun s -> s.Phase, s.Route) |> Seq.toList
                  Expect.contains routes ("fill", "Reservoir1 -> V1.1 -> V1.0 -> A0.0") "LP30 filled from Reservoir1"

                  let sampleSteps =
                      r.Steps |> Seq.filter (fun s -> s.Phase = "mix: provide sample") |> Seq.toList

                  Expect.equal sampleSteps.Length plan.Doses.Count "every used pump provides the sample"

                  for s in sampleSteps do
                      Expect.stringContains
                          s.Route
                          "M1.0 -> V7.0 -> V7.1 -> densiViscoIN -> densiViscoOUT"
                          "through the mixer and the cell"

                      let d = plan.Doses |> Seq.find (fun d -> d.Pump = s.Pump)
                      Expect.floatClose Accuracy.high s.FlowMlPerS d.FlowMlPerS "flow of the plan"

                  Expect.isTrue
                      (r.Steps
                       |> Seq.exists (fun s -> s.Phase = "drain" && s.Route.StartsWith "pressurizedGas -> V8.1"))
                      "drained with gas"

                  Expect.isTrue
                      (r.Steps
                       |> Seq.exists (fun s -> s.Phase = "clean" && s.Route.Contains "densiViscoIN"))
                      "cleaned through the cell"
                  // The cell held exactly the achieved mixture.
                  for KeyValue(k, v) in plan.Achieved do
                      Expect.floatClose
                          { absolute = SimulatedAsabLab.LedgerTolerance
                            relative = 0.0 }
                          (cell.TryFind k |> Option.defaultValue 0.0)
                          v
                          (sprintf "cell %s = achieved" k)
                  // Reported: the achieved formulation, not the requested one; every replicate; ratings.
                  let rep = reported o

                  for KeyValue(k, v) in plan.Achieved do
                      if v > 0.0 then
                          Expect.floatClose Accuracy.high rep[k] v (sprintf "reported %s achieved" k)

                  Expect.notEqual rep["LiPF6"] 0.07 "not the requested salt fraction (0.07 is not reachable)"
                  Expect.equal (values (density o)).Length 4 "5 rows minus the conditioning fill"
                  Expect.equal (values (viscosity o)).Length 4 "viscosity replicates"

                  let truth =
                      ScienceApi.Electrolyte(
                          fractions (plan.Achieved |> Seq.map (fun kv -> kv.Key, kv.Value) |> List.ofSeq),
                          298.15
                      )

                  for d in values (density o) do
                      Expect.floatClose
                          { absolute = 6e-4; relative = 0.0 }
                          d
                          truth.DensityGramsPerCubicCentimeter
                          "density of the achieved mixture"

                  for v in values (viscosity o) do
                      Expect.floatClose
                          { absolute = 0.0; relative = 0.03 }
                          v
                          truth.ViscosityMillipascalSeconds
                          "viscosity of the achieved mixture"

                  Expect.equal
                      ((meta (density o)).GetProperty("rating").GetInt32())
                      (min plan.MixRating 5)
                      "rating min(mix, floor(10/2))"

                  Expect.equal ((density o).GetProperty("temperature").GetDouble()) 298.15 "temperature"
                  // Bookkeeping: the worker's reservoir volumes equal the ledger's; the balance saw what entered the waste.
                  for s in stocks.Stocks do
                      Expect.floatClose
                          { absolute = 1e-6; relative = 0.0 }
                          (w.ReservoirMl[s.Name])
                          (lab.Fluidics.VolumeMl s.Reservoir)
                          (sprintf "%s reservoir" s.Name)

                  let wasteMass = lab.Fluidics.MassGrams "waste_1"

                  Expect.floatClose
                      { absolute = 2e-4; relative = 0.0 }
                      (r.WasteGainGrams.Value)
                      wasteMass
                      "the balance weighed what entered the waste"
                  // Conservation: what left the reservoirs and the solvent is in the waste, the syringes or the tubing.
                  let taken =
                      stocks.Stocks
                      |> Seq.sumBy (fun s -> s.VolumeMl - lab.Fluidics.VolumeMl s.Reservoir)

                  let solvent = 2000.0 - lab.Fluidics.VolumeMl "Solvent"

                  let inSyringes =
                      [ "A0.0"; "B0.0"; "C0.0"; "D0.0"; "E0.0" ] |> List.sumBy lab.Fluidics.VolumeMl

                  let waste = lab.Fluidics.VolumeMl "waste_1"
                  Expect.isLessThanOrEqual (waste + inSyringes) (taken + solvent + 1e-6) "nothing created"

                  Expect.isGreaterThan
                      (waste + inSyringes)
                      (taken + solvent - 1.0)
                      "at most the pump lines' dead volume is in the tubing"

                  Expect.floatClose
                      { absolute = 1e-9; relative = 0.0 }
                      (lab.CellLiquidMl())
                      0.0
                      "the cell is drained after cleaning"
              finally
                  dispose w
          }

          test "same seed, same request: the same replicate values; another seed: different noise" {
              let once seed =
                  let w = worker (settings seed)

                  try
                      let _, o = run w (parameters request1 None)
                      values (density o), values (viscosity o)
                  finally
                      dispose w

              let a = once 11
              let b = once 11
              let c = once 12
              Expect.equal a b "reproducible"
              Expect.notEqual a c "seeded noise"
          }

          test
              "the limitations are the stocks' reachable fractions in the FINALES2 language and admit the example requests" {
              let w = worker (settings 1)

              try
                  use doc = JsonDocument.Parse(w.LimitationsJson())
                  let entry = doc.RootElement[0]
                  Expect.equal (entry.GetProperty("quantity").GetString()) "density" "quantity"
                  Expect.equal (entry.GetProperty("method").GetString()) "vibrating_tube_densimetry" "method"

                  let parsed =
                      match Limitations.parse (entry.GetProperty "limitations") with
                      | Ok p -> p
                      | Error e -> failtestf "limitations parse: %s" e

                  let comps = entry.GetProperty("limitations").GetProperty("formulation")[0]
                  Expect.equal (comps.GetArrayLength()) 4 "LiPF6, EC, EMC, DMC"

                  for c in comps.EnumerateArray() do
                      let name =
                          ScienceApi.FindChemical(c.GetProperty("chemical").GetProperty("InChIKey").GetString()).Name

                      let mx = (c.GetProperty "fraction").[0].GetProperty("max").GetDouble()

                      Expect.floatClose
                          { absolute = 1e-6; relative = 0.0 }
                          mx
                          (stocks.Plan.MaximumFractions[name])
                          (sprintf "%s max" name)

                  let rng = Random 9

                  for _ in 1..40 do
                      let p = AsabTenant.RandomParameters(rng, stocks)
                      Expect.isTrue ((Limitations.check [ parsed ] p).IsOk) (sprintf "admitted: %s" (p.GetRawText()))

                  let hot = parameters request1 (Some 310.0)
                  Expect.isTrue ((Limitations.check [ parsed ] hot).IsError) "310 K outside 298.15 only"
              finally
                  dispose w
          }

          test "requests it cannot serve get failed results naming the problem, without moving liquid" {
              let w = worker (settings 1)

              try
                  let _, o = run w (parameters [ "LiPF6", 0.1; "PC", 0.9 ] None)
                  expectFailed o "PC, which no stock contains"
                  let _, o = run w (parameters request1 (Some 320.0))
                  expectFailed o "temperature is 320 K; this lab measures at 298.15 K only"

                  let bad =
                      JsonSerializer.SerializeToElement(dict [ "formulation", box [ dict [ "fraction", box 1.0 ] ] ])

                  let _, o = run w bad
                  expectFailed o "neither an InChIKey nor a SMILES"
                  Expect.isTrue (w.Runs |> Seq.forall (fun r -> r.Steps.Count = 0)) "no hardware step"
              finally
                  dispose w
          }

          test "no total flow within the syringes' limits is a failed result naming the stock" {
              let s = settings 1
              s.MinDoseMl <- 0.0
              let w = worker s

              try
                  let _, o = run w (parameters [ "DMC", 0.99999; "EMC", 0.00001 ] None)
                  expectFailed o "no total flow keeps every pump within its syringe's limits"
              finally
                  dispose w
          }

          test "an empty reservoir is a failed result naming the reservoir" {
              let dir = tempDir "asab-stocks"
              let small = Path.Combine(dir, "stocks.json")

              File.WriteAllText(
                  small,
                  File
                      .ReadAllText(stocksFile)
                      .Replace(
                          "\"volume_ml\": 100 },\n    { \"name\": \"LP57\"",
                          "\"volume_ml\": 3 },\n    { \"name\": \"LP57\""
                      )
              )

              let s = AsabTenant.SimulatedConfig(graphDir, small, 0.001, 1, tempDir "asab-lab")
              let w = worker s

              try
                  Expect.equal (w.Planner.Stocks["LP30"].VolumeMl) 3.0 "LP30 has 3 mL"
                  let _, o = run w (parameters [ "LiPF6", 0.09; "EC", 0.45; "DMC", 0.46 ] None)
                  expectFailed o "reservoir Reservoir1 (stock 'LP30') holds 3 mL"
              finally
                  dispose w
          }

          test
              "an instrument without valid replicates or without an answer gives a failed result, and the cell is cleaned" {
              let s = settings 1
              s.InvalidDensityProbability <- 1.0
              let w = worker s

              try
                  let _, o = run w (parameters request1 None)
                  Expect.isFalse o.Success "failed"
                  Expect.isEmpty (values (density o)) "no density"

                  Expect.stringContains
                      ((meta (density o)).GetProperty("message").GetString())
                      "no valid density replicate"
                      "says why"

                  Expect.isTrue ((meta (viscosity o)).GetProperty("success").GetBoolean()) "viscosity still valid"
                  Expect.equal (values (viscosity o)).Length 4 "viscosity replicates"
              finally
                  dispose w

              let s = settings 2
              s.LimsTimeoutSeconds <- 1.0
              let w = worker s

              try
                  (lab w).PropertyOverride <-
                      Func<string, SampleProperties>(fun _ -> raise (DeviceException "simulated instrument fault"))

                  let _, o = run w (parameters request1 None)
                  expectFailed o "did not appear within"

                  Expect.floatClose
                      { absolute = 1e-9; relative = 0.0 }
                      ((lab w).CellLiquidMl())
                      0.0
                      "cleaned after the failure"
              finally
                  dispose w
          }

          test "configuration problems are named at start" {
              let s = settings 1
              s.Pumps[0].Stock <- "LP99"
              s.TotalFlowMlPerS <- -1.0
              Expect.throwsT<AsabConfigurationException> (fun () -> worker s |> ignore) "invalid settings refused"
              let s = settings 1
              s.TotalFlowMlPerS <- -1.0
              s.Pumps[1].SyringeMl <- 7.0
              let problems = s.Problems() |> String.concat "; "
              Expect.stringContains problems "Asab:TotalFlowMlPerS is -1" "names key and value"
              Expect.stringContains problems "Asab:Pumps:1:SyringeMl is 7" "syringe"
              let s = settings 1
              s.Pumps[0].Stock <- "LP99"

              let msg =
                  (try
                      worker s |> ignore
                      ""
                   with :? AsabConfigurationException as e ->
                       e.Message)

              Expect.stringContains msg "pump A0.0 doses stock 'LP99'" "unknown stock"
              let s = settings 1
              s.Simulated <- false
              s.BalanceVessel <- ""
              s.LimsInDirectory <- tempDir "lims-in"
              s.LimsOutDirectory <- tempDir "lims-out"

              let msg =
                  (try
                      worker s |> ignore
                      ""
                   with :? AsabConfigurationException as e ->
                       e.Message)

              Expect.stringContains msg "no CETONI Qmix SDK binding" "real hardware without Qmix fails clearly"
          } ]
