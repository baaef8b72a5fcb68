/// The box, its data file, the inputs and the plan (Setup/AllAtom.System.fs, AllAtom.Input.fs, AllAtom.Plan.fs).
module Finales.Md.Tests.AllAtomPlanTests

open System
open Expecto
open Finales.Core
open Finales.Md.Setup
open Finales.Md.Tests.AllAtomTestData

let private plan (fractions: (Chemical * float) list) (atoms: int) : AllAtomPlan =
    AllAtomPlan.create forceField geometry (request fractions atoms) |> okOr "plan"

let private file (p: AllAtomPlan) (name: string) : string =
    p.Files |> List.find (fun (n, _) -> n = name) |> snd

/// The data file's header counts and sections (title -> lines).
let private parseData (text: string) =
    let lines = text.Split('\n') |> Array.map (fun l -> l.Trim())

    let header =
        lines
        |> Array.choose (fun l ->
            let t = l.Split(' ', StringSplitOptions.RemoveEmptyEntries)

            if
                t.Length >= 2
                && fst (Int32.TryParse t[0])
                && not (t[1].StartsWith "#")
                && t.Length <= 3
            then
                Some(String.Join(" ", t[1..]), int t[0])
            else
                None)
        |> Map.ofArray

    let titles =
        [ "Masses"
          "Pair Coeffs"
          "Bond Coeffs"
          "Angle Coeffs"
          "Dihedral Coeffs"
          "Improper Coeffs"
          "Atoms"
          "Bonds"
          "Angles"
          "Dihedrals"
          "Impropers" ]

    let title (l: string) =
        titles |> List.tryFind (fun t -> l = t || l.StartsWith(t + " #"))

    let sections =
        lines
        |> Array.indexed
        |> Array.choose (fun (i, l) -> title l |> Option.map (fun t -> t, i))
        |> Array.map (fun (t, i) ->
            let body =
                lines[i + 2 ..]
                |> Array.takeWhile (fun l -> l <> "")
                |> Array.map (fun l -> l.Split('#').[0].Split(' ', StringSplitOptions.RemoveEmptyEntries))

            t, body)
        |> Map.ofArray

    header, sections

