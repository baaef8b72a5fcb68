module Finales.Md.Tests.TransportTests

open System
open Expecto
open FsCheck
open Finales.Md.Analysis
open Finales.Md.Tests.Support

let private randomWalkConfig =
    { FsCheckConfig.defaultConfig with
        maxTest = 8 }

[<Tests>]
let tests =
    testList
        "md.transport"
        [ testCase "Nernst-Einstein of one ion in 1 nm^3 at 300 K with D = 1e-9 m^2/s is e^2 D / (V kB T)"
          <| fun () ->
              // 1.602176634e-19^2 * 1e-9 / (1e-27 * 1.380649e-23 * 300) = 6.1974959 S/m
              let ne = Transport.nernstEinstein 1000.0 300.0 [ 1, 1.0, 1e-9, 0.0 ]
              Expect.floatClose Accuracy.high ne.Mean 6.1974959 "S/m"

          testProperty "Einstein-Helfand of one ion equals its Nernst-Einstein term (units agree)"
          <| fun (PositiveInt d) (PositiveInt v) ->
              let dA2PerFs = float d * 1e-6
              let volume = float v + 100.0
              let eh = Transport.einsteinHelfand volume 300.0 (6.0 * dA2PerFs)

              let ne =
                  Transport.nernstEinstein volume 300.0 [ 1, 1.0, Units.angstrom2PerFsToM2PerS dA2PerFs, 0.0 ]

              abs (eh - ne.Mean) <= 1e-12 * ne.Mean

          testCase "Yeh-Hummer correction for water-like values is about 3.5e-10 m^2/s for a 20 A box"
          <| fun () ->
              // kB T xi / (6 pi eta L) = 1.380649e-23 * 298 * 2.837297 / (6 pi 0.89e-3 * 20e-10) = 3.4792e-10
              Expect.floatClose
                  { absolute = 0.0; relative = 1e-3 }
                  (Transport.yehHummer 298.0 0.89 20.0)
                  3.4792e-10
                  "m^2/s"

          testProperty "the transference number of a 1:1 salt is D+ / (D+ + D-)"
          <| fun (PositiveInt a) (PositiveInt b) ->
              let dp, dm = float a * 1e-11, float b * 1e-11
              let t = Transport.transference [ 100, 1.0, dp, 0.0; 100, -1.0, dm, 0.0 ]
              t.IsSome && abs (t.Value.Mean - dp / (dp + dm)) <= 1e-12

          testPropertyWithConfig randomWalkConfig "a random walk's D is found within its statistical tolerance"
          <| fun (seed: uint64) ->
              let atoms = 400
              let w = walk seed atoms 200 0.4
              let r = analyse (options ions []) (Synthetic.dumpLines w)
              let exact = Units.angstrom2PerFsToM2PerS (Synthetic.diffusionA2PerFs w 1.0)
              // A single-origin MSD of 3-D Gaussian displacements has relative variance 2/3 per walker; all
              // origins only lower it and the slope over the window [0.1, 0.5] T at most doubles it: 6 sd.
              let tolerance = 6.0 * 2.0 * sqrt (2.0 / (3.0 * float (atoms / 2)))

              r.Species
              |> List.forall (fun s ->
                  let d = s.Diffusion.Value.Mean

                  abs (d - exact) <= tolerance * exact
                  && abs (s.Fit.Value.LogLogSlope - 1.0) < 0.1)

          testCase "Einstein-Helfand equals Nernst-Einstein for uncorrelated ions (mean of 12 seeded replicas)"
          <| fun () ->
              let reps =
                  [ for seed in 1UL .. 12UL ->
                        let r =
                            analyse (options ions []) (Synthetic.dumpLines (walk (seed * 7919UL) 100 400 0.4))

                        r.EinsteinHelfand.Value.Mean, r.NernstEinstein.Value.Mean ]

              let eh = reps |> List.map fst
              let ne = reps |> List.averageBy snd
              let mean = List.average eh

              let sd =
                  sqrt ((eh |> List.sumBy (fun v -> (v - mean) ** 2.0)) / float (eh.Length - 1))

              let se = sd / sqrt (float eh.Length)
              Expect.isLessThan (abs (mean - ne)) (4.0 * se) $"EH {mean} +- {se} vs NE {ne} S/m"
              Expect.isGreaterThan se 0.0 "the replicas differ" ]
