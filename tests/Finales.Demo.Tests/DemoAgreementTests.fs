/// The demo's pieces agree with the core and the tenants: the simulated cell and the ASAB stock table, the cell
/// tenant's names, the point key join, the chemicals table.
module Finales.Demo.Tests.DemoAgreementTests

open System
open System.Diagnostics
open System.Globalization
open System.IO
open System.Threading
open System.Text.Json.Nodes
open Expecto
open Microsoft.Data.Sqlite
open Finales.Demo.Tests.DemoRun

/// The simulated cell, as the demo configures it, and the ASAB tenant mix from one stock table (they had drifted: EC 568.0 g
/// against 567.9975 g).
let stockTable =
    testList
        "stand-in cell"
        [ test "mixes from the same stocks, with the same numbers, as the ASAB tenant's stocks file" {
              let asab =
                  Finales.Tenants.Asab.StockSet.Load(
                      Path.Combine(repoRoot, "tenants", "Finales.Tenants.Asab", "stocks-2022.json")
                  )

              let cell =
                  Finales.Tenants.Cell.SimulatedConductivityCell
                      .LoadStocks(Finales.Cli.BundledData.AsabStocksFile)
                      .StockInputs

              let exact = { absolute = 0.0; relative = 0.0 }

              Expect.sequenceEqual
                  (cell |> Seq.map (fun s -> s.Name))
                  (asab.Stocks |> Seq.map (fun s -> s.Name))
                  "stock names"

              for c, a in Seq.zip cell asab.Stocks do
                  Expect.floatClose exact c.DensityGramsPerCubicCentimeter a.DensityGcm3 $"density of {a.Name}"

                  let total =
                      if c.TotalMassGrams.HasValue then
                          c.TotalMassGrams.Value
                      else
                          Seq.sum c.MassesGrams.Values

                  Expect.floatClose exact total a.TotalMassGrams $"total mass of {a.Name}"

                  Expect.sequenceEqual
                      (c.MassesGrams.Keys |> Seq.sort)
                      (a.MassesGrams.Keys |> Seq.sort)
                      $"chemicals of {a.Name}"

                  for KeyValue(chemical, grams) in a.MassesGrams do
                      Expect.floatClose exact c.MassesGrams[chemical] grams $"mass of {chemical} in {a.Name}"
          } ]

/// The simulated cell runs as `tenant cell` (what the demo starts) and still under its earlier name `tenant demo-cell`.
let cellTenant =
    let finales (args: string) =
        Finales.Integration.Tests.Harness.run "dotnet" (sprintf "\"%s\" %s" cliDll args) []

    testList
        "simulated cell tenant"
        [ for name in [ "cell"; "demo-cell" ] do
              test (sprintf "tenant %s --help describes the simulated two-electrode cell" name) {
                  let code, out = finales (sprintf "tenant %s --help" name)
                  Expect.equal code 0 (sprintf "exit code; output:\n%s" out)
                  Expect.stringContains out "Simulated two-electrode conductivity cell" "the help names the simulator"
                  Expect.stringContains out "conductivity/two_electrode" "the help names its capability"
              }

              test (sprintf "tenant %s without --config is refused with exit code 2" name) {
                  let code, out = finales (sprintf "tenant %s" name)
                  Expect.equal code 2 (sprintf "exit code; output:\n%s" out)
                  Expect.stringContains out "--config FILE is required" "names the missing option"
              } ]

/// The demo joins observations per point with the core's point key, as the optimizer tenant does.
let pointJoin =
    testList
        "point join"
        [ test "observations of one point join however the formulation is written, under the optimizer tenant's key" {
              let ro (pairs: (string * float) list) =
                  System.Collections.Generic.Dictionary<string, float>(dict pairs)
                  :> System.Collections.Generic.IReadOnlyDictionary<string, float>

              let observation (f, t, quantity, value) : Finales.Optimizer.Interop.ObservationSpec =
                  { Formulation = ro f
                    Temperature = t
                    Source = "lab"
                    Quantity = quantity
                    Value = value
                    Rating = System.Nullable()
                    Success = true
                    Deleted = false }

              // The same point as the cell writes it (SMILES, 6 decimals) and as the lab writes it (names, more digits).
              let bySmiles =
                  [ "[Li+].F[P-](F)(F)(F)(F)F", 0.05; "C1COC(=O)O1", 0.45; "COC(=O)OC", 0.5 ]

              let byName = [ "LiPF6", 0.0500000001; "EC", 0.4499999999; "DMC", 0.5 ]

              let points =
                  Finales.Demo.DemoMetrics.CompletePoints(
                      [ observation (bySmiles, 298.15, "conductivity", 0.9)
                        observation (byName, 298.150001, "viscosity", 1.2)
                        observation (byName, 298.150001, "density", 1.1) ],
                      Finales.Demo.DemoPreset.Electrolyte
                  )

              Expect.equal points.Count 1 "one complete point"

              Expect.equal
                  points[0].Key
                  (Finales.Tenants.Optimizer.Formulations.PointKey(ro bySmiles, 298.15, 6, 2))
                  "the optimizer tenant's key of the point"
          } ]

/// The demo's chemicals are rows of the core's chemicals table.
let chemistry =
    testList
        "chemistry"
        [ test "the demo's chemicals carry the core table's names, SMILES and InChIKeys" {
              for c in Finales.Tenants.Cell.DemoChemistry.All do
                  let row = Finales.Core.ScienceApi.FindChemical c.Name
                  Expect.equal (c.Name, c.Smiles, c.InChIKey) (row.Name, row.Smiles, row.InChIKey) c.Name
          } ]
