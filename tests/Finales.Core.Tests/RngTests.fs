module Finales.Core.Tests.RngTests

open System
open Expecto
open Finales.Core
open Finales.Core.Tests.Arbitraries

let private draws (f: Rng -> float * Rng) (seed: uint64) (n: int) : float list =
    let mutable r = Rng.create seed

    [ for _ in 1..n ->
          let v, next = f r
          r <- next
          v ]

[<Tests>]
let tests =
    testList
        "Rng"
        [ test "the same seed gives the same sequence; another seed another one" {
              Expect.equal (draws Rng.nextFloat 42UL 10) (draws Rng.nextFloat 42UL 10) "repeatable"
              Expect.notEqual (draws Rng.nextFloat 42UL 10) (draws Rng.nextFloat 43UL 10) "seed matters"
          }
          test "SplitMix64 reference value" {
              // First output of SplitMix64 seeded with 0 (Vigna's reference implementation).
              Expect.equal (fst (Rng.nextUInt64 (Rng.create 0UL))) 0xE220A8397B1DCDAFUL "first output"
          }
          test "uniform draws lie in [0, 1) with mean about 1/2" {
              let xs = draws Rng.nextFloat 7UL 20000
              Expect.isTrue (xs |> List.forall (fun x -> x >= 0.0 && x < 1.0)) "range"
              Expect.floatClose { absolute = 0.01; relative = 0.0 } (List.average xs) 0.5 "mean"
          }
          test "normal draws have mean 0 and standard deviation 1" {
              let xs = draws Rng.nextNormal 11UL 20000
              let mean = List.average xs
              let sd = sqrt (xs |> List.averageBy (fun x -> (x - mean) ** 2.0))
              Expect.floatClose { absolute = 0.03; relative = 0.0 } mean 0.0 "mean"
              Expect.floatClose { absolute = 0.03; relative = 0.0 } sd 1.0 "sd"
          } ]

let private stream (n: int) (draw: RandomStream -> 'T) (s: RandomStream) : 'T list = [ for _ in 1..n -> draw s ]

/// Mean and population variance.
let private moments (xs: float list) : float * float =
    let mean = List.average xs
    mean, xs |> List.averageBy (fun x -> (x - mean) ** 2.0)

[<Tests>]
let streamTests =
    testList
        "RandomStream"
        [ testPropertyWithConfig config "the same seed gives the same sequence of mixed draws" (fun (seed: int) ->
              let mixed (s: RandomStream) =
                  [ for k in 1..50 -> s.NextFloat(), s.NextInt(k), s.NextNormal() ]

              Expect.equal (mixed (RandomStream.create seed)) (mixed (RandomStream.create seed)) $"seed {seed} repeats")
          testPropertyWithConfig config "different seeds give different sequences" (fun (a: int) (b: int) ->
              if a <> b then
                  Expect.notEqual
                      (stream 4 (fun s -> s.NextFloat()) (RandomStream.create a))
                      (stream 4 (fun s -> s.NextFloat()) (RandomStream.create b))
                      $"seeds {a} and {b}")
          testPropertyWithConfig
              config
              "a stream draws exactly what threading the Rng by hand draws"
              (fun (seed: uint64) ->
                  Expect.equal
                      (stream 20 (fun s -> s.NextFloat()) (RandomStream.ofRng (Rng.create seed)))
                      (draws Rng.nextFloat seed 20)
                      "floats"

                  Expect.equal
                      (stream 20 (fun s -> s.NextNormal()) (RandomStream.ofRng (Rng.create seed)))
                      (draws Rng.nextNormal seed 20)
                      "normals")
          testPropertyWithConfig config "floats lie in [0, 1)" (fun (seed: int) ->
              let xs = stream 1000 (fun s -> s.NextFloat()) (RandomStream.create seed)
              Expect.all xs (fun x -> x >= 0.0 && x < 1.0) $"seed {seed}: every float in [0, 1)")
          testPropertyWithConfig
              config
              "ints lie in [0, n) and hit both ends for small n"
              (fun (seed: int) (FsCheck.PositiveInt n) ->
                  let xs = stream 1000 (fun s -> s.NextInt n) (RandomStream.create seed)
                  Expect.all xs (fun x -> x >= 0 && x < n) $"seed {seed}: every int in [0, {n})"

                  if n <= 10 then
                      Expect.contains xs 0 $"seed {seed}: 0 drawn from [0, {n})"
                      Expect.contains xs (n - 1) $"seed {seed}: {n - 1} drawn from [0, {n})")
          testPropertyWithConfig
              config
              "ints over [0, 10) have mean 4.5 within five standard errors"
              (fun (seed: int) ->
                  // sd of one draw is sqrt(99/12) = 2.87, of the mean of 10,000 draws 0.0287
                  let xs = stream 10000 (fun s -> float (s.NextInt 10)) (RandomStream.create seed)
                  Expect.floatClose { absolute = 0.144; relative = 0.0 } (List.average xs) 4.5 $"seed {seed}: mean")
          testPropertyWithConfig
              config
              "normal draws have mean 0 and variance 1 within five standard errors"
              (fun (seed: int) ->
                  // 10,000 draws: standard error of the mean 0.01, of the variance sqrt(2/10000) = 0.0141
                  let mean, var =
                      stream 10000 (fun s -> s.NextNormal()) (RandomStream.create seed) |> moments

                  Expect.floatClose { absolute = 0.05; relative = 0.0 } mean 0.0 $"seed {seed}: mean"
                  Expect.floatClose { absolute = 0.071; relative = 0.0 } var 1.0 $"seed {seed}: variance")
          test "an empty or negative range is a programmer error" {
              let s = RandomStream.create 1
              Expect.throwsT<ArgumentException> (fun () -> s.NextInt 0 |> ignore) "NextInt 0 throws"
              Expect.throwsT<ArgumentException> (fun () -> s.NextInt -3 |> ignore) "NextInt -3 throws"
          } ]
