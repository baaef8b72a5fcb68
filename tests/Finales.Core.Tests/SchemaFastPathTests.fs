module Finales.Core.Tests.SchemaFastPathTests

open System.Text.Json
open System.Text.Json.Nodes
open Expecto
open FsCheck
open FsCheck.FSharp
open Finales.Core

let private compile (schema: JsonElement) =
    Corpus.compileSchema "the schema" schema

let private fast (c: CapabilitySchema.Compiled) =
    CapabilitySchema.fastPath c
    |> Option.defaultWith (fun () -> failtest "the schema has no fast path")

/// Every corpus schema with the example documents written against it.
let private corpusCases: (string * CapabilitySchema.Compiled * JsonElement) list =
    [ for (file, q, m, parameters) in Corpus.requests do
          let c =
              (Corpus.capabilities |> Map.find (q, m)).GetProperty("json_schema_specifications")

          yield file, compile c, parameters
      for (file, q, m, data) in Corpus.results do
          let c =
              (Corpus.capabilities |> Map.find (q, m)).GetProperty("json_schema_result_output")

          yield file, compile c, data ]

/// One edit of a document: which node (index into its nodes in document order, modulo their number), what to do.
type Edit =
    | Replace of node: int * value: int
    | Remove of node: int
    | AddMember of node: int * value: int
    | DuplicateItem of node: int
    | WrapInArray of node: int

let private values: (unit -> JsonNode | null)[] =
    [| (fun () -> null)
       (fun () -> JsonValue.Create true)
       (fun () -> JsonValue.Create 0)
       (fun () -> JsonValue.Create 1.5)
       (fun () -> JsonValue.Create -7)
       (fun () -> JsonValue.Create "x")
       (fun () -> JsonValue.Create "")
       (fun () -> JsonArray())
       (fun () -> JsonObject())
       (fun () -> JsonArray(JsonValue.Create 1, JsonValue.Create 2))
       (fun () -> JsonNode.Parse """{"value": 1.0, "unit": "mS/cm"}""") |]

let private editGen: Gen<Edit> =
    let node = Gen.choose (0, 10_000)
    let value = Gen.choose (0, values.Length - 1)

    Gen.oneof
        [ Gen.map2 (fun n v -> Replace(n, v)) node value
          Gen.map Remove node
          Gen.map2 (fun n v -> AddMember(n, v)) node value
          Gen.map DuplicateItem node
          Gen.map WrapInArray node ]

/// The nodes of a document in document order (the root first); null values are skipped.
let rec private nodes (n: JsonNode) : JsonNode list =
    n
    :: (match n with
        | :? JsonObject as o ->
            [ for KeyValue(_, v) in o do
                  if not (isNull v) then
                      yield! nodes (nonNull v) ]
        | :? JsonArray as a ->
            [ for v in a do
                  if not (isNull v) then
                      yield! nodes (nonNull v) ]
        | _ -> [])

let private apply (root: JsonNode) (edit: Edit) : JsonNode =
    let all = nodes root |> Array.ofList
    let pick i = all.[i % all.Length]

    let replaceIn (target: JsonNode) (replacement: JsonNode | null) : JsonNode =
        match target.Parent with
        | null -> replacement |> Option.ofObj |> Option.defaultWith (fun () -> JsonArray())
        | :? JsonObject as o ->
            o.[target.GetPropertyName()] <- replacement
            root
        | :? JsonArray as a ->
            a.[target.GetElementIndex()] <- replacement
            root
        | _ -> root

    match edit with
    | Replace(n, v) -> replaceIn (pick n) (values.[v] ())
    | Remove n ->
        let target = pick n

        match target.Parent with
        | :? JsonObject as o -> o.Remove(target.GetPropertyName()) |> ignore
        | :? JsonArray as a -> a.RemoveAt(target.GetElementIndex())
        | _ -> ()

        root
    | AddMember(n, v) ->
        match pick n with
        | :? JsonObject as o when not (o.ContainsKey "extra_member") -> o.["extra_member"] <- values.[v] ()
        | _ -> ()

        root
    | DuplicateItem n ->
        match pick n with
        | :? JsonArray as a when a.Count > 0 ->
            a.Add(a.[0] |> Option.ofObj |> Option.map (fun x -> x.DeepClone()) |> Option.toObj)
        | _ -> ()

        root
    | WrapInArray n ->
        let target = pick n
        let copy = target.DeepClone()
        replaceIn target (JsonArray(copy))

let private mutate (doc: JsonElement) (edits: Edit list) : JsonElement =
    let root = JsonNode.Parse(doc.GetRawText()) |> nonNull
    let edited = edits |> List.fold apply root
    JsonDocument.Parse(edited.ToJsonString()).RootElement

let private config =
    { FsCheckConfig.defaultConfig with
        maxTest = 300 }

