module Finales.Core.Tests.CapabilityTests

open System.Text.Json
open System.Text.Json.Nodes
open Expecto
open Finales.Core

let private compiled (q: string) (m: string) (schema: string) =
    Corpus.compileSchema (sprintf "%s/%s %s" q m schema) ((Corpus.capabilities |> Map.find (q, m)).GetProperty(schema))

let private paths (issues: ValidationIssue list) =
    issues |> List.map (fun i -> i.Path) |> List.sort

/// The first scalar (string, number, boolean) leaf of a document, depth first, with its path.
let rec private firstLeaf (path: string list) (e: JsonElement) : (string list * JsonElement) option =
    match e.ValueKind with
    | JsonValueKind.Object ->
        e.EnumerateObject()
        |> Seq.tryPick (fun p -> firstLeaf (path @ [ p.Name ]) p.Value)
    | JsonValueKind.Array ->
        e.EnumerateArray()
        |> Seq.mapi (fun i x -> i, x)
        |> Seq.tryPick (fun (i, x) -> firstLeaf (path @ [ string i ]) x)
    | JsonValueKind.String
    | JsonValueKind.Number
    | JsonValueKind.True
    | JsonValueKind.False -> Some(path, e)
    | _ -> None

/// A copy of `doc` with the value at `path` replaced (Some) or removed (None).
let private edit (doc: JsonElement) (path: string list) (replacement: JsonNode option) : JsonElement =
    let root = JsonNode.Parse(doc.GetRawText()) |> nonNull
    let parentPath, last = List.take (path.Length - 1) path, List.last path

    let parent =
        parentPath
        |> List.fold
            (fun (node: JsonNode) segment ->
                match node with
                | :? JsonArray as a -> a.[int segment] |> nonNull
                | _ -> node.[segment] |> nonNull)
            root

    match parent, replacement with
    | :? JsonArray as a, Some r -> a.[int last] <- r
    | :? JsonArray as a, None -> a.RemoveAt(int last)
    | :? JsonObject as o, Some r -> o.[last] <- r
    | :? JsonObject as o, None -> o.Remove(last) |> ignore
    | _ -> failwith "cannot edit a scalar"

    Corpus.json (root.ToJsonString())

let private wrongTypeFor (e: JsonElement) : JsonNode =
    match e.ValueKind with
    | JsonValueKind.String -> JsonValue.Create(true) :> JsonNode
    | _ -> JsonValue.Create("not of the right type") |> nonNull :> JsonNode

/// Example results that do not conform to their capability's result schema (the reference never checks result
/// data, so the corpus carries them): file -> the exact paths of the issues found.
let nonConformingResults: Map<string, string list list> =
    Map.ofList
        [ "examples/results/capacity/cycling.json", [ [ "cell_info" ]; [ "channel_list" ] ]
          "examples/results/cell_assembly/autobass_assembly.json",
          [ for i in 0..7 -> [ "batch_output"; string i; "cell" ] ]
          "examples/results/degradationEOL/degradation_model.json",
          [ [ "degradationEOL"; "cell_info" ]; [ "degradationEOL"; "meta"; "success" ] ]
          "examples/results/degradationEOL/degradation_workflow.json", [ [ "degradationEOL"; "1"; "meta"; "success" ] ]
          // actual_new_location is wrapped in {"Location": {...}}, so the location's address is missing.
          "examples/results/transport/service.json", [ [ "actual_new_location"; "address" ] ] ]

