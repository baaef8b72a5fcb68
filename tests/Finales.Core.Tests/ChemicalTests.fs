module Finales.Core.Tests.ChemicalTests

open Expecto
open Finales.Core

[<Tests>]
let tests =
    testList
        "Chemical"
        [ test "every chemical is found by its name, SMILES and InChIKey" {
              for c in Chemical.all do
                  let d = Chemical.data c
                  Expect.equal (Chemical.tryFind d.Name) (Some c) $"by name {d.Name}"
                  Expect.equal (Chemical.tryFind d.Smiles) (Some c) $"by SMILES {d.Smiles}"
                  Expect.equal (Chemical.tryFind d.InChIKey) (Some c) $"by InChIKey {d.InChIKey}"
                  Expect.equal (Chemical.tryFind (d.Name.ToLowerInvariant())) (Some c) "names are case-insensitive"
          }
          test "indices are 0..count-1 in table order" {
              Expect.equal (Chemical.all |> List.map Chemical.index) [ 0 .. Chemical.count - 1 ] "indices"

              Expect.equal
                  (Chemical.all |> List.choose (Chemical.index >> Chemical.tryOfIndex))
                  Chemical.all
                  "round trip"
          }
          test "the table holds the molar masses of domain.md section 1" {
              Expect.floatClose Accuracy.veryHigh (float (Chemical.molarMass LiPF6)) 151.905 "LiPF6"
              Expect.floatClose Accuracy.veryHigh (float (Chemical.molarMass EC)) 88.062 "EC"
              Expect.floatClose Accuracy.veryHigh (float (Chemical.molarMass EMC)) 104.104 "EMC"
              Expect.floatClose Accuracy.veryHigh (float (Chemical.molarMass DMC)) 90.078 "DMC"
              Expect.floatClose Accuracy.veryHigh (float (Chemical.molarMass PC)) 102.089 "PC"
          }
          test "an unknown key is an error naming the key and the known names" {
              match Chemical.find "water" with
              | Ok c -> failtestf "water resolved to %A" c
              | Error msg ->
                  Expect.stringContains msg "'water'" "names the key"
                  Expect.stringContains msg "LiPF6, EC, EMC, DMC, PC" "lists the known chemicals"
          }
          test "a SMILES is matched exactly (not case-insensitively)" {
              Expect.isNone (Chemical.tryFind "c1coc(=o)o1") "lower-case SMILES is a different molecule notation"
          } ]
