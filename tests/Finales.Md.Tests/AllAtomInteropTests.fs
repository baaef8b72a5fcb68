/// The C# facade of the all-atom setup (InteropAllAtom.fs), without running anything.
module Finales.Md.Tests.AllAtomInteropTests

open System
open System.Collections.Generic
open System.IO
open Expecto
open Finales.Md.Interop
open Finales.Md.Tests.AllAtomTestData

let private fractions (pairs: (string * float) list) : IReadOnlyDictionary<string, float> =
    let d = Dictionary<string, float>()

    for k, v in pairs do
        d[k] <- v

    d

let private prepare (input: AllAtomSetupInput) (dir: string) =
    let mutable plan = Unchecked.defaultof<AllAtomSetupPlan>
    let mutable error = ""
    let ok = AllAtomSetup.TryPrepare(input, dir, &plan, &error)
    ok, plan, error

let private tempDir () =
    Path.Combine(Path.GetTempPath(), $"finales-allatom-interop-{Guid.NewGuid():N}")

[<Tests>]
let tests =
    testList
        "md.allatom.interop"
        [ test "a chemical the force field does not cover is refused, naming it, and nothing is written" {
              let dir = tempDir ()

              let input =
                  AllAtomSetup.Defaults(fractions [ "LiPF6", 0.1; "NaCl", 0.9 ], 298.15, directory)

              let ok, plan, error = prepare input dir
              Expect.isFalse ok "refused"
              Expect.isNull (box plan) "no plan"
              Expect.stringContains error "moleFractions: unknown chemical 'NaCl'" "names the key"
              Expect.isFalse (Directory.Exists dir) "no work directory"
          }

          test "fractions that do not sum to 1 and a temperature out of range are both reported" {
              let input =
                  { AllAtomSetup.Defaults(fractions [ "LiPF6", 0.1; "EC", 0.5 ], 900.0, directory) with
                      TargetAtoms = 1000 }

              let ok, _, error = prepare input (tempDir ())
              Expect.isFalse ok "refused"
              Expect.stringContains error "mole fractions sum to 0.6" "sum"
              Expect.stringContains error "temperature is 900 K" "temperature"
          }

          test "a data directory without the force field is named" {
              let input =
                  AllAtomSetup.Defaults(fractions [ "EC", 1.0 ], 298.15, "/nonexistent/allatom")

              let ok, _, error = prepare input (tempDir ())
              Expect.isFalse ok "refused"
              Expect.stringContains error "dataDirectory: '/nonexistent/allatom'" "names the directory"
          }

          test "a prepared run has its files, scripts and analysis input" {
              let dir = tempDir ()

              try
                  let input =
                      { AllAtomSetup.Defaults(
                            fractions [ "LiPF6", 0.086; "EC", 0.307; "EMC", 0.607 ],
                            298.15,
                            directory
                        ) with
                          TargetAtoms = 1500
                          LammpsCommand = "mpirun -np 4 lmp" }

                  let ok, plan, error = prepare input dir
                  Expect.isTrue ok $"prepared: {error}"

                  for f in plan.Files do
                      Expect.isTrue (File.Exists(Path.Combine(dir, f))) $"{f} written"

                  Expect.stringContains plan.Script "mpirun -np 4 lmp -in in.lammps -log log.lammps" "LAMMPS command"
                  Expect.stringContains plan.RestartScript "in.restart.lammps" "requeue input"
                  Expect.equal plan.Counts["LiPF6"] 10 "ion pairs"
                  Expect.equal plan.TotalSteps 6_100_000 "0.1 + 1 + 5 ns at 1 fs"
                  let analysis = plan.AnalysisInput(Nullable(), Nullable())
                  Expect.equal analysis.DumpPath (Path.Combine(dir, "traj.dump")) "dump"
                  Expect.equal analysis.Species.Count 4 "Li, PF6, EC, EMC"

                  Expect.equal
                      (plan.TypeMasses.Keys |> Set.ofSeq)
                      (plan.Species |> Seq.collect (fun s -> s.AtomTypes) |> Set.ofSeq)
                      "a mass for every type"
              finally
                  if Directory.Exists dir then
                      Directory.Delete(dir, true)
          } ]
