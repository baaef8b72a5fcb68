/// The vendored all-atom force field and geometries (data/md/allatom), request builders and FsCheck
/// generators of the all-atom setup tests, registered through the FsCheck config (never Arb.Register).
module Finales.Md.Tests.AllAtomTestData

open System.IO
open FsCheck
open FsCheck.FSharp
open Expecto
open Finales.Core
open Finales.Md.Setup
open Finales.Tests

/// data/md/allatom of the repository.
let directory: string = Path.Combine(RepoData.root, "data", "md", "allatom")

/// The force-field text.
let forceField: string =
    File.ReadAllText(Path.Combine(directory, AllAtomPlan.ForceFieldFile))

/// A geometry text by file name, None when the file does not exist.
let geometry (file: string) : string option =
    let path = Path.Combine(directory, file)

    if File.Exists path then
        Some(File.ReadAllText path)
    else
        None

/// The parsed force field.
let ff: ForceField =
    match ForceField.parse forceField with
    | Ok ff -> ff
    | Error e -> failwith $"the vendored force field does not parse: {e}"

/// A short run (the smoke test's lengths).
let shortRun: AllAtomRun =
    { TemperatureK = 298.15
      PressureAtm = 1.0
      TimestepFs = 1.0
      MinimiseIterations = 200
      NvtSteps = 200
      NptSteps = 200
      ProductionSteps = 200
      ThermoEvery = 20
      DumpEvery = 20
      RestartEvery = 100
      Seed = 4711 }

/// 1 M LiPF6 in EC/EMC 3:7 by weight, as mole fractions (LiPF6 one formula unit).
let lp57: (Chemical * float) list = [ LiPF6, 0.086; EC, 0.307; EMC, 0.607 ]

/// A request for `fractions` in a box of about `atoms` atoms with the short run.
let request (fractions: (Chemical * float) list) (atoms: int) : AllAtomRequest =
    { Fractions = fractions
      TargetAtoms = atoms
      Run = shortRun }

/// Random mole fractions over a non-empty subset of the chemicals, summing to 1.
type Fractions = Fractions of (Chemical * float) list

/// Random fractions with the salt and at least one solvent, each at least 1/41, and a box of 1,000..2,500
/// atoms: every component gets a molecule, so the plan can be built.
type PlanCase = PlanCase of (Chemical * float) list * int

let private positive = Gen.choose (1, 1000) |> Gen.map float

let private normalised (pairs: (Chemical * float) list) =
    let total = pairs |> List.sumBy snd
    pairs |> List.map (fun (c, v) -> c, v / total)

/// FsCheck generators of this file.
type Arbitraries =
    static member Fractions() : Arbitrary<Fractions> =
        gen {
            let! mask = Gen.choose (1, 31)

            let chems =
                Chemical.all
                |> List.indexed
                |> List.filter (fun (i, _) -> (mask >>> i) &&& 1 = 1)
                |> List.map snd

            let! raw = Gen.listOfLength chems.Length positive
            return Fractions(normalised (List.zip chems raw))
        }
        |> Arb.fromGen

    static member PlanCase() : Arbitrary<PlanCase> =
        gen {
            let! salt = Gen.choose (100, 300) |> Gen.map float
            let! mask = Gen.choose (1, 15)

            let solvents =
                [ EC; EMC; DMC; PC ]
                |> List.indexed
                |> List.filter (fun (i, _) -> (mask >>> i) &&& 1 = 1)
                |> List.map snd

            let! raw = Gen.listOfLength solvents.Length (Gen.choose (100, 1000) |> Gen.map float)
            let! atoms = Gen.choose (1000, 2500)
            return PlanCase(normalised ((LiPF6, salt) :: List.zip solvents raw), atoms)
        }
        |> Arb.fromGen

/// The FsCheck configuration of the all-atom tests.
let config: FsCheckConfig =
    { FsCheckConfig.defaultConfig with
        maxTest = 100
        arbitrary = [ typeof<Arbitraries> ] }

/// The same with fewer cases, for properties that build whole data files.
let planConfig: FsCheckConfig = { config with maxTest = 25 }

/// The value of an Ok, or a failed expectation naming `what`.
let okOr (what: string) (r: Result<'a, 'e>) : 'a =
    match r with
    | Ok v -> v
    | Error e -> failtestf "%s failed: %A" what e
