module Finales.Core.Tests.TenantLimitationsTests

open System.Text.Json.Nodes
open FsCheck
open FsCheck.FSharp
open Expecto
open Finales.Core
open Finales.Core.Tests.Arbitraries

let private space (max: float) : JsonNode =
    DesignLimitations.create FractionType.MolPerMol [ "EC", [ { Min = 0.0; Max = max } ] ] 250.0<Units.K> 300.0<Units.K>
    |> TestData.okOr "space"
    |> DesignLimitations.toJson
    :> JsonNode

/// A list of n entries, those at the `broken` indices with a limitations document the language refuses.
let private listGen: Gen<int * Set<int> * string> =
    gen {
        let! n = Gen.choose (0, 8)
        let! broken = Gen.subListOf [ 0 .. n - 1 ] |> Gen.map Set.ofList

        let entries =
            [ for i in 0 .. n - 1 ->
                  let limitations =
                      if broken.Contains i then
                          JsonObject(
                              dict
                                  [ "temperature",
                                    JsonObject(
                                        dict [ "min", JsonValue.Create 2.0 :> JsonNode; "max", JsonValue.Create 1.0 ]
                                    )
                                    :> JsonNode ]
                          )
                          :> JsonNode
                      else
                          space (float (i + 1) / 10.0)

                  DesignLimitations.tenantEntry "density" $"method_{i}" limitations :> JsonNode ]

        return n, broken, JsonArray(Array.ofList entries).ToJsonString()
    }

[<Tests>]
let tests =
    testList
        "TenantLimitations"
        [ testPropertyWithConfig config "every usable entry is kept in order and every broken one is named by its index"
          <| Prop.forAll (Arb.fromGen listGen) (fun (n, broken, json) ->
              let parsed = TenantLimitations.parse InputLimits.defaults json

              Expect.equal
                  (parsed.Usable |> List.map (fun l -> l.Method))
                  [ for i in 0 .. n - 1 do
                        if not (broken.Contains i) then
                            $"method_{i}" ]
                  "the usable entries, in order"

              Expect.equal
                  (parsed.Problems |> List.map (fun p -> p.Substring(0, p.IndexOf ' ')))
                  [ for i in Set.toList broken -> $"limitations[{i}]" ]
                  "one problem per broken entry, naming it"

              for p in parsed.Problems do
                  Expect.stringContains p "min 2 is greater than max 1" "the language's reason")

          test "the caps and the shape are refused with the limit named" {
              let tight =
                  { InputLimits.defaults with
                      MaxLimitationEntries = 1
                      MaxLimitationsBytes = 100 }

              let problems json =
                  (TenantLimitations.parse tight json).Problems |> String.concat " | "

              Expect.stringContains
                  (problems (String.replicate 101 " "))
                  "limitations are 101 bytes of JSON; at most 100"
                  "bytes"

              Expect.stringContains
                  (problems "[{},{}]")
                  "limitations hold 2 entries; at most 1 (quantity, method) entries"
                  "entries"

              Expect.stringContains
                  (problems "{}")
                  "limitations must be a list of {quantity, method, limitations}, got Object"
                  "shape"

              Expect.stringContains
                  (problems """[{"quantity":"q"}]""")
                  "limitations[0] must be an object with string quantity, string method and limitations"
                  "entry shape"
          }

          test "a stored list that is not strict JSON keeps its strict entries and names the others" {
              let parsed =
                  TenantLimitations.parse
                      InputLimits.defaults
                      """[{"quantity":"q","method":"m","limitations":{}},{"quantity":"q","method":"m","method":"n","limitations":{}}]"""

              Expect.equal (parsed.Usable |> List.map (fun l -> l.Method)) [ "m" ] "the strict entry is usable"
              Expect.equal parsed.Problems.Length 1 "one problem"
              Expect.stringStarts parsed.Problems.Head "limitations[1]" "the duplicate member's entry is named"

              let between =
                  TenantLimitations.parse
                      InputLimits.defaults
                      "[{\"quantity\":\"q\",\"method\":\"m\",\"limitations\":{}}] "

              Expect.isEmpty between.Problems "trailing blanks are strict JSON"

              let broken = TenantLimitations.parse InputLimits.defaults "[{"
              Expect.isEmpty broken.Usable "nothing usable in broken JSON"
              Expect.stringStarts broken.Problems.Head "limitations" "the strict parser's message, with its path"
          } ]
