module Finales.Core.Tests.StrictJsonTests

open System
open System.Text
open System.Text.Json
open System.Text.Json.Nodes
open Expecto
open FsCheck
open FsCheck.FSharp
open Finales.Core

/// A JSON document as written, so that a test can put any bytes anywhere (a member name is its quoted bytes).
type J =
    | JNum of string
    | JStr of string
    | JBool of bool
    | JNull
    | JArr of J list
    | JObj of (byte[] * J) list
    /// Literal bytes injected into the document (a defect).
    | JRaw of byte[]

let private utf8 (s: string) = Encoding.UTF8.GetBytes s
let private quoted (s: string) = utf8 (JsonSerializer.Serialize s)

let rec private write (out: ResizeArray<byte>) (j: J) =
    match j with
    | JNum n -> out.AddRange(utf8 n)
    | JStr s -> out.AddRange(quoted s)
    | JBool b -> out.AddRange(utf8 (if b then "true" else "false"))
    | JNull -> out.AddRange(utf8 "null")
    | JRaw bytes -> out.AddRange bytes
    | JArr items ->
        out.Add(byte '[')

        items
        |> List.iteri (fun i x ->
            if i > 0 then
                out.Add(byte ',')

            write out x)

        out.Add(byte ']')
    | JObj members ->
        out.Add(byte '{')

        members
        |> List.iteri (fun i (name, x) ->
            if i > 0 then
                out.Add(byte ',')

            out.AddRange name
            out.Add(byte ':')
            write out x)

        out.Add(byte '}')

let private render (j: J) =
    let out = ResizeArray<byte>()
    write out j
    out.ToArray()

let private nameOf (bytes: byte[]) =
    JsonSerializer.Deserialize<string>(ReadOnlySpan bytes)

/// Every node with its path (member names and array indices from the root).
let rec private nodes (path: string list) (j: J) : (string list * J) list =
    (path, j)
    :: (match j with
        | JArr items -> items |> List.mapi (fun i x -> nodes (path @ [ string i ]) x) |> List.concat
        | JObj members -> members |> List.collect (fun (n, x) -> nodes (path @ [ nameOf n ]) x)
        | _ -> [])

/// `j` with the node at `path` replaced by `f node`.
let rec private replaceAt (path: string list) (f: J -> J) (j: J) : J =
    match path, j with
    | [], _ -> f j
    | segment :: rest, JArr items ->
        JArr(
            items
            |> List.mapi (fun i x -> if string i = segment then replaceAt rest f x else x)
        )
    | segment :: rest, JObj members ->
        JObj(
            members
            |> List.map (fun (n, x) -> if nameOf n = segment then n, replaceAt rest f x else n, x)
        )
    | _ -> j

// ------------------------------------------------------------------ generators

let private textChunks =
    [ "a"
      "Li+"
      "é"
      "键"
      "😀"
      "\u0001"
      "\""
      "\\"
      "\n"
      "[Li+].F[P-](F)(F)(F)(F)F"
      " "
      "\uffff" ]

let private genText =
    Gen.listOfLength 3 (Gen.elements textChunks)
    |> Gen.map String.Concat
    |> Gen.resize 4

let private genNumber =
    Gen.oneof
        [ Gen.choose (-1000000, 1000000) |> Gen.map string
          ArbMap.defaults
          |> ArbMap.generate<NormalFloat>
          |> Gen.map (fun (NormalFloat x) -> x.ToString("R", Globalization.CultureInfo.InvariantCulture))
          Gen.elements [ "1e300"; "-1.7976931348623157e308"; "1e-400"; "0.1"; "-0" ] ]

let private keys =
    [ "a"; "b"; "temperature"; "formulation"; "é"; "键"; "[Li+]"; "x y"; "😀" ]

let private genLeaf =
    Gen.oneof
        [ genNumber |> Gen.map JNum
          genText |> Gen.map JStr
          Gen.elements [ JBool true; JBool false; JNull ] ]

let rec private genTree (size: int) : Gen<J> =
    if size <= 0 then
        genLeaf
    else
        Gen.frequency
            [ 2, genLeaf
              2,
              Gen.choose (0, 4)
              |> Gen.bind (fun n -> Gen.listOfLength n (genTree (size / 3)) |> Gen.map JArr)
              3,
              Gen.subListOf keys
              |> Gen.bind (fun names ->
                  Gen.listOfLength names.Length (genTree (size / 3))
                  |> Gen.map (fun values -> JObj(List.zip (names |> List.map quoted) values))) ]

let private genDocument = Gen.sized (fun s -> genTree (min s 30))

