module Finales.Md.Tests.TrajectoryTests

open System
open Expecto
open FsCheck
open Finales.Md.Analysis
open Finales.Md.Tests.Support

[<Tests>]
let tests =
    testList
        "md.trajectory"
        [ testProperty "unwrapping recovers a path from its wrapped images"
          <| fun (seed: int) (PositiveInt l) ->
              let rng = Random seed
              let edge = float (l % 50 + 5)
              let wrap v = v - edge * floor (v / edge)
              // Steps below half an edge, as the method requires.
              let path =
                  Array.scan
                      (fun v _ -> v + (rng.NextDouble() - 0.5) * 0.9 * edge)
                      (rng.NextDouble() * edge)
                      [| 1..100 |]

              let wrapped = Array.map wrap path
              let mutable u = wrapped[0]
              let mutable ok = true

              for k in 1 .. path.Length - 1 do
                  u <- Unwrap.step edge u wrapped[k - 1] wrapped[k]

                  if abs ((u - wrapped[0]) - (path[k] - path[0])) > 1e-9 * edge then
                      ok <- false

              ok

          testCase "a wrapped dump gives the MSD of its unwrapped twin"
          <| fun () ->
              let w = walk 42UL 60 80 1.5
              let unwrapped = analyse (options ions []) (Synthetic.dumpLines w)

              let wrapped =
                  analyse (options ions []) (Synthetic.dumpLines { w with Wrapped = true })

              for a, b in List.zip unwrapped.Species wrapped.Species do
                  for m in 1 .. a.Msd.Length - 1 do
                      Expect.floatClose { absolute = 1e-4; relative = 1e-5 } b.Msd[m] a.Msd[m] $"{a.Name} lag {m}"

          testCase "molecules are whole and unwrapped by centre of mass in a wrapped dump"
          <| fun () ->
              // A diatomic molecule (types 1 and 2, masses 1 and 3) straddling the boundary of a 10 A box, moving
              // +1 A in x per frame: its centre of mass moves 1 A per frame.
              let frame t =
                  let cx = 9.9 + float t
                  let wrap v = v - 10.0 * floor (v / 10.0)

                  { Timestep = int64 t
                    Box =
                      { Lo = [| 0.0; 0.0; 0.0 |]
                        Hi = [| 10.0; 10.0; 10.0 |] }
                    Ids = [| 1; 2 |]
                    Types = [| 1; 2 |]
                    Mols = Some [| 1; 1 |]
                    Charges = None
                    Masses = Some [| 1.0; 3.0 |]
                    X = [| wrap (cx - 0.75); wrap (cx + 0.25) |]
                    Y = [| 5.0; 5.0 |]
                    Z = [| 5.0; 5.0 |]
                    Coordinates = Wrapped }

              let species =
                  [ { Name = "AB"
                      AtomTypes = [| 1; 2 |]
                      Charge = 0.0
                      ByMolecule = true } ]

              let r = analyse (options species []) (Seq.init 30 frame |> Seq.collect Dump.write)
              let msd = r.Species.Head.Msd
              Expect.equal r.Species.Head.Units 1 "one molecule"

              for m in 0..29 do
                  Expect.floatClose { absolute = 1e-6; relative = 1e-6 } msd[m] (float (m * m)) $"lag {m}" ]