[<Tests>]
let tests =
    testList
        "SchemaFastPath"
        [ test "every corpus schema (parameters and results of all 13 capabilities) has a fast path" {
              for KeyValue((q, m), c) in Corpus.capabilities do
                  for schema in [ "json_schema_specifications"; "json_schema_result_output" ] do
                      Expect.isSome
                          (CapabilitySchema.fastPath (compile (c.GetProperty schema)))
                          (sprintf "%s/%s %s stays inside the subset" q m schema)
          }

          test "the fast path agrees with JsonSchema.Net on every corpus example" {
              for (file, c, doc) in corpusCases do
                  Expect.equal (fast c doc) (CapabilitySchema.isValidByLibrary c doc) file
          }

          testPropertyWithConfig config "on edited corpus documents, 'certainly valid' is never wrong"
          <| Prop.forAll
              (Arb.fromGen (
                  Gen.zip (Gen.choose (0, corpusCases.Length - 1)) (Gen.listOf editGen |> Gen.map (List.truncate 4))
              ))
              (fun (i, edits) ->
                  let (file, c, doc) = corpusCases.[i]
                  let edited = mutate doc edits
                  let library = CapabilitySchema.isValidByLibrary c edited
                  let quick = fast c edited

                  if quick && not library then
                      failtestf
                          "%s after %A: the fast path says valid, JsonSchema.Net says invalid: %s"
                          file
                          edits
                          (edited.GetRawText())

                  // Invalid documents and undecided ones both answer false; valid plain documents answer true.
                  true)

          test "edited documents reach both answers (the property above is not vacuous)" {
              let rnd = System.Random(20261125)

              let randomEdit () =
                  let n, v = rnd.Next 10_000, rnd.Next values.Length

                  match rnd.Next 5 with
                  | 0 -> Replace(n, v)
                  | 1 -> Remove n
                  | 2 -> AddMember(n, v)
                  | 3 -> DuplicateItem n
                  | _ -> WrapInArray n

              let verdicts =
                  [ for _ in 1..400 do
                        let (_, c, doc) = corpusCases.[rnd.Next corpusCases.Length]
                        let edited = mutate doc [ for _ in 1 .. rnd.Next 3 -> randomEdit () ]
                        yield fast c edited, CapabilitySchema.isValidByLibrary c edited ]

              Expect.exists verdicts (fun (f, l) -> f && l) "some edited documents are certainly valid"
              Expect.exists verdicts (fun (f, l) -> not f && not l) "some edited documents are invalid"
          }

          testList
              "the subset's edges"
              [ let check (schema: string) (doc: string) =
                    let c = compile (Corpus.json schema)
                    fast c (Corpus.json doc), CapabilitySchema.isValidByLibrary c (Corpus.json doc)

                test "additionalProperties false refuses an extra member" {
                    Expect.equal
                        (check
                            """{"type":"object","properties":{"a":{"type":"number"}},"additionalProperties":false}"""
                            """{"a":1,"b":2}""")
                        (false, false)
                        "both refuse"
                }

                test "prefixItems with items false: positional types and the length" {
                    let schema =
                        """{"type":"array","prefixItems":[{"type":"string"},{"type":"number"}],"items":false,"minItems":2}"""

                    Expect.equal (check schema """["a", 2]""") (true, true) "valid"
                    Expect.equal (check schema """["a", 2, 3]""") (false, false) "an item past the prefix"
                    Expect.equal (check schema """[2, "a"]""") (false, false) "wrong positions"
                    Expect.equal (check schema """["a"]""") (false, false) "too short"
                }

                test "required members and $ref into $defs, recursively" {
                    let schema =
                        """{"$defs":{"Node":{"type":"object","properties":{"next":{"anyOf":[{"$ref":"#/$defs/Node"},{"type":"null"}]}},"required":["next"]}},"$ref":"#/$defs/Node"}"""

                    Expect.equal (check schema """{"next":{"next":null}}""") (true, true) "a chain of two"
                    Expect.equal (check schema """{"next":{}}""") (false, false) "the inner node lacks next"
                }

                test "1.0 as an integer and duplicate member names are left to JsonSchema.Net" {
                    Expect.equal (check """{"type":"integer"}""" "1.0") (false, true) "undecided here, valid there"
                    Expect.equal (check """{"type":"integer"}""" "3") (true, true) "a plain integer"

                    let (quick, _) =
                        check """{"type":"object","properties":{"a":{"type":"number"}}}""" """{"a":1,"a":"x"}"""

                    Expect.isFalse quick "duplicate names are not decided here"
                }

                test "keywords outside the subset leave the schema without a fast path" {
                    for schema in
                        [ """{"type":"string","pattern":"^a"}"""
                          """{"enum":[1,2]}"""
                          """{"type":"string","format":"date-time"}"""
                          """{"$id":"https://example.org/s","type":"object"}"""
                          """{"oneOf":[{"type":"number"},{"type":"integer"}]}"""
                          """{"$ref":"#/definitions/X","definitions":{"X":{}}}""" ] do
                        Expect.isNone (CapabilitySchema.fastPath (compile (Corpus.json schema))) schema
                } ] ]
