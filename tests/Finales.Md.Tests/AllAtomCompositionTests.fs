/// Molecule counts and the box (Setup/AllAtom.Composition.fs).
module Finales.Md.Tests.AllAtomCompositionTests

open Expecto
open Finales.Core
open Finales.Md.Setup
open Finales.Md.Tests.AllAtomTestData

/// Atoms per formula unit of the vendored geometries.
let private atomsPer (c: Chemical) : int =
    match c with
    | LiPF6 -> 8
    | EC -> 10
    | EMC -> 15
    | DMC -> 12
    | PC -> 13

[<Tests>]
let tests =
    testList
        "md.allatom.composition"
        [ testPropertyWithConfig
              config
              "the counts reproduce the requested fractions within 1/N, or name the component that gets none"
              (fun (Fractions fractions) (target: int) ->
                  let target = 200 + abs (target % 20000)

                  match AllAtomComposition.counts atomsPer target fractions with
                  | Ok r ->
                      let n = r.Counts |> List.sumBy snd

                      for c, x in fractions do
                          let got = r.Achieved |> List.find (fun (d, _) -> d = c) |> snd

                          Expect.isLessThanOrEqual
                              (abs (got - x))
                              (1.0 / float n)
                              $"{Chemical.name c}: {got} vs {x} with N = {n}"

                      Expect.equal r.Atoms (r.Counts |> List.sumBy (fun (c, k) -> k * atomsPer c)) "atoms"
                  | Error e ->
                      let named =
                          fractions
                          |> List.exists (fun (c, x) ->
                              x > 0.0 && e.Contains $"mole fraction of {Chemical.name c} is {x}")

                      Expect.isTrue named $"the error names a requested component: {e}")

          testPropertyWithConfig config "the box holds about the target atoms" (fun (Fractions fractions) ->
              match AllAtomComposition.counts atomsPer 5000 fractions with
              | Ok r -> Expect.isLessThanOrEqual (abs (r.Atoms - 5000)) 40 $"{r.Atoms} atoms for 5000"
              | Error e ->
                  // 5000 atoms are at least 333 formula units (15 atoms at most each), so a component of at least
                  // 1/330 gets a molecule (x N >= 1.009); a smaller one may not, and the generator draws such
                  // fractions now and then (the property failed on one in a full run).
                  let named =
                      fractions
                      |> List.exists (fun (c, x) ->
                          x < 1.0 / 330.0 && e.Contains $"mole fraction of {Chemical.name c} is {x}")

                  Expect.isTrue named $"only a fraction below 1/330 may get no molecule in 5000 atoms: {e}")

          test "5000 atoms give no LiPF6 at a mole fraction of 0.0002, and the error names it" {
              match AllAtomComposition.counts atomsPer 5000 [ LiPF6, 0.0002; EC, 0.4999; EMC, 0.4999 ] with
              | Ok r -> failtestf "expected an error, got %A" r.Counts
              | Error e -> Expect.stringContains e "mole fraction of LiPF6 is 0.0002" "names LiPF6"
          }

          test "1 M LiPF6 in EC/EMC at about 1500 atoms: 10 LiPF6, 36 EC, 71 EMC" {
              let r = AllAtomComposition.counts atomsPer 1500 lp57 |> okOr "counts"
              Expect.equal r.Counts [ LiPF6, 10; EC, 36; EMC, 71 ] "counts"
          }

          test "a fraction too small for the box is an error naming the component" {
              match AllAtomComposition.counts atomsPer 300 [ LiPF6, 0.001; EC, 0.999 ] with
              | Ok r -> failtestf "expected an error, got %A" r.Counts
              | Error e -> Expect.stringContains e "mole fraction of LiPF6 is 0.001" "names LiPF6"
          }

          test "the ideal-mixing density of pure EC is EC's density and the box edge follows from it" {
              let rho = AllAtomComposition.estimatedDensity [ EC, 100 ]
              Expect.floatClose Accuracy.high (float rho) 1.321 "density"
              let edge = AllAtomComposition.boxEdge [ EC, 100 ] rho
              // 100 x 88.062 g/mol / 6.02214076e23 / 1.321 g/cm^3 = 1.1069674e-20 cm^3 = 11069.674 A^3
              Expect.floatClose { absolute = 1e-2; relative = 0.0 } (edge ** 3.0) 11069.674 "volume in A^3"
          } ]
