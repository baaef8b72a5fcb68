module Finales.Core.Tests.LimitationsJsonTests

open System.Text.Json
open System.Text.Json.Nodes
open FsCheck
open FsCheck.FSharp
open Expecto
open Finales.Core
open Finales.Core.Interop
open Finales.Core.Tests.Arbitraries

/// The pickers' rule as the console applied it on the raw JSON before the core read it: every object with a string
/// SMILES and a string InChIKey, depth first in document order, one per InChIKey.
let private rawWalk (documents: JsonElement list) : (string * string) list =
    let text (e: JsonElement) (name: string) =
        match e.TryGetProperty(name: string) with
        | true, v when v.ValueKind = JsonValueKind.String -> Some(v.GetString())
        | _ -> None

    let rec walk (e: JsonElement) : (string * string) list =
        match e.ValueKind with
        | JsonValueKind.Object ->
            let here =
                match text e "SMILES", text e "InChIKey" with
                | Some s, Some k -> [ s, k ]
                | _ -> []

            here
            @ (e.EnumerateObject() |> Seq.collect (fun p -> walk p.Value) |> List.ofSeq)
        | JsonValueKind.Array -> e.EnumerateArray() |> Seq.collect walk |> List.ofSeq
        | _ -> []

    documents |> List.collect walk |> List.distinctBy snd

let private tenantList (entries: (string * string * JsonNode) list) : string =
    JsonArray(
        entries
        |> List.map (fun (q, m, l) -> DesignLimitations.tenantEntry q m l :> JsonNode)
        |> Array.ofList
    )
        .ToJsonString()

let private chemicalObject (c: Chemical) : JsonNode =
    let d = Chemical.data c

    JsonObject(
        dict
            [ "SMILES", JsonValue.Create d.Smiles :> JsonNode
              "InChIKey", JsonValue.Create d.InChIKey ]
    )

/// A formulation limitation naming the chemicals in order (a chemical may repeat).
let private formulation (chemicals: Chemical list) : JsonNode =
    let entry c =
        JsonObject(
            dict
                [ "chemical", chemicalObject c
                  "fraction",
                  JsonArray(JsonObject(dict [ "min", JsonValue.Create 0.0 :> JsonNode; "max", JsonValue.Create 1.0 ])) ]
        )
        :> JsonNode

    JsonObject(dict [ "formulation", JsonArray(JsonArray(chemicals |> List.map entry |> Array.ofList)) :> JsonNode ])

let private chemicals (lists: string seq) =
    LimitationsJson.Chemicals(lists, "conductivity", "two_electrode")
    |> Seq.map (fun c -> c.Smiles, c.InChIKey, c.Name)
    |> List.ofSeq

/// Several tenants' lists of chemicals (some repeated), each list an entry of the capability plus one of another.
let private listsGen: Gen<Chemical list list> =
    Gen.listOf (Gen.listOf (Gen.elements Chemical.all))

[<Tests>]
let tests =
    testList
        "LimitationsJson.Chemicals"
        [ testPropertyWithConfig
              config
              "names each chemical of the capability once, first mention first, with the table's name"
          <| Prop.forAll (Arb.fromGen listsGen) (fun lists ->
              let documents =
                  lists
                  |> List.map (fun cs ->
                      tenantList
                          [ "density", "vibrating_tube_densimetry", formulation [ Chemical.all |> List.last ]
                            "conductivity", "two_electrode", formulation cs ])

              let expected =
                  lists
                  |> List.concat
                  |> List.distinct
                  |> List.map (fun c ->
                      let d = Chemical.data c
                      d.Smiles, d.InChIKey, d.Name)

              Expect.equal (chemicals documents) expected "the capability's chemicals, first mention first, one each")

          test
              "lists that are not JSON, not a list or not in the language name no chemicals, and the others still count" {
              let good =
                  tenantList [ "conductivity", "two_electrode", formulation [ Chemical.all.Head ] ]

              let outsideLanguage =
                  tenantList
                      [ "conductivity",
                        "two_electrode",
                        JsonObject(
                            dict
                                [ "temperature",
                                  JsonObject(
                                      dict [ "min", JsonValue.Create 2.0 :> JsonNode; "max", JsonValue.Create 1.0 ]
                                  )
                                  :> JsonNode
                                  "formulation", formulation [ Chemical.all |> List.last ] ]
                        ) ]

              let found =
                  chemicals [ "{not json"; """{"quantity": "conductivity"}"""; outsideLanguage; good ]

              let d = Chemical.data Chemical.all.Head
              Expect.equal found [ d.Smiles, d.InChIKey, d.Name ] "only the readable list's chemical"
          }

          test "a chemical the core does not know keeps the limitation's identifiers and name, or no name" {
              let other (name: string option) =
                  JsonObject(
                      dict
                          [ yield "SMILES", JsonValue.Create "CCO" :> JsonNode
                            yield "InChIKey", JsonValue.Create "LFQSCWFLJHTTHZ-UHFFFAOYSA-N"
                            match name with
                            | Some n -> yield "name", JsonValue.Create n
                            | None -> () ]
                  )
                  :> JsonNode

              let limitation name =
                  JsonObject(dict [ "formulation", JsonArray(JsonObject(dict [ "chemical", other name ])) :> JsonNode ])
                  :> JsonNode

              Expect.equal
                  (chemicals [ tenantList [ "conductivity", "two_electrode", limitation (Some "ethanol") ] ])
                  [ "CCO", "LFQSCWFLJHTTHZ-UHFFFAOYSA-N", "ethanol" ]
                  "the limitation's name"

              Expect.equal
                  (chemicals [ tenantList [ "conductivity", "two_electrode", limitation None ] ])
                  [ "CCO", "LFQSCWFLJHTTHZ-UHFFFAOYSA-N", null ]
                  "no name"

              let listed =
                  JsonObject(
                      dict
                          [ "SMILES", JsonArray(JsonValue.Create "CCO") :> JsonNode
                            "InChIKey", JsonArray(JsonValue.Create "LFQSCWFLJHTTHZ-UHFFFAOYSA-N") ]
                  )

              Expect.isEmpty
                  (chemicals
                      [ tenantList
                            [ "conductivity",
                              "two_electrode",
                              JsonObject(
                                  dict
                                      [ "formulation",
                                        JsonArray(JsonObject(dict [ "chemical", listed :> JsonNode ])) :> JsonNode ]
                              ) ] ])
                  "identifiers given as lists are a limit of choices, not a chemical the pickers offer"
          }

          test "the corpus limitations name the chemicals the raw walk over their JSON finds" {
              let byCapability = Corpus.limitations |> List.groupBy (fun (_, q, m, _) -> q, m)
              let mutable named = 0

              for (quantity, methodName), documents in byCapability do
                  let lists =
                      documents
                      |> List.map (fun (_, q, m, l) -> tenantList [ q, m, JsonNode.Parse(l.GetRawText()) ])

                  let found =
                      LimitationsJson.Chemicals(lists, quantity, methodName)
                      |> Seq.map (fun c -> c.Smiles, c.InChIKey)
                      |> List.ofSeq

                  named <- named + found.Length

                  Expect.equal
                      found
                      (rawWalk (documents |> List.map (fun (_, _, _, l) -> l)))
                      $"{quantity}/{methodName}: the chemicals the raw walk finds"

              Expect.isGreaterThan named 0 "the corpus names chemicals"
          } ]
