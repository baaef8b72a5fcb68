namespace Finales.Optimizer

/// Low-level helpers of the Gaussian process on packed row-major lower-triangular factors.
module internal GpLinearAlgebra =

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
