/// The FINALES2 community corpus: every capability registers, every example request is accepted, every
/// example result is accepted for a real request (or, where its data break its own schema, rejected naming
/// the path under the default policy and accepted under --result-validation warn), and mutated copies are
/// rejected with 4xx naming the JSON path while nothing of them is stored.
module Finales.Integration.Tests.CorpusTests

open System
open System.IO
open System.Text.Json
open System.Text.Json.Nodes
open Expecto
open Finales.Tests
open Finales.Integration.Tests.Harness
open Finales.Integration.Tests.World

let private examples (kind: string) =
    Directory.GetFiles(RepoData.corpus ("examples/" + kind), "*.json", SearchOption.AllDirectories)
    |> Array.sort

let private name (file: string) =
    Path.GetRelativePath(RepoData.corpus "examples", file)

let private locs (r: Reply) =
    [ for d in r.Detail.EnumerateArray() -> [ for x in d.GetProperty("loc").EnumerateArray() -> x.ToString() ] ]

/// Results whose data do not satisfy their own capability's result schema (pinned by the core's tests).
let schemaBreakingResults =
    set
        [ "results/capacity/cycling.json"
          "results/cell_assembly/autobass_assembly.json"
          "results/degradationEOL/degradation_model.json"
          "results/degradationEOL/degradation_workflow.json"
          "results/transport/service.json" ]

let private requestFor (w: World) (result: JsonNode) =
    let q = result["quantity"].GetValue<string>()
    let m = (result["method"].[0]).GetValue<string>()

    examples "requests"
    |> Array.map (fun f -> jsonNode (File.ReadAllText f))
    |> Array.find (fun r ->
        r["quantity"].GetValue<string>() = q
        && r["methods"].AsArray() |> Seq.exists (fun x -> x.GetValue<string>() = m))
    |> fun r ->
        r["tenant_uuid"] <- JsonValue.Create(w.TenantB.ToString "D")
        r.ToJsonString()

/// Posts the matching example request as tenant B, then the example result for it; returns (request id, reply).
let private postExampleResult (w: World) (file: string) =
    let result = jsonNode (File.ReadAllText file)
    let reqId = (w.B.Post("/requests/", requestFor w result)).String
    result["request_uuid"] <- JsonValue.Create reqId
    result["tenant_uuid"] <- JsonValue.Create(w.TenantB.ToString "D")
    reqId, w.B.Post("/results/", result.ToJsonString())

/// The first required parameter of a request's method according to its capability file.
let private firstRequired (quantity: string) (methodName: string) =
    let cap =
        capabilityFiles ()
        |> Array.map (fun f -> jsonNode (File.ReadAllText f))
        |> Array.find (fun c ->
            c["quantity"].GetValue<string>() = quantity
            && c["method"].GetValue<string>() = methodName)

    (cap["json_schema_specifications"].["required"].[0]).GetValue<string>()

let suite (f: StoreFactory) (w: Lazy<World>) (warnWorld: Lazy<World>) =
    testSequenced
    <| testList
        (f.Name + " corpus")
        [ test "all 13 capability files register and stay active" {
              let caps = w.Value.Admin.Get("/admin/capabilities").Json

              let active =
                  caps.EnumerateArray()
                  |> Seq.filter (fun c -> c.GetProperty("is_active").GetBoolean())
                  |> Seq.length

              Expect.isGreaterThanOrEqual active 13 "13 active capabilities"
          }
          test "every example request is accepted" {
              let w = w.Value

              for file in examples "requests" do
                  let n = jsonNode (File.ReadAllText file)
                  n["tenant_uuid"] <- JsonValue.Create(w.TenantA.ToString "D")
                  let r = w.A.Post("/requests/", n.ToJsonString())
                  expectStatus r 200 (name file)
          }
          test "every example result is accepted for a real request, except the five whose data break their own schema" {
              let w = w.Value

              for file in examples "results" do
                  let reqId, r = postExampleResult w file

                  if schemaBreakingResults.Contains(name file) then
                      expectStatus r 422 (name file + " breaks its result schema")

                      Expect.isTrue
                          (locs r |> List.forall (fun l -> List.take 2 l = [ "body"; "data" ]))
                          (sprintf "%s: locs name the data path: %A" (name file) (locs r))

                      Expect.equal (w.B.Get("/results_requested/" + reqId).Body) "null" "nothing stored"
                  else
                      expectStatus r 200 (name file)
          }
          test "with --result-validation warn every example result is accepted" {
              let w = warnWorld.Value

              for file in examples "results" do
                  expectStatus (snd (postExampleResult w file)) 200 (name file)
          }
          test "copies with a wrong type or a missing required field are 422 naming the path; nothing is stored" {
              let w = w.Value
              let before = w.RequestCount()

              for file in examples "requests" do
                  let original = jsonNode (File.ReadAllText file)
                  original["tenant_uuid"] <- JsonValue.Create(w.TenantA.ToString "D")
                  let q = original["quantity"].GetValue<string>()
                  let m = (original["methods"].[0]).GetValue<string>()
                  let field = firstRequired q m
                  let expected = [ "body"; "parameters"; m; field ]
                  let wrong = original.DeepClone()
                  let value = wrong["parameters"].[m].[field]

                  wrong["parameters"].[m].[field] <-
                      (match value with
                       | :? JsonValue as v when v.GetValueKind() = JsonValueKind.String ->
                           JsonValue.Create 12345 :> JsonNode
                       | _ -> JsonValue.Create "not the right type" :> JsonNode)

                  let r = w.A.Post("/requests/", wrong.ToJsonString())
                  expectStatus r 422 (name file + " wrong type")

                  Expect.isTrue
                      (locs r |> List.exists (fun l -> List.truncate 4 l = expected))
                      (sprintf "%s: %A names %A" (name file) (locs r) expected)

                  let missing = original.DeepClone()
                  (missing["parameters"].[m]).AsObject().Remove(field) |> ignore
                  let r = w.A.Post("/requests/", missing.ToJsonString())
                  expectStatus r 422 (name file + " missing field")
                  Expect.contains (locs r) expected (name file + " missing names the field")

              Expect.equal (w.RequestCount()) before "nothing of the rejected calls is stored"
          }
          test "copies outside the offering tenant's limitations are 422 naming the path; nothing is stored" {
              let w = w.Value
              let before = w.RequestCount()
              let hot = jsonNode (w.PolyRequest w.TenantA)
              hot["parameters"].["polynomial_interpolation"].["temperature"] <- JsonValue.Create 340.0
              let r = w.A.Post("/requests/", hot.ToJsonString())
              expectStatus r 422 "temperature 340 K > 333 K"

              Expect.contains
                  (locs r)
                  [ "body"; "parameters"; "polynomial_interpolation"; "temperature" ]
                  "temperature path"

              let other = jsonNode (w.PolyRequest w.TenantA)

              other["parameters"].["polynomial_interpolation"].["formulation"].[2].["chemical"].["SMILES"] <-
                  JsonValue.Create "COC(=O)OC"

              other["parameters"].["polynomial_interpolation"].["formulation"].[2].["chemical"].["InChIKey"] <-
                  JsonValue.Create "IEJIGPNLZYLLBP-UHFFFAOYSA-N"

              let r = w.A.Post("/requests/", other.ToJsonString())
              expectStatus r 422 "DMC is not offered"

              Expect.isTrue
                  (locs r
                   |> List.exists (fun l ->
                       List.truncate 4 l = [ "body"; "parameters"; "polynomial_interpolation"; "formulation" ]))
                  (sprintf "formulation path in %A" (locs r))

              Expect.equal (w.RequestCount()) before "nothing stored"
          } ]
