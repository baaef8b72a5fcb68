module Finales.Core.Tests.FormulationTests

open Expecto
open Finales.Core
open Finales.Core.Tests.Arbitraries

let private closeFormulations (a: Formulation) (b: Formulation) (what: string) =
    for c in Chemical.all do
        Expect.floatClose
            { absolute = 1e-12; relative = 1e-10 }
            (Formulation.fraction c a)
            (Formulation.fraction c b)
            $"{what}: fraction of {Chemical.name c}"

[<Tests>]
let tests =
    testList
        "Formulation"
        [ test "a valid formulation keeps its fractions" {
              let f =
                  Formulation.create MolePerMole [ LiPF6, 0.1; EC, 0.4; EMC, 0.5 ]
                  |> TestData.okOr "valid"

              Expect.equal (Formulation.basis f) MolePerMole "basis"
              Expect.floatClose Accuracy.veryHigh (Formulation.fraction EMC f) 0.5 "EMC"
              Expect.floatClose Accuracy.veryHigh (Formulation.fraction PC f) 0.0 "absent PC is 0"
          }
          test "a negative fraction is an error naming the chemical and the value" {
              match Formulation.create MolePerMole [ EC, -0.1; EMC, 1.1 ] with
              | Ok _ -> failtest "accepted a negative fraction"
              | Error es ->
                  let msg = es |> List.map FormulationError.message |> String.concat "; "
                  Expect.stringContains msg "fraction of EC is -0.1" "names EC and -0.1"
                  Expect.stringContains msg ">= 0" "states the rule"
          }
          test "NaN and infinity are rejected" {
              for v in [ nan; infinity; -infinity ] do
                  match Formulation.create MolePerMole [ EC, v; EMC, 0.5 ] with
                  | Error [ FractionNotFinite(EC, _) ] -> ()
                  | other -> failtestf "%f gave %A" v other
          }
          test "fractions must sum to 1 within 1e-6" {
              Expect.isOk (Formulation.create MolePerMole [ EC, 0.5; EMC, 0.5000009 ]) "within tolerance"

              match Formulation.create MolePerMole [ EC, 0.5; EMC, 0.5001 ] with
              | Error [ FractionsDoNotSumToOne s ] -> Expect.floatClose Accuracy.high s 1.0001 "reports the sum"
              | other -> failtestf "expected a sum error, got %A" other
          }
          test "duplicates and empty formulations are rejected, all errors collected" {
              match Formulation.create MolePerMole [ EC, 0.5; EC, -0.5 ] with
              | Error es ->
                  Expect.contains es (DuplicateChemical EC) "duplicate"
                  Expect.contains es (FractionNegative(EC, -0.5)) "negative"
              | Ok _ -> failtest "accepted a duplicate"

              Expect.equal (Formulation.create MolePerMole []) (Error [ EmptyFormulation ]) "empty"
          }
          test "parse resolves names, SMILES and InChIKeys and reports unknown keys" {
              let f =
                  Formulation.parse MolePerMole [ "LiPF6", 0.1; "C1COC(=O)O1", 0.4; "JBTWLSYIZRCDFO-UHFFFAOYSA-N", 0.5 ]
                  |> TestData.okOr "parse"

              Expect.floatClose Accuracy.veryHigh (Formulation.fraction EC f) 0.4 "EC by SMILES"
              Expect.floatClose Accuracy.veryHigh (Formulation.fraction EMC f) 0.5 "EMC by InChIKey"

              match Formulation.parse MolePerMole [ "NaCl", 1.0 ] with
              | Error [ UnknownChemical("NaCl", msg) ] -> Expect.stringContains msg "'NaCl'" "names the key"
              | other -> failtestf "expected unknown chemical, got %A" other
          }
          test "mole to mass uses the molar masses" {
              let f = Formulation.create MolePerMole [ EC, 0.5; EMC, 0.5 ] |> TestData.okOr "f"
              let m = Formulation.toMass f
              Expect.floatClose Accuracy.veryHigh (Formulation.fraction EC m) (88.062 / (88.062 + 104.104)) "w_EC"
          }
          test "mass to volume uses the densities (ideal mixing)" {
              let f = Formulation.create MassPerMass [ EC, 0.5; EMC, 0.5 ] |> TestData.okOr "f"
              let v = Formulation.toVolume f
              let expected = (0.5 / 1.321) / (0.5 / 1.321 + 0.5 / 1.006)
              Expect.floatClose Accuracy.veryHigh (Formulation.fraction EC v) expected "phi_EC"
          }
          testPropertyWithConfig config "mole -> mass -> mole round-trips" (fun (ValidFormulation f) ->
              let back = f |> Formulation.toMass |> Formulation.toMole
              Expect.equal (Formulation.basis back) MolePerMole "basis"
              closeFormulations f back "mole -> mass -> mole")
          testPropertyWithConfig config "mole -> volume -> mole round-trips" (fun (ValidFormulation f) ->
              let back = f |> Formulation.toVolume |> Formulation.toMole
              closeFormulations f back "mole -> volume -> mole")
          testPropertyWithConfig
              config
              "mass -> volume -> mass round-trips with custom densities"
              (fun (ValidFormulation f) ->
                  let density c =
                      Chemical.density25 c * (1.0 + 0.1 * float (Chemical.index c))

                  let m = Formulation.convertWith density MassPerMass f

                  let back =
                      m
                      |> Formulation.convertWith density VolumePerVolume
                      |> Formulation.convertWith density MassPerMass

                  closeFormulations m back "mass -> volume -> mass")
          testPropertyWithConfig
              config
              "converted formulations are valid: fractions >= 0 summing to 1"
              (fun (ValidFormulation f) ->
                  for b in [ MassPerMass; VolumePerVolume ] do
                      let g = Formulation.convert b f
                      let fs = Formulation.fractions g |> Map.toList |> List.map snd
                      Expect.isTrue (fs |> List.forall (fun v -> v >= 0.0)) "non-negative"
                      Expect.floatClose { absolute = 1e-12; relative = 0.0 } (List.sum fs) 1.0 "sum") ]