[<Tests>]
let tests =
    testList
        "md.allatom.plan"
        [ testPropertyWithConfig
              planConfig
              "the box is neutral with the ions scaled to +-0.8"
              (fun (PlanCase(fractions, atoms)) ->
                  let p = plan fractions atoms

                  Expect.floatClose
                      { absolute = 1e-9; relative = 0.0 }
                      (AllAtomSystem.charge p.System)
                      0.0
                      "net charge"

                  for s in p.Species do
                      let expected =
                          match s.Name with
                          | "Li" -> 0.8
                          | "PF6" -> -0.8
                          | _ -> 0.0

                      Expect.floatClose { absolute = 1e-9; relative = 0.0 } s.Charge expected $"{s.Name} charge")

          testPropertyWithConfig
              planConfig
              "the data file's counts match its sections and every term has coefficients"
              (fun (PlanCase(fractions, atoms)) ->
                  let p = plan fractions atoms
                  let header, sections = parseData (file p AllAtomInput.DataFile)
                  let nAtoms, nBonds, nAngles, nDihedrals, nImpropers = AllAtomSystem.totals p.System

                  for key, section, n in
                      [ "atoms", "Atoms", nAtoms
                        "bonds", "Bonds", nBonds
                        "angles", "Angles", nAngles
                        "dihedrals", "Dihedrals", nDihedrals
                        "impropers", "Impropers", nImpropers ] do
                      Expect.equal header[key] n $"header {key}"

                      let got =
                          sections
                          |> Map.tryFind section
                          |> Option.map Array.length
                          |> Option.defaultValue 0

                      Expect.equal got n $"{section} lines"

                  for key, coeffs, terms in
                      [ "atom types", "Pair Coeffs", "Atoms"
                        "bond types", "Bond Coeffs", "Bonds"
                        "angle types", "Angle Coeffs", "Angles"
                        "dihedral types", "Dihedral Coeffs", "Dihedrals"
                        "improper types", "Improper Coeffs", "Impropers" ] do
                      let nTypes = header[key]

                      let defined =
                          sections
                          |> Map.tryFind coeffs
                          |> Option.defaultValue [||]
                          |> Array.map (fun t -> int t[0])

                      Expect.equal (Set.ofArray defined) (Set.ofList [ 1..nTypes ]) $"{coeffs} define every {key}"
                      let typeColumn = if terms = "Atoms" then 2 else 1

                      let used =
                          sections
                          |> Map.tryFind terms
                          |> Option.defaultValue [||]
                          |> Array.map (fun t -> int t[typeColumn])

                      Expect.isTrue
                          (used |> Array.forall (fun t -> t >= 1 && t <= nTypes))
                          $"{terms} use defined types"

                  let atomRows = sections["Atoms"]
                  Expect.equal (atomRows |> Array.map (fun t -> int t[0])) [| 1..nAtoms |] "atom ids 1..N in order"
                  let molOf = atomRows |> Array.map (fun t -> int t[1])

                  for t in sections |> Map.tryFind "Bonds" |> Option.defaultValue [||] do
                      Expect.equal molOf[int t[2] - 1] molOf[int t[3] - 1] $"bond {t[0]} within one molecule"

                  Expect.equal
                      (Set.ofArray (p.Species |> Seq.collect (fun s -> s.AtomTypes) |> Array.ofSeq))
                      (Set.ofList [ 1 .. header["atom types"] ])
                      "species own every type once")

          testPropertyWithConfig planConfig "the plan is deterministic" (fun (PlanCase(fractions, atoms)) ->
              Expect.equal (plan fractions atoms).Files (plan fractions atoms).Files "same files")

          test "the LAMMPS input follows the conventions of md-contracts.md" {
              let p = plan lp57 1500
              let input = file p "in.lammps"

              for expected in
                  [ "units real"
                    "atom_style full"
                    "pair_style lj/cut/coul/long"
                    "pair_modify mix geometric"
                    "special_bonds lj/coul 0.0 0.0 0.5"
                    "kspace_style pppm"
                    "dihedral_style opls"
                    "read_dump packed.xyz 0 x y z box no format xyz"
                    "set group all image 0 0 0"
                    "minimize"
                    "fix NVT all nvt"
                    "fix NPT all npt"
                    "fix SHAKE all shake"
                    "thermo_style custom step time temp press pe ke etotal vol density"
                    "dump traj all custom 20 traj.dump id mol type q xu yu zu"
                    "dump_modify traj sort id"
                    "restart 100 restart.*.bin" ] do
                  Expect.stringContains input expected $"in.lammps has '{expected}'"

              Expect.equal (AllAtomInput.shakeBondTypes p.System).Length 1 "one constrained bond type: CT-HC"
          }

          test "the Packmol input places every species with its count" {
              let p = plan lp57 1500
              let pack = file p "pack.inp"

              for name, n in [ "Li", 10; "PF6", 10; "EC", 36; "EMC", 71 ] do
                  Expect.stringContains pack $"structure {name}.xyz\n  number {n}\n" $"{name} x {n}"

              Expect.isTrue (p.Files |> List.exists (fun (n, _) -> n = "EMC.xyz")) "the geometries are among the files"
          }

          test "the RDF pairs are Li-O(carbonyl), Li-P and Li-Li over the species' types" {
              let p = plan lp57 1500
              let li = p.Species |> List.find (fun s -> s.Name = "Li")
              Expect.equal (p.RdfPairs |> List.map (fun r -> r.Name)) [ "Li-O(carbonyl)"; "Li-P"; "Li-Li" ] "pairs"
              Expect.equal p.RdfPairs[0].TypesA li.AtomTypes "Li types"
              Expect.equal p.RdfPairs[0].TypesB.Length 2 "O_2 of EC and of EMC"
          }

          test "bad input names the field and the value" {
              let check (r: AllAtomRequest) (expected: string) =
                  match AllAtomPlan.create forceField geometry r with
                  | Ok _ -> failtestf "accepted: %s" expected
                  | Error es -> Expect.exists es (fun e -> e.Contains expected) $"an error has '{expected}': {es}"

              check (request [ LiPF6, 0.1; EC, 0.5 ] 1500) "mole fractions sum to 0.6"
              check (request [ LiPF6, -0.1; EC, 1.1 ] 1500) "mole fraction of LiPF6 is -0.1"

              check
                  { request lp57 1500 with
                      Run = { shortRun with TemperatureK = 900.0 } }
                  "temperature is 900 K"

              check (request lp57 50) "target atoms is 50"

              check
                  { request lp57 1500 with
                      Run = { shortRun with NptSteps = 30 } }
                  "NPT steps is 30"
          } ]
