module Finales.Core.Tests.ScienceApiTests

open System.Collections.Generic
open System.IO
open Expecto
open Finales.Core

let private dict (pairs: (string * float) list) : IReadOnlyDictionary<string, float> =
    let d = Dictionary<string, float>()

    for (k, v) in pairs do
        d[k] <- v

    d :> IReadOnlyDictionary<string, float>

let private lp30 =
    StockInput("LP30", 1.2879, dict [ "LiPF6", 151.905; "EC", 567.9975; "DMC", 567.9975 ])

let private stocks: IReadOnlyList<StockInput> =
    ResizeArray
        [ lp30
          StockInput("DMC", 1.0635, dict [ "DMC", 1063.5 ])
          StockInput("LP57", 1.1964, dict [ "LiPF6", 151.905; "EC", 313.3485; "EMC", 731.1465 ])
          StockInput("EC:EMC", 1.1013, dict [ "EC", 330.39; "EMC", 770.91 ], System.Nullable 1101.3) ]

[<Tests>]
let tests =
    testList
        "ScienceApi"
        [ test "Mix agrees with the core and keys results by chemical name" {
              let target = dict [ "LiPF6", 0.05; "C1COC(=O)O1", 0.3; "EMC", 0.45; "DMC", 0.2 ]
              let out = ScienceApi.Mix(stocks, target)

              Expect.equal
                  (out.VolumeFractions |> Seq.map (fun kv -> kv.Key) |> List.ofSeq)
                  [ "LP30"; "DMC"; "LP57"; "EC:EMC" ]
                  "stock order"

              Expect.floatClose
                  { absolute = 1e-12; relative = 0.0 }
                  (out.VolumeFractions |> Seq.sumBy (fun kv -> kv.Value))
                  1.0
                  "sum"

              Expect.isLessThan out.Deviation 1e-4 "r10 is an interior point"
              Expect.isTrue (out.Achieved.ContainsKey "EC") "achieved by name"
          }
          test "a prepared plan publishes the reachable maxima" {
              let plan = ScienceApi.PrepareStocks stocks
              Expect.floatClose Accuracy.veryHigh plan.MaximumFractions["DMC"] 1.0 "DMC"
              Expect.isLessThan plan.MaximumFractions["LiPF6"] 0.1 "salt is limited"
          }
          test "invalid input throws ScienceException naming the field and value" {
              let bad =
                  ResizeArray [ StockInput("X", -1.0, dict [ "EC", 1.0 ]) ] :> IReadOnlyList<_>

              let ex =
                  Expect.throwsT<ScienceException> (fun () -> ScienceApi.PrepareStocks bad |> ignore) "bad density"

              ignore ex

              try
                  ScienceApi.Mix(stocks, dict [ "EC", -0.5; "EMC", 1.5 ]) |> ignore
                  failtest "accepted a negative target"
              with :? ScienceException as e ->
                  Expect.stringContains e.Message "target fraction of EC is -0.5" "message"
          }
          test "electrolyte, measurement and conductivity through the facade" {
              let f = dict [ "LiPF6", 0.05; "EC", 0.45; "PC", 0.5 ]
              let e = ScienceApi.Electrolyte(f, 298.15)
              Expect.isTrue (e.DensityGramsPerCubicCentimeter > 1.0 && e.DensityGramsPerCubicCentimeter < 1.6) "density"
              let noise = SeededNoise 1UL

              let m =
                  ScienceApi.MeasureElectrolyte(f, 298.15, System.Func<float> noise.NextStandardNormal)

              Expect.notEqual m.DensityGramsPerCubicCentimeter e.DensityGramsPerCubicCentimeter "noisy"
              let c = ScienceApi.Conductivity(f, 298.15)

              Expect.floatClose
                  { absolute = 0.0; relative = 1e-12 }
                  c.ConductivitySiemensPerMeter
                  0.40273998296518115
                  "c01"

              Expect.equal c.Rating 1 "extrapolated"

              try
                  ScienceApi.Conductivity(f, 200.0) |> ignore
                  failtest "accepted 200 K"
              with :? ScienceException as ex ->
                  Expect.stringContains ex.Message "temperature is 200 K" "message"
          }
          test "routes through the facade" {
              let read f =
                  File.ReadAllText(Path.Combine(TestData.fixtureGraphDir, f))

              let g = ScienceApi.LoadGraph(read "nodes.csv", read "edges.csv", read "tubing.csv")
              let r = g.FindRoute("A0.0", "M1.0")
              Expect.equal (List.ofSeq r.Nodes) [ "A0.0"; "V1.0"; "V1.2"; "M1.1"; "M1.0" ] "pump -> mixer"
              Expect.equal (List.ofSeq r.ValveSettings) [ { Valve = "V1"; Port = 2 } ] "settings"

              Expect.floatClose
                  Accuracy.veryHigh
                  (g.DeadVolumeMilliliters r.Nodes)
                  r.DeadVolumeMilliliters
                  "dead volume"

              try
                  g.FindRoute("Reservoir1", "waste_1") |> ignore
                  failtest "found an invalid path"
              with :? ScienceException as e ->
                  Expect.stringContains e.Message "no path from 'Reservoir1' to 'waste_1'" "message"
          }
          test "FindChemical resolves InChIKeys" {
              let c = ScienceApi.FindChemical "KMTRUDSVKNLOMY-UHFFFAOYSA-N"
              Expect.equal c.Name "EC" "EC"
              Expect.throwsT<ScienceException> (fun () -> ScienceApi.FindChemical "water" |> ignore) "unknown"
          } ]
