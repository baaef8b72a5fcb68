namespace Finales.Optimizer

open System
open MathNet.Numerics.LinearAlgebra

/// The numerical kernel of the Gaussian process: the Matern-5/2 covariance, the kernel matrix,
/// Cholesky with jitter escalation, triangular solves on packed row-major factors, and the soft
/// box penalty on the hyper-parameters. Internal to the optimizer; `GaussianProcess` is the API.
module internal GpKernel =

    let private sqrt5 = sqrt 5.0

    /// Matern-5/2 correlation at scaled distance r: (1 + sqrt5 r + 5/3 r^2) exp(-sqrt5 r).
    let matern52 (r: float) : float =
        let s = sqrt5 * r
        (1.0 + s + s * s / 3.0) * exp (-s)

    // --- low-level helpers on packed row-major lower-triangular factors ---------------------

    let inline rowOffset (j: int) = j * (j + 1) / 2

    /// SIMD dot product of a[aOff..aOff+len) and b[bOff..bOff+len).
    let dot (a: float[]) (aOff: int) (b: float[]) (bOff: int) (len: int) : float =
        let w = System.Numerics.Vector<float>.Count
        let mutable acc = System.Numerics.Vector<float>.Zero
        let mutable i = 0

        while i + w <= len do
            acc <-
                acc
                + System.Numerics.Vector<float>(a, aOff + i)
                  * System.Numerics.Vector<float>(b, bOff + i)

            i <- i + w

        let mutable s = System.Numerics.Vector.Sum acc

        while i < len do
            s <- s + a[aOff + i] * b[bOff + i]
            i <- i + 1

        s

    /// Solves L v = b in place (L packed row-major, n rows).
    let forwardSolve (l: float[]) (n: int) (b: float[]) =
        for j in 0 .. n - 1 do
            let off = rowOffset j
            b[j] <- (b[j] - dot l off b 0 j) / l[off + j]

    /// Solves L^T x = b in place.
    let backwardSolve (l: float[]) (n: int) (b: float[]) =
        for j in n - 1 .. -1 .. 0 do
            let off = rowOffset j
            b[j] <- b[j] / l[off + j]
            let xj = b[j]

            for k in 0 .. j - 1 do
                b[k] <- b[k] - l[off + k] * xj

    let scaleInputs (lower: float[]) (upper: float[]) (x: float[]) : float[] =
        Array.init x.Length (fun j ->
            let range = upper[j] - lower[j]
            if range > 0.0 then (x[j] - lower[j]) / range else 0.0)

    let lengthScaled (ls: float[]) (x: float[]) =
        Array.init x.Length (fun j -> x[j] / ls[j])

    let sqDist (a: float[]) (b: float[]) =
        let mutable s = 0.0

        for j in 0 .. a.Length - 1 do
            let d = a[j] - b[j]
            s <- s + d * d

        s

    /// Cholesky of a symmetric matrix with jitter escalation: tries jitter 0, then 1e-10 .. 1e-1
    /// times the mean diagonal. Returns the factor and the jitter used.
    let choleskyWithJitter (k: Matrix<float>) : Factorization.Cholesky<float> * float =
        let n = k.RowCount
        let meanDiag = (Seq.init n (fun i -> k[i, i]) |> Seq.sum) / float n

        let rec attempt (jitters: float list) =
            match jitters with
            | [] -> invalidOp "Cholesky failed even with jitter 0.1; the kernel matrix is not finite"
            | j :: rest ->
                let kj =
                    if j = 0.0 then
                        k
                    else
                        k + Matrix<float>.Build.DiagonalIdentity(n) * (j * meanDiag)

                let ok, chol =
                    try
                        let c = kj.Cholesky()
                        let f = c.Factor

                        let finite =
                            Seq.init n (fun i -> f[i, i])
                            |> Seq.forall (fun v -> v > 0.0 && not (Double.IsNaN v) && not (Double.IsInfinity v))

                        finite, Some c
                    with :? ArgumentException ->
                        false, None

                match ok, chol with
                | true, Some c -> c, j * meanDiag
                | _ -> attempt rest

        attempt [ 0.0; 1e-10; 1e-8; 1e-6; 1e-4; 1e-2; 1e-1 ]

    /// Soft box on the log-parameters: zero inside, quadratic outside. Keeps L-BFGS away from
    /// degenerate length scales without hard bounds.
    let penalty (d: int) (theta: float[]) (grad: float[]) : float =
        let mutable p = 0.0

        let box i lo hi =
            let t = theta[i]

            if t < lo then
                p <- p + 5.0 * (lo - t) * (lo - t)
                grad[i] <- grad[i] - 10.0 * (lo - t)
            elif t > hi then
                p <- p + 5.0 * (t - hi) * (t - hi)
                grad[i] <- grad[i] + 10.0 * (t - hi)

        for j in 0 .. d - 1 do
            box j (log 1e-2) (log 1e2)

        box d (log 1e-2) (log 1e2)
        box (d + 1) (log 1e-9) (log 1.0)
        box (d + 2) -3.0 3.0
        p
