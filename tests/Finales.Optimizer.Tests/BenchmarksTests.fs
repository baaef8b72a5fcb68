module Finales.Optimizer.Tests.BenchmarksTests

open Expecto
open Finales.Optimizer

[<Tests>]
let tests =
    testList
        "Benchmarks"
        [ test "Branin, Hartmann-6 and DTLZ2 have their known optima" {
              Expect.floatClose
                  { absolute = 1e-5; relative = 0.0 }
                  (TestFunctions.branin [| System.Math.PI; 2.275 |])
                  0.397887
                  "Branin"

              Expect.floatClose
                  { absolute = 1e-4; relative = 0.0 }
                  (TestFunctions.hartmann6 [| 0.20169; 0.150011; 0.476874; 0.275332; 0.311652; 0.6573 |])
                  -3.32237
                  "Hartmann-6"

              let f = TestFunctions.dtlz2 [| 2.0 / 3.0; 0.5; 0.5; 0.5; 0.5 |]
              Expect.floatClose { absolute = 1e-9; relative = 0.0 } f[0] 0.5 "f1 on the threshold"
              Expect.floatClose { absolute = 1e-6; relative = 0.0 } f[1] 0.866025 "f2*"

              Expect.floatClose
                  { absolute = 1e-9; relative = 0.0 }
                  (Benchmarks.pointRegret Dtlz2 f)
                  0.0
                  "zero regret at the optimum"

              Expect.isGreaterThan
                  (Benchmarks.pointRegret Dtlz2 [| 0.6; 0.1 |])
                  (Benchmarks.pointRegret Dtlz2 [| 0.4; 1.9 |])
                  "violating f1 is worse"
          }
          test "summaries give median and quartiles" {
              let curves = [| [| 1.0 |]; [| 2.0 |]; [| 3.0 |]; [| 4.0 |]; [| 5.0 |] |]
              let s = Benchmarks.summarise curves [| 1; 10 |]
              Expect.equal s.Length 1 "only counts within the curve"
              Expect.floatClose Accuracy.veryHigh s[0].Median 3.0 "median"
              Expect.floatClose Accuracy.veryHigh s[0].Q1 2.0 "q1"
              Expect.floatClose Accuracy.veryHigh s[0].Q3 4.0 "q3"
          }
          test "regret curves are non-increasing and GP-UCB gets close to the Branin optimum in 30 evaluations" {
              let gp = Benchmarks.runOne Branin true 0 30
              let rnd = Benchmarks.runOne Branin false 0 30
              Expect.isTrue (gp |> Array.pairwise |> Array.forall (fun (a, b) -> b <= a)) "best-so-far (GP-UCB)"
              Expect.isTrue (rnd |> Array.pairwise |> Array.forall (fun (a, b) -> b <= a)) "best-so-far (random)"

              Expect.isLessThan
                  gp[29]
                  0.3
                  "GP-UCB regret below 0.3 after 30 evaluations (seed 0; random search has a median of 1.3 at 25)"
          } ]
