module Finales.Md.Tests.PrimitiveModelTests

open Expecto
open Finales.Core
open Finales.Core.Units
open Finales.Md.Setup
open Finales.Md.Tests.SetupArbitraries

let private ecEmc (salt: float) =
    // EC:EMC 3:7 by mole in the solvent.
    [ "LiPF6", salt; "EC", (1.0 - salt) * 0.3; "EMC", (1.0 - salt) * 0.7 ]

let private errorsOf fractions t run =
    match PrimitiveModel.build fractions (t * 1.0<K>) run with
    | Ok _ -> failwith "expected the request to be refused"
    | Error es -> es |> List.map PrimitiveError.message

[<Tests>]
let tests =
    testList
        "md.setup.primitive.model"
        [ testPropertyWithConfig config "the box volume reproduces the salt concentration of the density model"
          <| fun (r: ModelRequest) ->
              let s = systemOf r
              let volumeLitres = s.BoxLengthAngstrom ** 3.0 * 1e-27

              let molarity =
                  float s.Request.Run.IonPairs / PrimitiveParameters.Avogadro / volumeLitres

              Expect.floatClose Accuracy.high molarity (float s.SaltMolarity) "N / (N_A V) is the molarity"

          testPropertyWithConfig config "the permittivity lies within the pure-solvent values of the mixture"
          <| fun (r: ModelRequest) ->
              let s = systemOf r

              let eps =
                  s.SolventVolumeFractions
                  |> List.choose (fst >> PrimitiveParameters.solventPermittivity)

              Expect.isTrue
                  (s.Permittivity >= List.min eps - 1e-9 && s.Permittivity <= List.max eps + 1e-9)
                  $"eps {s.Permittivity} within {List.min eps}..{List.max eps}"

              Expect.floatClose
                  Accuracy.high
                  (s.SolventVolumeFractions |> List.sumBy snd)
                  1.0
                  "volume fractions sum to 1"

          testPropertyWithConfig config "the viscosity and the friction are the core's and rise with the salt content"
          <| fun (r: ModelRequest) ->
              let s = systemOf r

              let core =
                  match VirtualElectrolyte.properties s.Request.Formulation s.Request.Temperature with
                  | Ok p -> p
                  | Error e -> failwith (ElectrolyteError.message e)

              Expect.floatClose Accuracy.veryHigh (float s.Viscosity) (float core.Viscosity) "viscosity of the core"

              let gamma =
                  6.0
                  * System.Math.PI
                  * float s.Viscosity
                  * 1e-3
                  * PrimitiveParameters.LiStokesRadiusAngstrom
                  * 1e-10

              Expect.floatClose Accuracy.high s.LiFriction gamma "Stokes friction of Li+"
              // More salt in the same solvent: a more viscous solution.
              let salt = r.Fractions |> List.find (fst >> (=) "LiPF6") |> snd

              let more =
                  r.Fractions
                  |> List.map (fun (k, x) ->
                      if k = "LiPF6" then
                          k, salt * 1.2
                      else
                          k, x * (1.0 - salt * 1.2) / (1.0 - salt))

              match PrimitiveModel.build more (r.TemperatureK * 1.0<K>) (shortRun r.Seed) with
              | Ok s2 -> Expect.isGreaterThan s2.LiFriction s.LiFriction "friction rises with the salt"
              | Error _ -> () // 20 % more salt left the model's molarity range

          testPropertyWithConfig config "dynamical masses give the requested damping time"
          <| fun (r: ModelRequest) ->
              let s = systemOf r
              // LAMMPS: gamma = m / damp, m in g/mol -> kg per ion.
              let gammaLi =
                  s.LiDynamicalMass
                  / 1000.0
                  / PrimitiveParameters.Avogadro
                  / (s.Request.Run.DampFs * 1e-15)

              Expect.floatClose Accuracy.high gammaLi s.LiFriction "Li+ friction from its dynamical mass"

          test "1 M LiPF6 in EC/EMC: a box of about 69 A, eps between EMC's and EC's, 50,000 steps for 1 ns" {
              let s =
                  match PrimitiveModel.build (ecEmc 0.085) 298.15<K> PrimitiveModel.defaultRun with
                  | Ok s -> s
                  | Error es -> failwithf "%A" es

              Expect.isTrue (float s.SaltMolarity > 0.8 && float s.SaltMolarity < 1.3) $"about 1 M: {s.SaltMolarity}"
              Expect.isTrue (s.BoxLengthAngstrom > 60.0 && s.BoxLengthAngstrom < 75.0) $"box {s.BoxLengthAngstrom}"
              Expect.isTrue (s.Permittivity > 2.96 && s.Permittivity < 89.8) $"eps {s.Permittivity}"
              Expect.equal s.ProductionSteps 50000 "1 ns at 20 fs"
              Expect.equal (s.ProductionSteps % s.FrameEverySteps) 0 "a whole number of frames"
          }

          test "fractions that do not sum to 1 are refused naming the formulation" {
              let messages =
                  errorsOf [ "LiPF6", 0.1; "EC", 0.3; "EMC", 0.3 ] 298.15 PrimitiveModel.defaultRun

              Expect.exists messages (fun m -> m.StartsWith "formulation:" && m.Contains "sum to 0.7") $"{messages}"
          }

          test "a temperature outside 243.15..353.15 K is refused naming the temperature" {
              let messages = errorsOf (ecEmc 0.085) 400.0 PrimitiveModel.defaultRun
              Expect.equal messages [ "temperature is 400 K; the primitive model covers 243.15..353.15 K" ] "one error"
          }

          test "a formulation without salt or with a chemical the model does not know is refused" {
              let noSalt = errorsOf [ "EC", 0.3; "EMC", 0.7 ] 298.15 PrimitiveModel.defaultRun
              Expect.exists noSalt (fun m -> m.Contains "no LiPF6") $"{noSalt}"

              let unknown =
                  errorsOf [ "LiPF6", 0.1; "EC", 0.4; "water", 0.5 ] 298.15 PrimitiveModel.defaultRun

              Expect.exists unknown (fun m -> m.StartsWith "formulation:" && m.Contains "water") $"{unknown}"
              let noSolvent = errorsOf [ "LiPF6", 1.0 ] 298.15 PrimitiveModel.defaultRun
              Expect.exists noSolvent (fun m -> m.Contains "no solvent") $"{noSolvent}"
          }

          test "a salt concentration above 3 mol/L is refused naming the formulation's molarity" {
              let messages = errorsOf (ecEmc 0.4) 298.15 PrimitiveModel.defaultRun

              Expect.exists
                  messages
                  (fun m -> m.StartsWith "formulation gives" && m.Contains "0.05..3 mol/L")
                  $"{messages}"
          }

          test "every invalid run setting is named at once" {
              let run =
                  { PrimitiveModel.defaultRun with
                      TimestepFs = nan
                      IonPairs = 1
                      DampFs = 20.0 }

              let messages = errorsOf (ecEmc 0.085) 298.15 run
              Expect.exists messages (fun m -> m.StartsWith "timestep_fs is NaN") $"{messages}"
              Expect.exists messages (fun m -> m.StartsWith "ion_pairs is 1") $"{messages}"
          } ]
