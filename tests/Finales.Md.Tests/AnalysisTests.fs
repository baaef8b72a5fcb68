module Finales.Md.Tests.AnalysisTests

open System.IO
open System.Text.Json
open Expecto
open Finales.Core
open Finales.Md.Analysis
open Finales.Md.Tests.Support

let private pairs =
    [ { Name = "A-A"
        TypesA = [| 1 |]
        TypesB = [| 1 |]
        RMax = 10.0
        Bins = 50 }
      { Name = "A-B"
        TypesA = [| 1 |]
        TypesB = [| 2 |]
        RMax = 10.0
        Bins = 50 } ]

let private report =
    lazy (analyse (options ions pairs) (Synthetic.dumpLines (walk 3UL 200 100 0.4)))

[<Tests>]
let tests =
    testList
        "md.analysis"
        [ testCase "the report JSON carries every quantity"
          <| fun () ->
              use doc = JsonDocument.Parse(ReportJson.report report.Value)
              let root = doc.RootElement
              Expect.equal (root.GetProperty("frames").GetInt32()) 100 "frames"
              Expect.equal (root.GetProperty("frame_interval_fs").GetDouble()) 10.0 "10 steps of 1 fs"
              Expect.equal (root.GetProperty("species").GetArrayLength()) 2 "two species"
              let s0 = root.GetProperty("species").[0]
              Expect.isGreaterThan (s0.GetProperty("diffusion_m2_per_s").GetDouble()) 0.0 "D"
              Expect.equal (s0.GetProperty("msd_A2").GetArrayLength()) 100 "MSD at every lag"
              Expect.isGreaterThan (root.GetProperty("conductivity_nernst_einstein_S_per_m").GetDouble()) 0.0 "NE"
              Expect.equal (root.GetProperty("transference_number").ValueKind) JsonValueKind.Number "t+"
              Expect.equal (root.GetProperty("density_g_per_cm3").ValueKind) JsonValueKind.Null "no log, no density"
              Expect.equal (root.GetProperty("rdfs").GetArrayLength()) 2 "two RDFs"

          testCase "the RDFs as RDFOutput are valid against the corpus result schema"
          <| fun () ->
              let capability =
                  JsonDocument.Parse(
                      File.ReadAllText(
                          Finales.Tests.RepoData.corpus
                              "serialized_quantities/radial_density_function/molacular_dynamics.json"
                      )
                  )

              let schema = capability.RootElement.GetProperty "json_schema_result_output"

              match CapabilitySchema.compile schema, ReportJson.rdfOutput report.Value "X100 Y100" with
              | Ok compiled, Ok json ->
                  use doc = JsonDocument.Parse json
                  Expect.isEmpty (CapabilitySchema.validate compiled doc.RootElement) "valid RDFOutput"
                  Expect.equal (doc.RootElement.GetProperty("pair_title").[1].GetString()) "A-B" "pair titles"
              | a, b -> failtestf "%A %A" a b

          testCase "RDFOutput needs one radius grid"
          <| fun () ->
              let r = report.Value

              let other =
                  { r.Rdfs[1] with
                      R = Array.map ((*) 2.0) r.Rdfs[1].R }

              match ReportJson.rdfOutput { r with Rdfs = [ r.Rdfs[0]; other ] } "X" with
              | Ok _ -> failtest "two grids accepted"
              | Error e -> Expect.stringContains e "another radius grid" "says why"

          testCase "MaxFrames stops the reading"
          <| fun () ->
              let r =
                  analyse
                      { options ions [] with
                          MaxFrames = Some 30 }
                      (Synthetic.dumpLines (walk 3UL 20 100 0.4))

              Expect.equal r.Frames 30 "frames read"

          testCase "unevenly spaced frames are refused naming the timesteps"
          <| fun () ->
              let frames = Synthetic.frames (walk 3UL 10 5 0.4) |> List.ofSeq

              let uneven =
                  frames |> List.mapi (fun i f -> if i = 3 then { f with Timestep = 35L } else f)

              let e = analysisError (options ions []) (uneven |> Seq.collect Dump.write)
              Expect.stringContains e "timestep 35 follows 20" "names them"

          testCase "an RDF range beyond half the box is refused"
          <| fun () ->
              let e =
                  analysisError
                      (options ions [ { pairs[0] with RMax = 25.0 } ])
                      (Synthetic.dumpLines (walk 3UL 10 5 0.4))

              Expect.stringContains e "RMAX 25 A exceeds half the shortest box edge (20 A)" "names the values"

          testCase "a species by molecule without masses for its multi-atom molecules is refused"
          <| fun () ->
              let frames =
                  Synthetic.frames (walk 3UL 10 5 0.4)
                  |> Seq.map (fun f ->
                      { f with
                          Mols = Some(Array.init 10 (fun i -> i / 2 + 1)) })

              let species =
                  [ { ions[0] with
                        AtomTypes = [| 1; 2 |]
                        ByMolecule = true } ]

              let e = analysisError (options species []) (frames |> Seq.collect Dump.write)
              Expect.stringContains e "no mass for atom type(s) 1, 2" "names the types"

          testCase "bad options name the field and value"
          <| fun () ->
              let lines = Synthetic.dumpLines (walk 3UL 10 5 0.4)

              Expect.stringContains
                  (analysisError
                      { options ions [] with
                          TimestepFs = -1.0 }
                      lines)
                  "timestep is -1"
                  "timestep"

              Expect.stringContains
                  (analysisError
                      { options ions [] with
                          TemperatureK = 0.0 }
                      lines)
                  "temperature is 0"
                  "T"

              Expect.stringContains
                  (analysisError (options [ { ions[0] with AtomTypes = [| 9 |] } ] []) lines)
                  "no atom of type 9"
                  "species" ]
