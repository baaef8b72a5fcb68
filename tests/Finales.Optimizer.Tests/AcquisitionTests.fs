module Finales.Optimizer.Tests.AcquisitionTests

open System
open Expecto
open Finales.Optimizer

[<Tests>]
let tests =
    testList
        "Acquisition"
        [ test "constant schedule returns sqrt(beta) as given" {
              Expect.floatClose Accuracy.veryHigh (Acquisition.sqrtBeta (ConstantSqrtBeta 2.0) 1000 10) 2.0 "constant"
          }
          test "Srinivas schedule uses |D| = candidates and t = observations + 1" {
              let expected =
                  sqrt (0.2 * 2.0 * log (1000.0 * 11.0 * 11.0 * Math.PI * Math.PI / (6.0 * 0.1)))

              Expect.floatClose Accuracy.veryHigh (Acquisition.sqrtBeta (Srinivas(0.1, 0.2)) 1000 10) expected "beta_t"

              Expect.isGreaterThan
                  (Acquisition.sqrtBeta (Srinivas(0.1, 1.0)) 1000 100)
                  (Acquisition.sqrtBeta (Srinivas(0.1, 1.0)) 1000 10)
                  "grows with t"
          }
          test "UCB prefers lower mean at equal variance and higher variance at equal mean" {
              Expect.isGreaterThan (Acquisition.ucb 2.0 0.0 1.0) (Acquisition.ucb 2.0 1.0 1.0) "lower mean wins"
              Expect.isGreaterThan (Acquisition.ucb 2.0 0.0 4.0) (Acquisition.ucb 2.0 0.0 1.0) "more uncertainty wins"
              Expect.floatClose Accuracy.veryHigh (Acquisition.ucb 2.0 1.0 4.0) 3.0 "-1 + 2 * 2"
          }
          test "maximise refines to the optimum of a smooth score within the moves" {
              let score (xs: float[][]) =
                  xs |> Array.map (fun x -> -((x[0] - 0.3) ** 2.0))

              let moves (x: float[]) (s: float) =
                  [| [| min 1.0 (x[0] + s) |]; [| max 0.0 (x[0] - s) |] |]

              match Acquisition.maximise score moves 2 60 (fun _ -> false) [| [| 0.9 |]; [| 0.0 |] |] with
              | Some(x, _) -> Expect.floatClose { absolute = 2e-3; relative = 0.0 } x[0] 0.3 "argmax"
              | None -> failtest "no point"
          }
          test "maximise honours the exclusion" {
              let score (xs: float[][]) = xs |> Array.map (fun x -> x[0])

              match
                  Acquisition.maximise score (fun _ _ -> [||]) 1 5 (fun x -> x[0] > 0.8) [| [| 0.9 |]; [| 0.5 |] |]
              with
              | Some(x, _) -> Expect.floatClose Accuracy.veryHigh x[0] 0.5 "excluded point skipped"
              | None -> failtest "no point"
          } ]