[<Tests>]
let tests =
    testList
        "CapabilitySchema"
        [ test "all 13 capability registrations compile, parameters and result schemas" {
              Expect.equal Corpus.capabilities.Count 13 "13 capabilities in the corpus"

              for KeyValue((q, m), c) in Corpus.capabilities do
                  for schema in [ "json_schema_specifications"; "json_schema_result_output" ] do
                      Expect.isOk
                          (CapabilitySchema.compile (c.GetProperty(schema)))
                          (sprintf "%s/%s %s compiles" q m schema)
          }

          test "a schema whose $refs loop without stepping into the document is refused, naming the loop" {
              for (schema, chain) in
                  [ """{"$defs":{"A":{"anyOf":[{"$ref":"#/$defs/A"},{"type":"string"}]}},"$ref":"#/$defs/A"}""",
                    "#/$defs/A -> #/$defs/A"
                    """{"$defs":{"A":{"allOf":[{"$ref":"#/$defs/B"}]},"B":{"not":{"$ref":"#/$defs/A"}}},"properties":{"x":{"$ref":"#/$defs/A"}}}""",
                    "#/$defs/B -> #/$defs/A -> #/$defs/B"
                    """{"type":"object","$ref":"#"}""", "# -> #" ] do
                  match CapabilitySchema.compile (Corpus.json schema) with
                  | Ok _ -> failtestf "%s compiled" schema
                  | Error e -> Expect.stringContains e chain "the message names the loop"

              // Recursion through a property steps into the document each time: allowed.
              let recursive =
                  """{"$defs":{"Node":{"type":"object","properties":{"next":{"anyOf":[{"$ref":"#/$defs/Node"},{"type":"null"}]}}}},"$ref":"#/$defs/Node"}"""

              Expect.isOk (CapabilitySchema.compile (Corpus.json recursive)) "a linked list schema compiles"
          }

          test "a schema that is not a schema is refused with a message naming the value" {
              match CapabilitySchema.compile (Corpus.json "42") with
              | Ok _ -> failtest "42 is not a schema"
              | Error e -> Expect.stringContains e "42" "the message names the value"
          }

          testList
              "every example request's parameters validate"
              [ for (file, q, m, parameters) in Corpus.requests ->
                    test file {
                        Expect.isEmpty
                            (CapabilitySchema.validate (compiled q m "json_schema_specifications") parameters)
                            "no issues"
                    } ]

          testList
              "example results"
              [ for (file, q, m, data) in Corpus.results ->
                    test file {
                        let issues =
                            CapabilitySchema.validate (compiled q m "json_schema_result_output") data

                        match nonConformingResults.TryFind file with
                        | None -> Expect.isEmpty issues "the result data conforms"
                        | Some expected ->
                            Expect.equal (paths issues) (List.sort expected) "the documented non-conformities, exactly"
                    } ]

          testList
              "a wrong type is rejected at the path of the value"
              [ for (file, q, m, document, schema) in
                    [ for (f, q, m, p) in Corpus.requests -> f, q, m, p, "json_schema_specifications" ]
                    @ [ for (f, q, m, d) in Corpus.results do
                            if not (nonConformingResults.ContainsKey f) then
                                yield f, q, m, d, "json_schema_result_output" ] ->
                    test file {
                        match firstLeaf [] document with
                        | None -> failtest "the example has no scalar leaf"
                        | Some(path, leaf) ->
                            let issues =
                                CapabilitySchema.validate
                                    (compiled q m schema)
                                    (edit document path (Some(wrongTypeFor leaf)))

                            Expect.equal (paths issues) [ path ] "exactly one issue, at the mutated value"
                            Expect.equal (issues |> List.map (fun i -> i.Kind)) [ "type_error" ] "a type error"

                            Expect.stringContains
                                issues.Head.Message
                                (ValidationIssue.renderPath path)
                                "the message names the field"
                    } ]

          testList
              "a missing required field is rejected at the path of the field"
              [ for (file, q, m, parameters) in Corpus.requests ->
                    test file {
                        let schema =
                            (Corpus.capabilities |> Map.find (q, m)).GetProperty("json_schema_specifications")

                        let field = schema.GetProperty("required").[0].GetString() |> nonNull

                        let issues =
                            CapabilitySchema.validate
                                (compiled q m "json_schema_specifications")
                                (edit parameters [ field ] None)

                        Expect.equal issues.Length 1 "one issue"
                        Expect.equal issues.Head.Path [ field ] "the path names the missing field"
                        Expect.equal issues.Head.Kind "missing" "FastAPI kind"
                        Expect.stringContains issues.Head.Message field "the message names the field"
                    } ]

          test "a nested missing field and several problems are all reported with exact paths" {
              let (_, _, _, parameters) =
                  Corpus.requests
                  |> List.find (fun (f, _, _, _) -> f.EndsWith "conductivity/two_electrode.json")

              let edited =
                  edit
                      (edit parameters [ "formulation"; "1"; "chemical"; "InChIKey" ] None)
                      [ "temperature" ]
                      (Some(JsonValue.Create("hot") |> nonNull :> JsonNode))

              let issues =
                  CapabilitySchema.validate
                      (compiled "conductivity" "two_electrode" "json_schema_specifications")
                      edited

              Expect.equal
                  (paths issues)
                  [ [ "formulation"; "1"; "chemical"; "InChIKey" ]; [ "temperature" ] ]
                  "both problems"

              let temperature = issues |> List.find (fun i -> i.Path = [ "temperature" ])
              Expect.stringContains temperature.Message "\"hot\"" "names the value"
              Expect.stringContains temperature.Message "number or null" "merges the anyOf branches"
          }

          test "an object in an optional anyOf [$ref, null] reports the inner problem, not the null branch" {
              let (_, _, _, parameters) =
                  Corpus.requests
                  |> List.find (fun (f, _, _, _) -> f.EndsWith "transport/transport_service.json")

              let edited = edit parameters [ "origin"; "address" ] None

              let issues =
                  CapabilitySchema.validate
                      (compiled "transport" "transport_service" "json_schema_specifications")
                      edited

              Expect.equal (paths issues) [ [ "origin"; "address" ] ] "only the missing address"
          }

          test "the compiled schema is safe to use from many threads" {
              let c = compiled "conductivity" "two_electrode" "json_schema_specifications"

              let (_, _, _, parameters) =
                  Corpus.requests
                  |> List.find (fun (f, _, _, _) -> f.EndsWith "conductivity/two_electrode.json")

              let bad =
                  edit parameters [ "temperature" ] (Some(JsonValue.Create("hot") |> nonNull :> JsonNode))

              let verdicts =
                  Array.Parallel.init 400 (fun i ->
                      if i % 2 = 0 then
                          CapabilitySchema.validate c parameters
                      else
                          CapabilitySchema.validate c bad)

              for i in 0 .. verdicts.Length - 1 do
                  Expect.equal (verdicts.[i].Length) (if i % 2 = 0 then 0 else 1) (sprintf "verdict %d" i)
          } ]
