namespace Finales.Md.Analysis

open System.Runtime.Intrinsics

/// Which pair-distance kernel an RdfAccumulator uses: `Vectorised` computes four distances at once
/// (System.Runtime.Intrinsics.Vector256 over structure-of-arrays coordinates, the software fallback where the CPU
/// has no 256-bit vectors); `Scalar` is the reference, one distance at a time. Both do the same floating-point
/// operations in the same order on every pair (no fused multiply-add), so they give the same histogram bin for bin.
type RdfKernel =
    | Vectorised
    | Scalar

/// The histogram of one RDF and its pair-distance kernels. The distance of a pair is the minimum image of wrapped
/// coordinates (|d| < L on each axis; beyond half an edge shifted by one edge, no rounding or division), squared and
/// compared with RMax^2; only a pair within RMax pays a square root and the binning.
[<Sealed>]
type RdfHistogram(rMax: float, bins: int) =
    let counts: int64[] = Array.zeroCreate bins
    let width = rMax / float bins

    /// Bin edges as numpy.linspace(0, RMax, Bins + 1) makes them (i * step, the last exactly RMax), so that a
    /// distance falls in the bin numpy.histogram (MDAnalysis's InterRDF) would put it in.
    let edges =
        Array.init (bins + 1) (fun i -> if i = bins then rMax else float i * width)

    let norm = float bins / rMax
    let r2max = rMax * rMax
    // The four square roots of a vector whose lanes are within RMax, read back lane by lane.
    let lanes: float[] = Array.zeroCreate Vector256<float>.Count

    /// The bin of a distance r in [0, RMax] by numpy.histogram's rule (an edge belongs to the upper bin, RMax to the
    /// last): one multiply, then a correction of at most one bin against the exact edges.
    member _.Bin(r: float) : int =
        let mutable k = int (r * norm)

        if k >= bins then
            k <- bins - 1

        if r < edges[k] then
            k <- k - 1
        elif k <> bins - 1 && r >= edges[k + 1] then
            k <- k + 1

        k

    /// Pair counts per bin so far.
    member _.Counts = counts

    /// The minimum-image component of a difference of wrapped coordinates (|d| < l).
    static member inline private Image(d: float, l: float, half: float) : float =
        if d > half then d - l
        elif d < -half then d + l
        else d

    /// The reference kernel: adds `weight` to the bin of every j in [start, stop), j <> skip, whose minimum-image
    /// distance from (xi, yi, zi) is at most RMax (coordinates wrapped into [0, L) on each axis).
    member h.CountScalar
        (
            xi: float,
            yi: float,
            zi: float,
            bx: float[],
            by: float[],
            bz: float[],
            start: int,
            stop: int,
            skip: int,
            lx: float,
            ly: float,
            lz: float,
            weight: int64
        ) =
        let hx, hy, hz = lx / 2.0, ly / 2.0, lz / 2.0

        for j in start .. stop - 1 do
            let dx = RdfHistogram.Image(bx[j] - xi, lx, hx)
            let dy = RdfHistogram.Image(by[j] - yi, ly, hy)
            let dz = RdfHistogram.Image(bz[j] - zi, lz, hz)
            let r2 = dx * dx + dy * dy + dz * dz

            if r2 <= r2max && j <> skip then
                let k = h.Bin(sqrt r2)
                counts[k] <- counts[k] + weight

    /// The same count as CountScalar, four pairs at a time: the image shift is a masked add of the edge (d - (d > L/2
    /// ? L : 0) + (d < -L/2 ? L : 0), exact), r^2 the same sum of the same products, and only the lanes within RMax are
    /// binned; the remainder of the range goes through CountScalar.
    member h.CountVector
        (
            xi: float,
            yi: float,
            zi: float,
            bx: float[],
            by: float[],
            bz: float[],
            start: int,
            stop: int,
            skip: int,
            lx: float,
            ly: float,
            lz: float,
            weight: int64
        ) =
        let w = Vector256<float>.Count
        let mutable j = start

        if stop - start >= w then
            let vxi, vyi, vzi = Vector256.Create xi, Vector256.Create yi, Vector256.Create zi
            let vlx, vly, vlz = Vector256.Create lx, Vector256.Create ly, Vector256.Create lz
            let hx, hy, hz = lx / 2.0, ly / 2.0, lz / 2.0
            let phx, phy, phz = Vector256.Create hx, Vector256.Create hy, Vector256.Create hz
            let nhx, nhy, nhz = Vector256.Create -hx, Vector256.Create -hy, Vector256.Create -hz
            let vr2max = Vector256.Create r2max

            let inline image (d: Vector256<float>) (l: Vector256<float>) (ph: Vector256<float>) (nh: Vector256<float>) =
                Vector256.Add(
                    Vector256.Subtract(d, Vector256.BitwiseAnd(Vector256.GreaterThan(d, ph), l)),
                    Vector256.BitwiseAnd(Vector256.LessThan(d, nh), l)
                )

            let last = stop - w

            while j <= last do
                let at = unativeint j

                let dx =
                    image (Vector256.Subtract(Vector256.LoadUnsafe(&bx[0], at), vxi)) vlx phx nhx

                let dy =
                    image (Vector256.Subtract(Vector256.LoadUnsafe(&by[0], at), vyi)) vly phy nhy

                let dz =
                    image (Vector256.Subtract(Vector256.LoadUnsafe(&bz[0], at), vzi)) vlz phz nhz

                let r2 =
                    Vector256.Add(
                        Vector256.Add(Vector256.Multiply(dx, dx), Vector256.Multiply(dy, dy)),
                        Vector256.Multiply(dz, dz)
                    )

                let mutable within =
                    Vector256.LessThanOrEqual(r2, vr2max).ExtractMostSignificantBits()

                if within <> 0u then
                    Vector256.Sqrt(r2).CopyTo(lanes)

                    while within <> 0u do
                        let lane = System.Numerics.BitOperations.TrailingZeroCount within
                        within <- within &&& (within - 1u)

                        if j + lane <> skip then
                            let k = h.Bin(lanes[lane])
                            counts[k] <- counts[k] + weight

                j <- j + w

        h.CountScalar(xi, yi, zi, bx, by, bz, j, stop, skip, lx, ly, lz, weight)

    /// Either kernel.
    member h.Count
        (
            kernel: RdfKernel,
            xi: float,
            yi: float,
            zi: float,
            bx: float[],
            by: float[],
            bz: float[],
            start: int,
            stop: int,
            skip: int,
            lx: float,
            ly: float,
            lz: float,
            weight: int64
        ) =
        match kernel with
        | Vectorised -> h.CountVector(xi, yi, zi, bx, by, bz, start, stop, skip, lx, ly, lz, weight)
        | Scalar -> h.CountScalar(xi, yi, zi, bx, by, bz, start, stop, skip, lx, ly, lz, weight)
