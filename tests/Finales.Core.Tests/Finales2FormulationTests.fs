module Finales.Core.Tests.Finales2FormulationTests

open System
open System.Text.Json
open System.Text.Json.Nodes
open FsCheck
open FsCheck.FSharp
open Expecto
open Finales.Core
open Finales.Core.Interop
open Finales.Core.Tests.Arbitraries

let private element (node: JsonNode) : JsonElement = JsonSerializer.SerializeToElement node

let private json (text: string) : JsonElement =
    use doc = JsonDocument.Parse text
    doc.RootElement.Clone()

/// How a `chemical` object may name a chemical: for a known one by SMILES, InChIKey (with blanks), name or all of
/// them; an unknown one by its SMILES.
let private chemicalObjects: (string * JsonObject) list list =
    [ for c in Chemical.all do
          let d = Chemical.data c

          [ d.InChIKey, JsonObject(dict [ "SMILES", JsonValue.Create d.Smiles :> JsonNode ])
            d.InChIKey, JsonObject(dict [ "InChIKey", JsonValue.Create(" " + d.InChIKey) :> JsonNode ])
            d.InChIKey, JsonObject(dict [ "name", JsonValue.Create(d.Name.ToLowerInvariant()) :> JsonNode ])
            d.InChIKey,
            JsonObject(
                dict
                    [ "SMILES", JsonValue.Create d.Smiles :> JsonNode
                      "InChIKey", JsonValue.Create d.InChIKey ]
            ) ]
      [ "CC(C)O", JsonObject(dict [ "SMILES", JsonValue.Create "CC(C)O" :> JsonNode ]) ]
      [ "OCCO", JsonObject(dict [ "smiles", JsonValue.Create "OCCO" :> JsonNode ]) ] ]

/// A FINALES2 list of mole-fraction entries (chemicals by any of their names, some named twice, some fractions 0, the
/// fraction type in any accepted spelling of molPerMol or absent) and the canonical key of each entry.
let private moleListGen: Gen<JsonArray * (string * float) list> =
    gen {
        let! n = Gen.choose (1, 6)

        let! rows =
            Gen.listOfLength
                n
                (gen {
                    let! forms = Gen.elements chemicalObjects
                    let! key, chemical = Gen.elements forms

                    let! x =
                        Gen.frequency
                            [ 1, Gen.constant 0.0
                              4, Gen.choose (1, 1000) |> Gen.map (fun i -> float i / 1000.0) ]

                    let! fractionType =
                        Gen.elements (
                            None
                            :: (FractionType.known
                                |> List.filter (fun (_, c) -> c = FractionType.MolPerMol)
                                |> List.map (fun (s, _) -> Some(" " + s.ToUpperInvariant())))
                        )

                    let entry = JsonObject()
                    entry["chemical"] <- chemical.DeepClone()
                    entry["fraction"] <- JsonValue.Create x

                    fractionType
                    |> Option.iter (fun t -> entry["fraction_type"] <- JsonValue.Create t)

                    return entry, (key, x)
                })

        let rows =
            if rows |> List.forall (fun (_, (_, x)) -> x = 0.0) then
                let entry, (key, _) = rows.Head
                entry["fraction"] <- JsonValue.Create 0.5
                (entry, (key, 0.5)) :: rows.Tail
            else
                rows

        return JsonArray(rows |> List.map (fun (e, _) -> e :> JsonNode) |> Array.ofList), rows |> List.map snd
    }

let private ofBasis: Gen<FractionBasis> =
    Gen.elements [ MolePerMole; MassPerMass; VolumePerVolume ]

let private strictReading: MoleFractionReading =
    { Duplicates = RefuseDuplicates
      StrictReferences = true
      KeepZeros = true }

let private molPerMolSpellings: string list =
    FractionType.known
    |> List.filter (fun (_, c) -> c = FractionType.MolPerMol)
    |> List.map fst

/// A list a strict reading accepts: distinct known chemicals, each by SMILES, InChIKey or both, every entry with a
/// spelling of molPerMol, some fractions 0 (one positive at least); and the (InChIKey, fraction) of each entry.
let private strictListGen: Gen<JsonArray * (string * float) list> =
    gen {
        let! chemicals = Gen.subListOf Chemical.all |> Gen.filter (List.isEmpty >> not)

        let! rows =
            chemicals
            |> Gen.collectToList (fun c ->
                gen {
                    let d = Chemical.data c

                    let! identifiers =
                        Gen.elements
                            [ [ "SMILES", d.Smiles ]
                              [ "InChIKey", d.InChIKey ]
                              [ "SMILES", d.Smiles; "InChIKey", d.InChIKey ] ]

                    let! x =
                        Gen.frequency
                            [ 1, Gen.constant 0.0
                              4, Gen.choose (1, 1000) |> Gen.map (fun i -> float i / 1000.0) ]

                    let! fractionType = Gen.elements molPerMolSpellings
                    let chemical = JsonObject()

                    for k, v in identifiers do
                        chemical[k] <- JsonValue.Create v

                    let entry = JsonObject()
                    entry["chemical"] <- chemical
                    entry["fraction"] <- JsonValue.Create x
                    entry["fraction_type"] <- JsonValue.Create fractionType
                    return entry, (d.InChIKey, x)
                })

        let rows =
            if rows |> List.forall (fun (_, (_, x)) -> x = 0.0) then
                let entry, (key, _) = rows.Head
                entry["fraction"] <- JsonValue.Create 0.5
                (entry, (key, 0.5)) :: rows.Tail
            else
                rows

        return JsonArray(rows |> List.map (fun (e, _) -> e :> JsonNode) |> Array.ofList), rows |> List.map snd
    }

