/// FsCheck generators of primitive-model requests, registered through the config (never Arb.Register).
module Finales.Md.Tests.SetupArbitraries

open FsCheck
open FsCheck.FSharp
open Expecto
open Finales.Core
open Finales.Core.Units
open Finales.Md.Setup

/// Mole fractions (LiPF6 0.01..0.2, a random non-empty set of solvents), a temperature inside the model's range
/// and a seed: a request the primitive model accepts.
type ModelRequest =
    { Fractions: (string * float) list
      TemperatureK: float
      Seed: int }

/// Builds the system of a generated request with a short run (the properties concern the setup, not the run).
let shortRun (seed: int) : PrimitiveRun =
    { PrimitiveModel.defaultRun with
        ProductionPs = 100.0
        Seed = seed }

let private fraction = Gen.choose (1, 1000) |> Gen.map (fun i -> float i / 1000.0)

let private requestGen: Gen<ModelRequest> =
    gen {
        let! salt = Gen.choose (10, 200) |> Gen.map (fun i -> float i / 1000.0)
        let! mask = Gen.choose (1, 15)

        let solvents =
            [ EC; EMC; DMC; PC ]
            |> List.indexed
            |> List.filter (fun (i, _) -> (mask >>> i) &&& 1 = 1)
            |> List.map snd

        let! raw = Gen.listOfLength solvents.Length fraction
        let total = List.sum raw
        let! t = Gen.choose (24315, 35315) |> Gen.map (fun i -> float i / 100.0)
        let! seed = Gen.choose (0, 1_000_000)

        return
            { Fractions =
                ("LiPF6", salt)
                :: List.map2 (fun c w -> Chemical.name c, (1.0 - salt) * w / total) solvents raw
              TemperatureK = t
              Seed = seed }
    }
    // The few compositions whose molarity falls outside 0.05..3 mol/L are not model requests.
    |> Gen.filter (fun r ->
        PrimitiveModel.build r.Fractions (r.TemperatureK * 1.0<K>) (shortRun r.Seed)
        |> Result.isOk)

/// The generators of this file.
type SetupArbitraries =
    static member ModelRequest() : Arbitrary<ModelRequest> = Arb.fromGen requestGen

/// The FsCheck configuration of the setup tests.
let config: FsCheckConfig =
    { FsCheckConfig.defaultConfig with
        maxTest = 100
        arbitrary = [ typeof<SetupArbitraries> ] }

/// The system of a generated request (the generator guarantees it builds).
let systemOf (r: ModelRequest) : PrimitiveSystem =
    match PrimitiveModel.build r.Fractions (r.TemperatureK * 1.0<K>) (shortRun r.Seed) with
    | Ok s -> s
    | Error es -> failwithf "generated request does not build: %A" es