/// Invalid UTF-8 (raw bytes) and lone surrogates (escapes), as they appear between the quotes of a string.
let private badText: byte[] list =
    [ [| 0xFFuy |]
      [| 0x80uy |]
      [| 0xC0uy; 0xAFuy |] // overlong '/'
      [| 0xE0uy; 0x80uy; 0xAFuy |] // overlong, three bytes
      [| 0xEDuy; 0xA0uy; 0x80uy |] // U+D800 encoded
      [| 0xE2uy; 0x82uy |] // truncated
      [| 0xF0uy; 0x9Fuy; 0x98uy |] // truncated emoji
      [| 0xF4uy; 0x90uy; 0x80uy; 0x80uy |] // beyond U+10FFFF
      utf8 "\\ud800"
      utf8 "\\udc00"
      utf8 "\\ud800\\u0041"
      utf8 "\\udbff\\udbff"
      utf8 "C\\ud83d"
      utf8 "\\u0000" ]

let private notFinite =
    [ "1e400"; "-1e400"; "2e308"; String('9', 401); "-" + String('9', 401) ]

let private strictParse (bytes: byte[]) =
    StrictJson.parseBytes StrictJson.defaultLimits [] (ReadOnlyMemory bytes)

let private config =
    { FsCheckConfig.defaultConfig with
        maxTest = 300 }

let private relaxed =
    JsonWriterOptions(Encoder = Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping)

let private reencode (e: JsonElement) =
    use stream = new IO.MemoryStream()
    use w = new Utf8JsonWriter(stream, relaxed)
    e.WriteTo w
    w.Flush()
    stream.ToArray()

let private refusal (r: Result<JsonDocument, ValidationIssue>) =
    match r with
    | Ok d ->
        d.Dispose()
        None
    | Error e -> Some e

