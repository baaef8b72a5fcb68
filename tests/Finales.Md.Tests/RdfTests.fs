module Finales.Md.Tests.RdfTests

open System
open Expecto
open FsCheck
open Finales.Md.Analysis

let private box (l: float) =
    { Lo = [| 0.0; 0.0; 0.0 |]
      Hi = [| l; l; l |] }

[<Tests>]
let tests =
    testList
        "md.rdf"
        [ testPropertyWithConfig
              { FsCheckConfig.defaultConfig with
                  maxTest = 20 }
              "a uniform random gas gives g(r) = 1 within its counting noise"
          <| fun (seed: int) (same: bool) ->
              let rng = Random seed
              let l = 20.0
              let n = 200
              let types = Array.init n (fun i -> i % 2 + 1)

              let pair =
                  { Name = "p"
                    TypesA = [| 1 |]
                    TypesB = (if same then [| 1 |] else [| 2 |])
                    RMax = 9.0
                    Bins = 30 }

              let acc = RdfAccumulator(pair, types)
              let frames = 20

              for _ in 1..frames do
                  let pos () =
                      Array.init n (fun _ -> rng.NextDouble() * l)

                  acc.Add(pos (), pos (), pos (), box l)

              let r = acc.Result()
              let nA = 100.0
              let pairs = if same then nA * (nA - 1.0) else nA * nA
              let width = 9.0 / 30.0

              // Each bin count is a sum of pair indicators: Poisson-like with mean frames * pairs * shell / V; an
              // ordered pair is counted twice when A = B, doubling the variance. 6 standard deviations.
              r.G
              |> Array.mapi (fun k g ->
                  let shell =
                      4.0 / 3.0 * Math.PI * (float (k + 1) ** 3.0 - float k ** 3.0) * width ** 3.0

                  let expected = float frames * pairs * shell / (l * l * l)
                  let sd = sqrt ((if same then 2.0 else 1.0) / expected)
                  abs (g - 1.0) <= 6.0 * sd)
              |> Array.forall id

          testCase "coordination counts the B atoms within r of an A atom"
          <| fun () ->
              // Two atoms 1.5 A apart across the periodic boundary, one far away.
              let types = [| 1; 2; 2 |]

              let pair =
                  { Name = "A-B"
                    TypesA = [| 1 |]
                    TypesB = [| 2 |]
                    RMax = 4.0
                    Bins = 8 }

              let acc = RdfAccumulator(pair, types)
              acc.Add([| 0.5; 9.0; 5.0 |], [| 1.0; 1.0; 5.0 |], [| 1.0; 1.0; 5.0 |], box 10.0)
              let r = acc.Result()
              Expect.floatClose Accuracy.high r.Coordination[2] 0.0 "none below 1.5 A"
              Expect.floatClose Accuracy.high r.Coordination[3] 1.0 "the minimum image at 1.5 A"
              Expect.floatClose Accuracy.high r.Coordination[7] 1.0 "the far atom is beyond 4 A"
              Expect.floatClose Accuracy.high r.R[3] 1.75 "bin centre"
          testCase "a distance on a bin edge falls in the upper bin and RMAX in the last (numpy.histogram's rule)"
          <| fun () ->
              let pair =
                  { Name = "A-B"
                    TypesA = [| 1 |]
                    TypesB = [| 2 |]
                    RMax = 0.3
                    Bins = 3 }

              // 0.1 and 0.2 are edges that 0.3 / 3 * k does not give exactly in binary; 0.3 is RMAX.
              let acc = RdfAccumulator(pair, [| 1; 2; 2; 2 |])
              acc.Add([| 0.0; 0.1; 0.0; 0.0 |], [| 0.0; 0.0; 0.2; 0.0 |], [| 0.0; 0.0; 0.0; 0.3 |], box 10.0)
              let n = acc.Result().Coordination
              Expect.equal n [| 0.0; 1.0; 3.0 |] "0.1 in bin 1, 0.2 in bin 2, 0.3 in bin 2" ]
