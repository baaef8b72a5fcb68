module Finales.Optimizer.Tests.OptimizerJsonTests

open System.IO
open System.Text.Json
open Expecto
open Finales.OptimizerCli

/// The adapter as the old Outcome shape the assertions read.
let private outcome (ok: bool, value: string, error: string) =
    {| Ok = ok
       Value = value
       Error = error |}

[<Tests>]
let tests =
    testList
        "OptimizerJson"
        [ test "ChimeraJson returns the merits of the README case" {
              let o =
                  outcome (
                      OptimizerJson.TryChimera(
                          """{"objectives":[[1,5],[2,3],[0.5,1],[3,9],[1.5,7]],"tolerances":[0.5,0.2],"absolutes":[false,false],"percentiles":[false,false],"goals":["min","max"],"softness":0.001}"""
                      )
                  )

              Expect.isTrue o.Ok o.Error

              let m =
                  JsonDocument.Parse(o.Value).RootElement.GetProperty("merits").EnumerateArray()
                  |> Seq.map (fun e -> e.GetDouble())
                  |> Array.ofSeq

              Expect.floatClose { absolute = 1e-9; relative = 0.0 } m[4] 0.0 "best point"
              Expect.floatClose { absolute = 1e-9; relative = 0.0 } m[3] 1.0 "worst point"
          }
          test "ChimeraJson errors name the field and value" {
              let o =
                  outcome (OptimizerJson.TryChimera("""{"objectives":[[1,"x"]],"tolerances":[0.5,0.2]}"""))

              Expect.isFalse o.Ok "rejected"
              Expect.stringContains o.Error "objectives[0][1]" "names the cell"
          }
          test "SuggestJson proposes a feasible batch for the two-electrode limitations" {
              let lim =
                  Finales.Tests.RepoData.readCorpus "examples/limitations/electrolyte/flow.json"

              let req =
                  sprintf
                      """{"limitations": %s, "temperature": {"min": 280, "max": 320},
                   "objectives": [{"quantity":"conductivity","goal":"max","tolerance":0.1,"kind":"relative"}],
                   "observations": [
                     {"formulation":{"C1COC(=O)O1":0.3,"[Li+].F[P-](F)(F)(F)(F)F":0.1,"CCOC(=O)OC":0.6},"temperature":300,"source":"two_electrode","quantity":"conductivity","value":9.5},
                     {"formulation":{"C1COC(=O)O1":0.1,"[Li+].F[P-](F)(F)(F)(F)F":0.05,"CCOC(=O)OC":0.85},"temperature":290,"source":"two_electrode","quantity":"conductivity","value":6.1},
                     {"formulation":{"C1COC(=O)O1":0.2,"[Li+].F[P-](F)(F)(F)(F)F":0.12,"CCOC(=O)OC":0.68},"temperature":310,"source":"two_electrode","quantity":"conductivity","success":false}],
                   "batch_size": 2, "seed": 3, "target_source": "two_electrode", "candidates": 200}"""
                      lim

              let o = outcome (OptimizerJson.TrySuggest(req))
              Expect.isTrue o.Ok o.Error
              let s = JsonDocument.Parse(o.Value).RootElement.GetProperty("suggestions")
              Expect.equal (s.GetArrayLength()) 2 "batch of 2"

              for e in s.EnumerateArray() do
                  let total =
                      e.GetProperty("formulation").EnumerateObject()
                      |> Seq.sumBy (fun p -> p.Value.GetDouble())

                  Expect.floatClose { absolute = 1e-9; relative = 0.0 } total 1.0 "fractions sum to 1"
                  let emc = e.GetProperty("formulation").GetProperty("CCOC(=O)OC").GetDouble()
                  Expect.isGreaterThanOrEqual emc (0.4 - 1e-9) "EMC lower bound"
          }
          test "SuggestJson errors name the field and value" {
              let o =
                  outcome (
                      OptimizerJson.TrySuggest(
                          """{"limitations": {"formulation":[[{"chemical":{"SMILES":"A"},"fraction":[{"min":0,"max":1}]}]],"temperature":[300]}, "objectives":[{"quantity":"q","goal":"up"}]}"""
                      )
                  )

              Expect.isFalse o.Ok "rejected"
              Expect.stringContains o.Error "objectives[0].goal is 'up'" "names the goal"
          } ]
