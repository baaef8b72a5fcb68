module Finales.Core.Tests.DesignLimitationsTests

open System
open System.Text.Json
open System.Text.Json.Nodes
open FsCheck
open FsCheck.FSharp
open Expecto
open Finales.Core
open Finales.Core.Units
open Finales.Core.Interop
open Finales.Core.Tests.Arbitraries

let private element (node: JsonNode) : JsonElement = JsonSerializer.SerializeToElement node

/// A design space over a random non-empty subset of the chemicals: per chemical one interval inside 0..1, sometimes
/// with the "absent" interval [0, 0] beside it; a temperature range. With a point (mole fractions by chemical name,
/// temperature) inside it, and one outside it.
type private Case =
    { Components: (string * FractionInterval list) list
      TemperatureMin: float
      TemperatureMax: float
      Inside: (string * float) list
      InsideTemperature: float }

let private grid (i: int) = float i / 1000.0

let private caseGen: Gen<Case> =
    gen {
        let! chemicals = Gen.subListOf Chemical.all |> Gen.filter (List.isEmpty >> not)

        let! components =
            chemicals
            |> List.map (fun c ->
                gen {
                    let! a = Gen.choose (0, 1000)
                    let! b = Gen.choose (0, 1000)
                    let! absent = Gen.elements [ false; true ]

                    let interval =
                        { Min = grid (min a b)
                          Max = grid (max a b) }

                    let intervals =
                        if absent then
                            [ { Min = 0.0; Max = 0.0 }; interval ]
                        else
                            [ interval ]

                    let! pick = Gen.choose (min a b, max a b)
                    return (Chemical.name c, intervals), (Chemical.name c, grid pick)
                })
            |> Gen.sequenceToList

        let! t1 = Gen.choose (25000, 35000)
        let! t2 = Gen.choose (25000, 35000)
        let! t = Gen.choose (min t1 t2, max t1 t2)

        return
            { Components = components |> List.map fst
              TemperatureMin = float (min t1 t2) / 100.0
              TemperatureMax = float (max t1 t2) / 100.0
              Inside = components |> List.map snd
              InsideTemperature = float t / 100.0 }
    }

let private parameters (fractions: (string * float) list) (temperature: float) : JsonElement =
    let o = JsonObject()

    o["formulation"] <-
        Finales2Formulation.encodeKnown MolePerMole fractions
        |> TestData.okOr "known chemicals"

    o["temperature"] <- JsonValue.Create temperature
    element o

let private parsed (c: Case) : Limitations.Parsed =
    DesignLimitations.create FractionType.MolPerMol c.Components (c.TemperatureMin * 1.0<K>) (c.TemperatureMax * 1.0<K>)
    |> TestData.okOr "design space"
    |> DesignLimitations.toJson
    |> element
    |> Limitations.parse
    |> TestData.okOr "the core's limitations parser reads the builder's output"

[<Tests>]
let tests =
    testList
        "DesignLimitations"
        [ testPropertyWithConfig config "a point inside the built design space is admitted by the limitations check"
          <| Prop.forAll (Arb.fromGen caseGen) (fun c ->
              // The check reads entries, not sums: a point inside every interval is admitted whatever its sum.
              Limitations.check [ parsed c ] (parameters c.Inside c.InsideTemperature)
              |> Result.isOk)

          testPropertyWithConfig config "a fraction or temperature outside the built design space is refused"
          <| Prop.forAll (Arb.fromGen caseGen) (fun c ->
              let (name, intervals), _ = c.Components.Head, ()
              let top = intervals |> List.map (fun i -> i.Max) |> List.max

              let above =
                  c.Inside |> List.map (fun (n, x) -> if n = name then n, top + 0.01 else n, x)

              let tooHot = c.TemperatureMax + 1.0
              let limits = [ parsed c ]

              Expect.isError
                  (Limitations.check limits (parameters above c.InsideTemperature))
                  "fraction above every interval"

              Expect.isError (Limitations.check limits (parameters c.Inside tooHot)) "temperature above the range")

          test "the wire shape of a design space and of a tenant entry" {
              let space =
                  LimitationsJson.DesignSpace(
                      [ DesignComponentSpec("LiPF6", { Min = 0.02; Max = 0.086 })
                        DesignComponentSpec("EMC", { Min = 0.0; Max = 0.0 }, { Min = 0.05; Max = 0.66 }) ],
                      283.15,
                      313.15
                  )

              Expect.equal
                  ((LimitationsJson.TenantEntry("density", "vibrating_tube_densimetry", space)).ToJsonString())
                  """{"quantity":"density","method":"vibrating_tube_densimetry","limitations":{"formulation":[[{"chemical":{"SMILES":"[Li\u002B].F[P-](F)(F)(F)(F)F","InChIKey":"AXPLOJNSKRXQPA-UHFFFAOYSA-N"},"fraction":[{"min":0.02,"max":0.086}],"fraction_type":["molPerMol"]},{"chemical":{"SMILES":"CCOC(=O)OC","InChIKey":"JBTWLSYIZRCDFO-UHFFFAOYSA-N"},"fraction":[{"min":0,"max":0},{"min":0.05,"max":0.66}],"fraction_type":["molPerMol"]}]],"temperature":[{"min":283.15,"max":313.15}]}}"""
                  "the FINALES2 shape"
          }

          test "every problem of a design space is named" {
              match
                  DesignLimitations.create
                      FractionType.MolPerMol
                      [ "NaCl", [ { Min = 0.0; Max = 1.0 } ]
                        "EC", [ { Min = 0.5; Max = 0.2 } ]
                        "PC", []
                        "C1COC(=O)O1", [ { Min = 0.0; Max = 1.0 } ] ]
                      300.0<K>
                      290.0<K>
              with
              | Ok _ -> failtest "refused"
              | Error problems ->
                  let all = String.Join(" | ", problems)
                  Expect.stringContains all "unknown chemical 'NaCl'" "unknown chemical"
                  Expect.stringContains all "fraction interval of EC is 0.5..0.2" "reversed interval"
                  Expect.stringContains all "chemical PC has no fraction interval" "no interval"
                  Expect.stringContains all "temperature range is 300..290 K" "temperature"

                  Expect.stringContains
                      all
                      "KMTRUDSVKNLOMY-UHFFFAOYSA-N appears more than once"
                      "EC twice, by name and SMILES"

              Expect.throwsT<ArgumentException>
                  (fun () ->
                      LimitationsJson.DesignSpace([ DesignComponentSpec("NaCl", { Min = 0.0; Max = 1.0 }) ], 1.0, 2.0)
                      |> ignore)
                  "the facade throws for a programmer's mistake"
          } ]
