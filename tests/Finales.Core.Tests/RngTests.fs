module Finales.Core.Tests.RngTests

open Expecto
open Finales.Core

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