[<Tests>]
let tests =
    testList
        "StrictJson"
        [ testPropertyWithConfig config "accepted documents re-encode to the same value (validated == stored)"
          <| Prop.forAll (Arb.fromGen genDocument) (fun doc ->
              let bytes = render doc

              match strictParse bytes with
              | Error e -> failtestf "refused a valid document: %A" e
              | Ok parsed ->
                  use parsed = parsed
                  let again = reencode parsed.RootElement
                  use reparsed = JsonDocument.Parse(again)
                  // What is served (re-encoded) is the value that was read, and reads back strictly.
                  Expect.isTrue
                      (JsonNode.DeepEquals(JsonNode.Parse(ReadOnlySpan bytes), JsonNode.Parse(ReadOnlySpan again)))
                      "same value"

                  Expect.isSome (Some reparsed) "re-encoded text parses"
                  Expect.isNone (refusal (strictParse again)) "re-encoded text is strict JSON")

          testPropertyWithConfig config "a member name twice in any object is refused with that member's path"
          <| Prop.forAll (Arb.fromGen (Gen.zip3 genDocument (Gen.choose (0, 1000)) genLeaf)) (fun (doc, pick, extra) ->
              let doc =
                  match doc with
                  | JObj(_ :: _) -> doc
                  | _ -> JObj [ quoted "a", doc ]

              let objects =
                  nodes [] doc
                  |> List.filter (fun (_, n) ->
                      match n with
                      | JObj(_ :: _) -> true
                      | _ -> false)

              let path, target = objects.[pick % objects.Length]

              let members =
                  match target with
                  | JObj ms -> ms
                  | _ -> []

              let name, _ = members.[pick % members.Length]
              let defective = replaceAt path (fun _ -> JObj(members @ [ name, extra ])) doc

              match refusal (strictParse (render defective)) with
              | Some e ->
                  Expect.equal e.Kind "value_error.duplicate_member" e.Message
                  Expect.equal e.Path (path @ [ nameOf name ]) e.Message
              | None -> failtest "a duplicate member was accepted")

          testPropertyWithConfig config "a number beyond a double anywhere is refused with its path"
          <| Prop.forAll
              (Arb.fromGen (Gen.zip3 genDocument (Gen.choose (0, 1000)) (Gen.elements notFinite)))
              (fun (doc, pick, number) ->
                  let all = nodes [] doc
                  let path, _ = all.[pick % all.Length]
                  let defective = replaceAt path (fun _ -> JNum number) doc

                  match refusal (strictParse (render defective)) with
                  | Some e ->
                      Expect.equal e.Kind "value_error.number.not_finite" e.Message
                      Expect.equal e.Path path e.Message
                  | None -> failtestf "%s was accepted" number)

          testPropertyWithConfig
              config
              "invalid UTF-8 or a lone surrogate in any string or name is refused with its path"
          <| Prop.forAll
              (Arb.fromGen (
                  Gen.zip3
                      genDocument
                      (Gen.choose (0, 1000))
                      (Gen.zip (Gen.elements badText) (Gen.elements [ true; false ]))
              ))
              (fun (doc, pick, (bad, inName)) ->
                  let text = Array.concat [ utf8 "\"x"; bad; utf8 "y\"" ]
                  let all = nodes [] doc

                  let objects =
                      all
                      |> List.filter (fun (_, n) ->
                          match n with
                          | JObj(_ :: _) -> true
                          | _ -> false)

                  let defective, expected =
                      if inName && not objects.IsEmpty then
                          let path, target = objects.[pick % objects.Length]

                          match target with
                          | JObj((_, v) :: rest) -> replaceAt path (fun _ -> JObj((text, v) :: rest)) doc, path
                          | _ -> doc, path
                      else
                          let path, _ = all.[pick % all.Length]
                          replaceAt path (fun _ -> JRaw text) doc, path

                  match refusal (strictParse (render defective)) with
                  | Some e ->
                      Expect.equal e.Kind "value_error.unicode" e.Message
                      Expect.equal e.Path expected e.Message
                  | None -> failtestf "%A was accepted" bad)

          testPropertyWithConfig config "a decoded request re-encodes to exactly the parameters that were validated"
          <| Prop.forAll (Arb.fromGen genDocument) (fun parameters ->
              let parameters =
                  match parameters with
                  | JObj _ -> parameters
                  | other -> JObj [ quoted "value", other ]

              let body =
                  JObj
                      [ quoted "quantity", JStr "conductivity"
                        quoted "methods", JArr [ JStr "m" ]
                        quoted "parameters", JObj [ quoted "m", parameters ]
                        quoted "tenant_uuid", JStr "dabb0c83-c70a-4c45-a025-d4cf79cf3ef8" ]

              match strictParse (render body) with
              | Error e -> failtestf "refused: %A" e
              | Ok doc ->
                  use doc = doc

                  match Wire.request [] doc.RootElement with
                  | Error e -> failtestf "decode: %A" e
                  | Ok request ->
                      let stored = Wire.encodeRequest request

                      match StrictJson.parseText StrictJson.defaultLimits [] stored with
                      | Error e -> failtestf "stored text is not strict JSON: %A" e
                      | Ok storedDoc ->
                          use storedDoc = storedDoc

                          let served = storedDoc.RootElement.GetProperty("parameters").GetProperty("m")

                          Expect.isTrue
                              (JsonNode.DeepEquals(
                                  JsonNode.Parse(served.GetRawText()),
                                  JsonNode.Parse(ReadOnlySpan(render parameters))
                              ))
                              "stored parameters are the validated ones")

          test "the reported problems name the path and the value" {
              let cases =
                  [ """{"parameters":{"m":{"temperature":300,"temperature":9999}}}""",
                    [ "parameters"; "m"; "temperature" ],
                    "value_error.duplicate_member"
                    """{"data":[1,{"x":1e400}]}""", [ "data"; "1"; "x" ], "value_error.number.not_finite"
                    """{"smiles":"C\ud800"}""", [ "smiles" ], "value_error.unicode" ]

              for text, path, kind in cases do
                  match refusal (StrictJson.parseText StrictJson.defaultLimits [ "body" ] text) with
                  | Some e ->
                      Expect.equal e.Path ("body" :: path) text
                      Expect.equal e.Kind kind text
                  | None -> failtestf "%s accepted" text
          }
          test "a lone surrogate character in a stored text is refused, not replaced" {
              match
                  refusal (StrictJson.parseText StrictJson.defaultLimits [] ("{\"a\":\"" + string '\ud800' + "\"}"))
              with
              | Some e -> Expect.equal e.Kind "value_error.unicode" e.Message
              | None -> failtest "accepted"
          }
          test "malformed JSON, too deep nesting and a leading byte-order mark" {
              Expect.isSome (refusal (StrictJson.parseText StrictJson.defaultLimits [] "{\"a\":")) "truncated"

              Expect.isSome
                  (refusal (StrictJson.parseText StrictJson.defaultLimits [] (String('[', 65) + String(']', 65))))
                  "65 levels"

              Expect.isNone
                  (refusal (StrictJson.parseText StrictJson.defaultLimits [] (String('[', 64) + String(']', 64))))
                  "64 levels"

              Expect.isNone (refusal (strictParse (Array.append [| 0xEFuy; 0xBBuy; 0xBFuy |] (utf8 "{}")))) "BOM"
          } ]