/// A strict list with one entry spoilt: its chemical named by name only, or its fraction type left out; and the path
/// of the spoilt entry.
let private spoiltStrictListGen: Gen<JsonArray * string * string> =
    gen {
        let! list, rows = strictListGen
        let! i = Gen.choose (0, list.Count - 1)
        let! byName = Gen.elements [ true; false ]
        let entry = list[i].AsObject()

        if byName then
            let name: string =
                Chemical.find (fst rows[i])
                |> Result.map Chemical.name
                |> TestData.okOr "a known chemical"

            entry["chemical"] <- JsonObject(dict [ "name", JsonValue.Create name :> JsonNode ])
            return list, $"formulation[{i}].chemical", "neither an InChIKey nor a SMILES"
        else
            entry.Remove "fraction_type" |> ignore
            return list, $"formulation[{i}].fraction_type", "is missing"
    }

[<Tests>]
let tests =
    testList
        "Finales2Formulation"
        [ testPropertyWithConfig config "a formulation written and read back is the same formulation"
          <| fun (ValidFormulation f) ->
              Prop.forAll (Arb.fromGen ofBasis) (fun basis ->
                  let f = Formulation.convert basis f

                  let back =
                      Finales2Formulation.ofFormulation f
                      |> element
                      |> Finales2Formulation.toFormulation "formulation"

                  match back with
                  | Ok g ->
                      Formulation.basis g = Formulation.basis f
                      && Formulation.fractions g = Formulation.fractions f
                  | Error e -> failwithf "refused: %A" e)

          testPropertyWithConfig
              config
              "mole fractions read from any spelling are the entries' fractions summed per canonical key, zeros left out"
          <| Prop.forAll (Arb.fromGen moleListGen) (fun (list, rows) ->
              let expected =
                  rows
                  |> List.groupBy fst
                  |> List.map (fun (k, xs) -> k, List.sumBy snd xs)
                  |> List.filter (fun (_, x) -> x <> 0.0)

              let got =
                  Finales2Formulation.moleFractions SumDuplicates "formulation" (element list)
                  |> TestData.okOr "mole fractions"

              Expect.equal (List.map fst got) (List.map fst expected) "keys in order of first mention"

              for (_, a), (_, b) in List.zip got expected do
                  Expect.floatClose Accuracy.veryHigh a b "summed fraction")

          testPropertyWithConfig
              config
              "a strict reading gives every entry's fraction by InChIKey, zeros kept, and agrees with the lenient reading"
          <| Prop.forAll (Arb.fromGen strictListGen) (fun (list, rows) ->
              let strict =
                  Finales2Formulation.moleFractionsWith strictReading "formulation" (element list)
                  |> TestData.okOr "strict reading"

              Expect.equal (List.map fst strict) (List.map fst rows) "every entry, in order, by InChIKey"

              for (_, a), (_, b) in List.zip strict rows do
                  Expect.floatClose Accuracy.veryHigh a b "the entry's fraction"

              let lenient =
                  Finales2Formulation.moleFractions RefuseDuplicates "formulation" (element list)
                  |> TestData.okOr "lenient reading"

              Expect.equal lenient (strict |> List.filter (fun (_, x) -> x <> 0.0)) "lenient: the same, zeros left out")

          testPropertyWithConfig
              config
              "a strict reading refuses a chemical named by name only or an entry without a fraction type, naming the entry"
          <| Prop.forAll (Arb.fromGen spoiltStrictListGen) (fun (list, path, why) ->
              match Finales2Formulation.moleFractionsWith strictReading "formulation" (element list) with
              | Ok fractions -> failtestf "accepted %A" fractions
              | Error errors ->
                  Expect.equal (errors |> List.map (fun e -> e.Path)) [ path ] "only the spoilt entry"
                  Expect.stringContains errors.Head.Message why "why"

              Expect.isOk
                  (Finales2Formulation.moleFractions RefuseDuplicates "formulation" (element list))
                  "the lenient reading accepts it")

          testPropertyWithConfig config "mole fractions written by the facade read back exactly"
          <| fun (ValidFormulation f) ->
              let byName =
                  Formulation.fractions f
                  |> Map.toList
                  |> List.map (fun (c, x) -> Collections.Generic.KeyValuePair(Chemical.name c, x))

              let ok, back, error =
                  FormulationJson.TryDecodeMoleFractions(
                      FormulationJson.Encode byName |> element,
                      DuplicateChemicalPolicy.Refuse
                  )

              Expect.isTrue ok error

              let expected =
                  byName
                  |> List.filter (fun kv -> kv.Value <> 0.0)
                  |> List.map (fun kv -> (Chemical.data (Chemical.tryFind kv.Key).Value).InChIKey, kv.Value)

              Expect.equal
                  (back |> Seq.map (fun kv -> kv.Key, kv.Value) |> List.ofSeq)
                  expected
                  "same fractions by InChIKey"

          testPropertyWithConfig
              config
              "every accepted spelling of a fraction type, in any case and with blanks, is canonical"
          <| Prop.forAll (Arb.fromGen (Gen.elements FractionType.known)) (fun (spelling, canonical) ->
              Expect.equal (FractionType.canonical $"  {spelling.ToUpperInvariant()} ") canonical "upper case, blanks"
              Expect.equal (FractionType.canonical spelling) canonical "as listed"
              Expect.equal (FractionType.canonical canonical) canonical "canonical is a fixed point")

          test "an unknown fraction type stays as written" {
              Expect.equal (FractionType.canonical "ppm") "ppm" "as written"

              Expect.equal
                  (Limitations.canonicalFractionType "Mole Fraction")
                  "molPerMol"
                  "the limitations use the same table"
          }

          test "the wire shape: SMILES and InChIKey of the chemical, the fraction and the fraction type" {
              let a =
                  FormulationJson.Encode
                      [ Collections.Generic.KeyValuePair("LiPF6", 0.1)
                        Collections.Generic.KeyValuePair("EC", 0.9) ]

              Expect.equal
                  (a.ToJsonString(
                      JsonSerializerOptions(Encoder = Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping)
                  ))
                  """[{"chemical":{"SMILES":"[Li+].F[P-](F)(F)(F)(F)F","InChIKey":"AXPLOJNSKRXQPA-UHFFFAOYSA-N"},"fraction":0.1,"fraction_type":"molPerMol"},{"chemical":{"SMILES":"C1COC(=O)O1","InChIKey":"KMTRUDSVKNLOMY-UHFFFAOYSA-N"},"fraction":0.9,"fraction_type":"molPerMol"}]"""
                  "the FINALES2 entries, in the given order"

              Expect.throwsT<ArgumentException>
                  (fun () ->
                      FormulationJson.Encode [ Collections.Generic.KeyValuePair("NaCl", 1.0) ]
                      |> ignore)
                  "an unknown chemical is a programmer error"
          }

          test "every refused entry is named by its path, with the value" {
              let errors =
                  Finales2Formulation.decode
                      "formulation"
                      (json
                          """[{"chemical":{"SMILES":"C1COC(=O)O1"},"fraction":"a lot"},{"chemical":{},"fraction":0.5},7]""")
                  |> function
                      | Error e -> e
                      | Ok _ -> failtest "refused"

              Expect.equal
                  (errors |> List.map (fun e -> e.Path))
                  [ "formulation[0].fraction"; "formulation[1].chemical"; "formulation[2]" ]
                  "all three entries, in order"

              Expect.stringContains
                  errors[0].Message
                  "formulation[0].fraction is \"a lot\"; expected a number"
                  "value named"

              Expect.stringContains errors[1].Message "names no SMILES, InChIKey or name" "why"
          }

          test
              "mole-fraction reading refuses other fraction types, fractions outside 0..1 and, when asked, a chemical twice" {
              let refused (duplicates: DuplicateChemicalPolicy) (text: string) =
                  let ok, _, error = FormulationJson.TryDecodeMoleFractions(json text, duplicates)
                  Expect.isFalse ok text
                  error

              Expect.stringContains
                  (refused
                      DuplicateChemicalPolicy.Sum
                      """[{"chemical":{"SMILES":"C1COC(=O)O1"},"fraction":1,"fraction_type":"mass fraction"}]""")
                  "formulation[0].fraction_type is 'mass fraction'; only mole fractions (molPerMol) are used"
                  "the type as written"

              Expect.stringContains
                  (refused DuplicateChemicalPolicy.Sum """[{"chemical":{"name":"EC"},"fraction":1.5}]""")
                  "formulation[0].fraction is 1.5; expected 0..1"
                  "range"

              Expect.stringContains
                  (refused DuplicateChemicalPolicy.Sum """[{"chemical":{"name":"EC"},"fraction":0}]""")
                  "formulation has no chemical with a positive fraction"
                  "nothing positive"

              let twice =
                  """[{"chemical":{"name":"EC"},"fraction":0.5},{"chemical":{"SMILES":"C1COC(=O)O1"},"fraction":0.5}]"""

              Expect.stringContains
                  (refused DuplicateChemicalPolicy.Refuse twice)
                  "formulation[1]: chemical KMTRUDSVKNLOMY-UHFFFAOYSA-N appears more than once"
                  "second entry named"

              let ok, summed, _ =
                  FormulationJson.TryDecodeMoleFractions(json twice, DuplicateChemicalPolicy.Sum)

              Expect.isTrue ok "summed"
              Expect.floatClose Accuracy.veryHigh summed["KMTRUDSVKNLOMY-UHFFFAOYSA-N"] 1.0 "one key, the sum"
          }

          test "the core's formulation refuses unknown chemicals and mixed fraction types" {
              let message text =
                  match Finales2Formulation.toFormulation "formulation" (json text) with
                  | Error e -> Finales2Formulation.message e
                  | Ok _ -> failtest "refused"

              Expect.stringContains
                  (message """[{"chemical":{"SMILES":"CC(C)O"},"fraction":1,"fraction_type":"molPerMol"}]""")
                  "formulation[0].chemical: unknown chemical 'CC(C)O'"
                  "unknown chemical named"

              Expect.stringContains
                  (message
                      """[{"chemical":{"name":"EC"},"fraction":0.5,"fraction_type":"molPerMol"},{"chemical":{"name":"PC"},"fraction":0.5,"fraction_type":"w/w"}]""")
                  "mixes fraction types 'molPerMol', 'gPerG'"
                  "mixed types"

              Expect.stringContains
                  (message """[{"chemical":{"name":"EC"},"fraction":0.5,"fraction_type":"molPerMol"}]""")
                  "formulation: fractions sum to 0.5"
                  "the formulation's invariant"
          }

          test
              "a chemical object's key is the InChIKey of a known chemical by any identifier, else the first as written" {
              Expect.equal
                  (FormulationJson.ChemicalKey(json """{"SMILES":"XX","InChIKey":"KMTRUDSVKNLOMY-UHFFFAOYSA-N"}"""))
                  "KMTRUDSVKNLOMY-UHFFFAOYSA-N"
                  "known by InChIKey"

              Expect.equal
                  (FormulationJson.ChemicalKey(json """{"SMILES":" XX ","InChIKey":"YY"}"""))
                  "XX"
                  "unknown: the SMILES"

              Expect.isNull (FormulationJson.ChemicalKey(json """{"SMILES":" "}""")) "names nothing"
          }

          test "the facade's strict reading: a missing or unknown chemical and a missing fraction type are refused" {
              let refused (text: string) =
                  let ok, _, error =
                      FormulationJson.TryDecodeMoleFractionsWith(
                          json text,
                          DuplicateChemicalPolicy.Refuse,
                          MoleFractionOptions.StrictReferences ||| MoleFractionOptions.KeepZeros
                      )

                  Expect.isFalse ok text
                  error

              Expect.equal
                  (refused """[{"fraction":1,"fraction_type":"molPerMol"}]""")
                  "formulation[0].chemical is missing; it names neither an InChIKey nor a SMILES"
                  "no chemical"

              Expect.stringContains
                  (refused """[{"chemical":{"SMILES":"CC(C)O"},"fraction":1,"fraction_type":"molPerMol"}]""")
                  "formulation[0].chemical: unknown chemical 'CC(C)O'"
                  "unknown chemical"

              Expect.equal
                  (refused """[{"chemical":{"SMILES":"C1COC(=O)O1"},"fraction":1}]""")
                  "formulation[0].fraction_type is missing; expected a fraction type such as \"molPerMol\""
                  "no fraction type"

              let ok, fractions, error =
                  FormulationJson.TryDecodeMoleFractionsWith(
                      json
                          """[{"chemical":{"SMILES":"C1COC(=O)O1"},"fraction":1,"fraction_type":"molPerMol"},{"chemical":{"InChIKey":"RUOJZAUFBMNUDX-UHFFFAOYSA-N"},"fraction":0,"fraction_type":"mole fraction"}]""",
                      DuplicateChemicalPolicy.Refuse,
                      MoleFractionOptions.StrictReferences ||| MoleFractionOptions.KeepZeros
                  )

              Expect.isTrue ok error

              Expect.equal
                  (fractions |> Seq.map (fun kv -> kv.Key, kv.Value) |> List.ofSeq)
                  [ "KMTRUDSVKNLOMY-UHFFFAOYSA-N", 1.0; "RUOJZAUFBMNUDX-UHFFFAOYSA-N", 0.0 ]
                  "both entries by InChIKey, the zero kept"
          } ]
