namespace Finales.Optimizer

open System

/// The synthetic test functions of the optimizer benchmarks (optimizer.md section 4).
[<RequireQualifiedAccess>]
module TestFunctions =

    /// Branin-Hoo; global minimum 0.397887.
    let branin (x: float[]) =
        let a, b, c = 1.0, 5.1 / (4.0 * Math.PI * Math.PI), 5.0 / Math.PI
        let r, s, t = 6.0, 10.0, 1.0 / (8.0 * Math.PI)

        a * (x[1] - b * x[0] * x[0] + c * x[0] - r) ** 2.0
        + s * (1.0 - t) * cos x[0]
        + s

    let private hA =
        [| [| 10.0; 3.0; 17.0; 3.5; 1.7; 8.0 |]
           [| 0.05; 10.0; 17.0; 0.1; 8.0; 14.0 |]
           [| 3.0; 3.5; 1.7; 10.0; 17.0; 8.0 |]
           [| 17.0; 8.0; 0.05; 10.0; 0.1; 14.0 |] |]

    let private hP =
        [| [| 1312.0; 1696.0; 5569.0; 124.0; 8283.0; 5886.0 |]
           [| 2329.0; 4135.0; 8307.0; 3736.0; 1004.0; 9991.0 |]
           [| 2348.0; 1451.0; 3522.0; 2883.0; 3047.0; 6650.0 |]
           [| 4047.0; 8828.0; 8732.0; 5743.0; 1091.0; 381.0 |] |]
        |> Array.map (Array.map (fun v -> v * 1e-4))

    let private hAlpha = [| 1.0; 1.2; 3.0; 3.2 |]

    /// Hartmann-6; global minimum -3.32237.
    let hartmann6 (x: float[]) =
        -(Array.init 4 (fun i ->
            let inner = Array.init 6 (fun j -> hA[i][j] * (x[j] - hP[i][j]) ** 2.0) |> Array.sum
            hAlpha[i] * exp (-inner))
          |> Array.sum)

    /// DTLZ2 with 2 objectives: f1 = (1+g) cos(x1 pi/2), f2 = (1+g) sin(x1 pi/2).
    let dtlz2 (x: float[]) =
        let g = x[1..] |> Array.sumBy (fun v -> (v - 0.5) ** 2.0)

        [| (1.0 + g) * cos (x[0] * Math.PI / 2.0)
           (1.0 + g) * sin (x[0] * Math.PI / 2.0) |]
