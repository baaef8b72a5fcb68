module Finales.Md.Tests.MsdTests

open System
open Expecto
open FsCheck
open Finales.Md.Analysis

/// A 1-D random walk of `n` steps of size `scale`, offset by `offset` (large offsets test the cancellation).
let private series (rng: Random) (n: int) (scale: float) (offset: float) : float[] =
    let s = Array.zeroCreate n
    let mutable v = offset

    for k in 0 .. n - 1 do
        v <- v + scale * (rng.NextDouble() - 0.5)
        s[k] <- v

    s

[<Tests>]
let tests =
    testList
        "md.msd"
        [ testProperty "the FFT MSD equals the direct O(N^2) MSD to 1e-9 relative"
          <| fun (seed: int) (PositiveInt n) (NormalFloat offset) ->
              let rng = Random seed
              let n = n % 400 + 2
              let offset = Math.Clamp(offset, -1000.0, 1000.0)
              let x = series rng n 1.0 offset
              let y = series rng n 0.3 -offset
              let z = series rng n 2.0 0.0
              let fft = Msd.fft x y z
              let direct = Msd.direct x y z

              Array.forall2 (fun (a: float) b -> abs (a - b) <= 1e-9 * abs b + 1e-300) fft direct

          testCase "MSD of a straight-line motion is v^2 t^2"
          <| fun () ->
              let x = Array.init 50 (fun k -> 0.5 * float k)
              let zeros = Array.zeroCreate 50
              let msd = Msd.fft x zeros zeros

              for m in 0..49 do
                  Expect.floatClose Accuracy.high msd[m] (0.25 * float (m * m)) $"lag {m}"

          testCase "the mean over trajectories is the mean of their MSDs"
          <| fun () ->
              let rng = Random 7

              let trajs =
                  Array.init 3 (fun _ -> series rng 30 1.0 0.0, series rng 30 1.0 0.0, series rng 30 1.0 0.0)

              let mean = Msd.fftMean 3 (fun i -> trajs[i]) 30

              let expected =
                  Array.init 30 (fun m -> trajs |> Array.averageBy (fun (x, y, z) -> (Msd.direct x y z)[m]))

              for m in 0..29 do
                  Expect.floatClose Accuracy.high mean[m] expected[m] $"lag {m}" ]