let private element (text: string) =
    JsonDocument.Parse(text).RootElement.Clone()

let private capability =
    match
        Catalog.compileCapability 1L "q" "m" (element """{"type":"object"}""") (element """{"type":"object"}""") true
    with
    | Ok c -> c
    | Error e -> failwith e

let private offer (limitations: string) =
    match Limitations.parse (element limitations) with
    | Ok parsed ->
        { Quantity = "q"
          Method = "m"
          Document = element limitations
          Parsed = parsed }
    | Error e -> failwith e

let private tenant (name: string) (limitations: string) =
    { Uuid = Guid.NewGuid()
      Name = name
      Limitations = [ offer limitations ]
      ContactPerson = ""
      IsActive = true }

let private requestWith (parameters: string) =
    { Quantity = "q"
      Methods = [ "m" ]
      Parameters = [ "m", element parameters ]
      TenantUuid = Guid.NewGuid()
      ParentRequest = None }

let private limitsPaths (r: Result<'a, ValidationIssue list>) =
    match r with
    | Ok _ -> []
    | Error es -> es |> List.map (fun e -> e.Path, e.Kind)

[<Tests>]
let limits =
    testList
        "Input limits"
        [ test "a 40,000-entry methods list is refused naming methods and the limit, before anything is decoded" {
              let methods = String.Join(",", Seq.init 40000 (sprintf "\"m%d\""))

              let body =
                  sprintf
                      """{"quantity":"q","methods":[%s],"parameters":{},"tenant_uuid":"dabb0c83-c70a-4c45-a025-d4cf79cf3ef8"}"""
                      methods

              match Wire.request [ "body" ] (element body) with
              | Error [ e ] ->
                  Expect.equal e.Path [ "body"; "methods" ] e.Message
                  Expect.stringContains e.Message "at most 64" e.Message
              | other -> failtestf "%A" other
          }
          test "a parameters object of 40,000 members and an over-long name are refused" {
              let members = String.Join(",", Seq.init 40000 (sprintf "\"m%d\":{}"))

              let body =
                  sprintf
                      """{"quantity":"%s","methods":["m"],"parameters":{%s},"tenant_uuid":"dabb0c83-c70a-4c45-a025-d4cf79cf3ef8"}"""
                      (String('q', 300))
                      members

              let found = limitsPaths (Wire.request [] (element body))
              Expect.contains found ([ "parameters" ], "value_error.list.max_items") "members"
              Expect.contains found ([ "quantity" ], "value_error.any_str.max_length") "name length"
          }
          test "formulation rows and parameter arrays above their caps are refused naming the array" {
              let catalog =
                  { Capabilities = [ capability ]
                    Tenants = [] }

              let rows = String.Join(",", Seq.replicate 1001 """{"fraction":0.1}""")

              Expect.equal
                  (limitsPaths (
                      Catalog.validateRequest catalog Reject (requestWith (sprintf """{"formulation":[%s]}""" rows))
                  ))
                  [ [ "parameters"; "m"; "formulation" ], "value_error.list.max_items" ]
                  "1,001 formulation rows"

              let items = String.Join(",", Seq.replicate 10001 "1")

              Expect.equal
                  (limitsPaths (
                      Catalog.validateRequest catalog Reject (requestWith (sprintf """{"x":{"cycles":[%s]}}""" items))
                  ))
                  [ [ "parameters"; "m"; "x"; "cycles" ], "value_error.list.max_items" ]
                  "10,001 items"
          }
          test "one tenant's limitations that cannot be evaluated never fail another tenant's request" {
              // Stored by an older version without the strict reader: a lone surrogate in an admitted SMILES.
              let poisoned =
                  tenant "poisoned" """{"formulation":[[{"chemical":{"SMILES":"\ud800"}}]]}"""

              let good = tenant "good" """{"temperature":[{"min":243,"max":333}]}"""

              let catalog =
                  { Capabilities = [ capability ]
                    Tenants = [ poisoned; good ] }

              let inside =
                  requestWith """{"formulation":[{"chemical":{"SMILES":"C"},"fraction":1}],"temperature":300}"""

              let outside =
                  requestWith """{"formulation":[{"chemical":{"SMILES":"C"},"fraction":1}],"temperature":400}"""

              Expect.equal (Catalog.validateRequest catalog Reject inside) (Ok []) "admitted by the good tenant"

              Expect.equal
                  (limitsPaths (Catalog.validateRequest catalog Reject outside))
                  [ [ "parameters"; "m"; "temperature" ], "limitations" ]
                  "refused by the good tenant's limit, not by the poisoned one"
          } ]
