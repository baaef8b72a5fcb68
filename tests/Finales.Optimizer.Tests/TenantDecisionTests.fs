module Finales.Optimizer.Tests.TenantDecisionTests

open System.Text.Json
open System.Text.Json.Nodes
open Expecto
open FsCheck
open FsCheck.FSharp
open Finales.Core
open Finales.Optimizer

/// A point over the core's chemicals (fractions on a 1/20 grid) at a temperature (K, 0.01 K grid).
type GridPoint =
    { Fractions: (string * float) list
      Temperature: float }

type DecisionArbitraries =
    static member Point() : Arbitrary<GridPoint> =
        gen {
            let! weights = Gen.listOfLength Chemical.count (Gen.choose (0, 4))
            let weights = if List.sum weights = 0 then [ 1; 0; 0; 0; 0 ] else weights
            let total = float (List.sum weights)
            let! t = Gen.choose (25000, 35000)

            return
                { Fractions =
                    List.zip Chemical.all weights
                    |> List.filter (fun (_, w) -> w > 0)
                    |> List.map (fun (c, w) -> (Chemical.data c).InChIKey, float w / total)
                  Temperature = float t / 100.0 }
        }
        |> Arb.fromGen

let private config =
    { FsCheckConfig.defaultConfig with
        arbitrary = [ typeof<DecisionArbitraries> ]
        maxTest = 200 }

let private rule =
    { FractionDigits = 6
      TemperatureDigits = 2 }

let private offered (key: ChemicalKey) : OfferedChemical option =
    Chemical.tryFind (ChemicalKey.value key)
    |> Option.map (fun c ->
        let d = Chemical.data c

        { Key = ChemicalKey.create d.InChIKey
          Smiles = d.Smiles
          InChIKey = d.InChIKey })

let private element (json: string) =
    JsonDocument.Parse(json).RootElement.Clone()

[<Tests>]
let tests =
    testList
        "TenantDecision"
        [ testPropertyWithConfig
              config
              "the parameters of a point read back as the same point (key, fractions, temperature)"
              (fun (p: GridPoint) ->
                  let keyed = p.Fractions |> List.map (fun (k, v) -> ChemicalKey.create k, v)

                  match TenantDecision.parameters offered keyed (p.Temperature * 1.0<Units.K>) with
                  | Error _ -> false
                  | Ok o ->
                      let request = JsonObject()
                      request["m"] <- o

                      match TenantDecision.requestPoint rule (JsonSerializer.SerializeToElement request) "m" with
                      | None -> false
                      | Some back ->
                          back.Key = (PointKey.create rule p.Fractions p.Temperature |> PointKey.value)
                          && float back.Temperature = p.Temperature
                          && List.sort (back.Fractions |> List.map (fun (k, v) -> ChemicalKey.value k, v)) = List.sort
                              p.Fractions)

          testProperty "the best index holds the lowest merit, the first of equals" (fun (merits: NormalFloat list) ->
              let xs = merits |> List.map (fun x -> x.Get)

              match TenantDecision.best xs, xs with
              | None, [] -> true
              | Some i, _ ->
                  let m = List.min xs
                  xs[i] = m && (xs |> List.take i |> List.forall (fun x -> x > m))
              | None, _ -> false)

          test "parameters name the chemical the limitations lack" {
              match TenantDecision.parameters (fun _ -> None) [ ChemicalKey.create "X", 1.0 ] 300.0<Units.K> with
              | Error e -> Expect.equal e "chemical X has no SMILES/InChIKey in the limitations" "named"
              | Ok _ -> failtest "a chemical without identifiers was written"
          }

          test "a request without a readable formulation or a numeric temperature has no point" {
              let read (json: string) =
                  TenantDecision.requestPoint rule (element json) "m"

              Expect.isNone (read """{"m":{"formulation":[{"chemical":{},"fraction":1}],"temperature":300}}""") "no id"

              Expect.isNone
                  (read """{"m":{"formulation":[{"chemical":{"SMILES":"CCOC(=O)OC"},"fraction":1}]}}""")
                  "no T"

              Expect.isNone (read """{"other":{}}""") "another method"
          }

          test "the offered chemicals of the corpus' limitations are keyed canonically, known ones completed" {
              let doc =
                  element (Finales.Tests.RepoData.readCorpus "examples/limitations/conductivity/two_electrode.json")

              let chemicals = TenantDecision.offeredChemicals doc

              Expect.equal
                  (chemicals |> List.map (fun c -> ChemicalKey.value c.Key))
                  [ "KMTRUDSVKNLOMY-UHFFFAOYSA-N"
                    "AXPLOJNSKRXQPA-UHFFFAOYSA-N"
                    "JBTWLSYIZRCDFO-UHFFFAOYSA-N" ]
                  "EC, LiPF6 and EMC by InChIKey, in order"

              Expect.equal chemicals[1].Smiles "[Li+].F[P-](F)(F)(F)(F)F" "the table's SMILES"

              let unknown =
                  TenantDecision.offeredChemicals (
                      element """{"formulation":[[{"chemical":{"SMILES":"CC"},"fraction":[1]}]]}"""
                  )

              Expect.equal
                  unknown
                  [ { Key = ChemicalKey.create "CC"
                      Smiles = "CC"
                      InChIKey = "CC" } ]
                  "an unknown chemical keeps its SMILES, which stands in for the InChIKey"
          } ]
