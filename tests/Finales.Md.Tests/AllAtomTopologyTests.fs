/// The force-field reader and the topology perception (Setup/AllAtom.ForceField.fs, AllAtom.Molecule.fs).
module Finales.Md.Tests.AllAtomTopologyTests

open Expecto
open Finales.Md.Setup
open Finales.Md.Tests.AllAtomTestData

let private topology (file: string) =
    let text =
        geometry file |> Option.defaultWith (fun () -> failtestf "%s missing" file)

    MoleculeTopology.parseXyz text
    |> Result.bind (MoleculeTopology.perceive ff file)
    |> okOr file

[<Tests>]
let tests =
    testList
        "md.allatom.topology"
        [ test "the vendored force field parses with every section" {
              Expect.equal ff.Atoms.Count 13 "atom types"
              Expect.equal ff.Bonds.Length 6 "bond terms"
              Expect.equal ff.Angles.Length 9 "angle terms"
              Expect.equal ff.Dihedrals.Length 9 "dihedral terms"
              Expect.equal ff.Impropers.Length 1 "improper terms"
          }

          test "a force-field line that is not a number names the line and the field" {
              match ForceField.parse "ATOMS\nLi Li 6.941 +1.00 lj 2.126 x\n" with
              | Ok _ -> failtest "parsed a bad epsilon"
              | Error e -> Expect.stringContains e "line 2: epsilon 'x'" "names line and field"
          }

          test "an atom type the force field lacks is named" {
              match MoleculeTopology.perceive ff "X" [| "ZZ", { X = 0.0; Y = 0.0; Z = 0.0 } |] with
              | Ok _ -> failtest "perceived an unknown type"
              | Error e -> Expect.stringContains e "atom type 'ZZ'" "names the type"
          }

          test "every species' geometry gets a complete topology (counts a chemist expects)" {
              // (file, atoms, bonds, angles, dihedrals, impropers)
              for file, atoms, bonds, angles, dihedrals, impropers in
                  [ "Li.xyz", 1, 0, 0, 0, 0
                    "PF6.xyz", 7, 6, 12, 0, 0 // 15 F-P-F pairs less the 3 trans ones
                    "EC.xyz", 10, 10, 17, 19, 1
                    "DMC.xyz", 12, 11, 17, 10, 1
                    "EMC.xyz", 15, 14, 23, 19, 1
                    "PC.xyz", 13, 13, 23, 28, 1 ] do
                  let m = topology file
                  Expect.equal m.Atoms.Length atoms $"{file} atoms"
                  Expect.equal m.Bonds.Length bonds $"{file} bonds"
                  Expect.equal m.Angles.Length angles $"{file} angles"
                  Expect.equal m.Dihedrals.Length dihedrals $"{file} dihedrals"
                  Expect.equal m.Impropers.Length impropers $"{file} impropers"
          }

          test "the molecules are neutral and the ions carry their full published charge" {
              for file, q in
                  [ "Li.xyz", 1.0
                    "PF6.xyz", -1.0
                    "EC.xyz", 0.0
                    "DMC.xyz", 0.0
                    "EMC.xyz", 0.0
                    "PC.xyz", 0.0 ] do
                  Expect.floatClose Accuracy.high (MoleculeTopology.charge ff (topology file)) q $"{file} charge"
          }

          test "only bonds to H are constrained" {
              for file in [ "EC.xyz"; "DMC.xyz"; "EMC.xyz"; "PC.xyz"; "PF6.xyz" ] do
                  let m = topology file

                  for i, j, b in m.Bonds do
                      let toH = [ i; j ] |> List.exists (fun k -> ff.Atoms[fst m.Atoms[k]].Class = "HC")
                      Expect.equal b.Constrained toH $"{file} bond {i}-{j}"
          } ]
