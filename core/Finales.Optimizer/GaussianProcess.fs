namespace Finales.Optimizer

open System
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.Optimization

/// Gaussian-process regression with a constant mean, a Matern-5/2 ARD kernel and Gaussian noise.
[<RequireQualifiedAccess>]
module GaussianProcess =

    let private sqrt5 = sqrt 5.0
    let private log2Pi = log (2.0 * Math.PI)

    /// Defaults: 1 seeded restart, 30 L-BFGS iterations, hyper-parameters fitted on a seeded
    /// subsample of at most 100 points (the model itself conditions on all points), noise floor 1e-6.
    let defaultOptions: GpOptions =
        { Restarts = 1
          MaxIterations = 30
          MaxFitPoints = 100
          NoiseFloor = 1e-6 }

    /// Matern-5/2 correlation at scaled distance r: (1 + sqrt5 r + 5/3 r^2) exp(-sqrt5 r).
    let matern52 (r: float) : float =
        let s = sqrt5 * r
        (1.0 + s + s * s / 3.0) * exp (-s)

    open GpLinearAlgebra

    let private scaleInputs (lower: float[]) (upper: float[]) (x: float[]) : float[] =
        Array.init x.Length (fun j ->
            let range = upper[j] - lower[j]
            if range > 0.0 then (x[j] - lower[j]) / range else 0.0)

    let private lengthScaled (ls: float[]) (x: float[]) =
        Array.init x.Length (fun j -> x[j] / ls[j])

    let private sqDist (a: float[]) (b: float[]) =
        let mutable s = 0.0

        for j in 0 .. a.Length - 1 do
            let d = a[j] - b[j]
            s <- s + d * d

        s

    let private noiseOf (floor: float) (h: GpHyper) = floor + exp h.LogNoiseExcess

    /// Packs a hyper-parameter record into the optimiser's vector
    /// [log l_1..log l_d, log s2, log noise excess, mean].
    let toVector (h: GpHyper) : float[] =
        Array.append h.LogLengthScales [| h.LogSignalVariance; h.LogNoiseExcess; h.Mean |]

    /// Inverse of `toVector`.
    let ofVector (d: int) (theta: float[]) : GpHyper =
        { LogLengthScales = theta[0 .. d - 1]
          LogSignalVariance = theta[d]
          LogNoiseExcess = theta[d + 1]
          Mean = theta[d + 2] }

    /// Cholesky of a symmetric matrix with jitter escalation: tries jitter 0, then 1e-10 .. 1e-1
    /// times the mean diagonal. Returns the factor and the jitter used.
    let internal choleskyWithJitter (k: Matrix<float>) : Factorization.Cholesky<float> * float =
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

    let private kernelMatrix (xs: float[][]) (h: GpHyper) (noise: float) : Matrix<float> =
        let n = xs.Length
        let ls = h.LogLengthScales |> Array.map exp
        let z = xs |> Array.map (lengthScaled ls)
        let s2 = exp h.LogSignalVariance
        let m = Matrix<float>.Build.Dense(n, n)
        let v = (m :?> MathNet.Numerics.LinearAlgebra.Double.DenseMatrix).Values

        for i in 0 .. n - 1 do
            v[i + i * n] <- s2 + noise

            for k in 0 .. i - 1 do
                let kv = s2 * matern52 (sqrt (sqDist z[i] z[k]))
                v[i + k * n] <- kv
                v[k + i * n] <- kv

        m

    /// Soft box on the log-parameters: zero inside, quadratic outside. Keeps L-BFGS away from
    /// degenerate length scales without hard bounds.
    let private penalty (d: int) (theta: float[]) (grad: float[]) : float =
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

    /// Negative log marginal likelihood of standardised outputs y at unit-cube inputs x, and its
    /// analytic gradient with respect to the vector [log l, log s2, log noise excess, mean]
    /// (no penalty). Uses W = alpha alpha^T - K^-1 once per evaluation: every gradient component
    /// is then an O(n^2) contraction.
    let negLogMarginalLikelihood (noiseFloor: float) (x: float[][]) (y: float[]) (theta: float[]) : float * float[] =
        let n = x.Length
        let d = x[0].Length
        let h = ofVector d theta
        let noiseExcess = exp h.LogNoiseExcess
        let noise = noiseFloor + noiseExcess
        let k = kernelMatrix x h noise
        let chol, jitter = choleskyWithJitter k
        let r = Vector<float>.Build.Dense(n, fun i -> y[i] - h.Mean)
        let alpha = chol.Solve(r)
        let logDet = chol.DeterminantLn
        let nll = 0.5 * (r.DotProduct alpha) + 0.5 * logDet + 0.5 * float n * log2Pi
        let kinv = chol.Solve(Matrix<float>.Build.DenseIdentity(n))
        let kiv = (kinv :?> MathNet.Numerics.LinearAlgebra.Double.DenseMatrix).Values
        let a = alpha.ToArray()
        let ls = h.LogLengthScales |> Array.map exp
        let z = x |> Array.map (lengthScaled ls)
        let s2 = exp h.LogSignalVariance
        let grad = Array.zeroCreate<float> (d + 3)
        let gl = Array.zeroCreate<float> d
        let mutable gs = 0.0
        let mutable trW = 0.0

        for i in 0 .. n - 1 do
            let wii = a[i] * a[i] - kiv[i + i * n]
            trW <- trW + wii
            gs <- gs + wii * s2

            for kk in 0 .. i - 1 do
                let w = 2.0 * (a[i] * a[kk] - kiv[i + kk * n]) // symmetric pair counted twice
                let mutable r2 = 0.0

                for j in 0 .. d - 1 do
                    let dz = z[i][j] - z[kk][j]
                    r2 <- r2 + dz * dz

                let rr = sqrt r2
                let e = exp (-sqrt5 * rr)
                gs <- gs + w * s2 * (1.0 + sqrt5 * rr + 5.0 / 3.0 * r2) * e
                let common = w * s2 * (5.0 / 3.0) * (1.0 + sqrt5 * rr) * e

                for j in 0 .. d - 1 do
                    let dz = z[i][j] - z[kk][j]
                    gl[j] <- gl[j] + common * dz * dz

        for j in 0 .. d - 1 do
            grad[j] <- -0.5 * gl[j]

        grad[d] <- -0.5 * gs
        grad[d + 1] <- -0.5 * trW * noiseExcess
        grad[d + 2] <- -(Array.sum a)
        ignore jitter
        nll, grad

    let private validate (lower: float[]) (upper: float[]) (x: float[][]) (y: float[]) : Result<unit, GpError> =
        let d = lower.Length

        if x.Length = 0 then
            Error NoData
        elif upper.Length <> d then
            Error(DimensionMismatch("upper", 0, upper.Length, d))
        elif y.Length <> x.Length then
            Error(DimensionMismatch("y", 0, y.Length, x.Length))
        else
            let badBound =
                Seq.init d id
                |> Seq.tryFind (fun j ->
                    not (Double.IsFinite lower[j] && Double.IsFinite upper[j])
                    || lower[j] > upper[j])

            match badBound with
            | Some j -> Error(BadBounds(j, lower[j], upper[j]))
            | None ->
                match x |> Array.tryFindIndex (fun r -> r.Length <> d) with
                | Some i -> Error(DimensionMismatch("x", i, x[i].Length, d))
                | None ->
                    match x |> Array.tryFindIndex (Array.exists (Double.IsFinite >> not)) with
                    | Some i -> Error(NonFiniteValue("x", i, x[i] |> Array.find (Double.IsFinite >> not)))
                    | None ->
                        match y |> Array.tryFindIndex (Double.IsFinite >> not) with
                        | Some i -> Error(NonFiniteValue("y", i, y[i]))
                        | None -> Ok()

    /// Fits the hyper-parameters by ML-II: L-BFGS over log-parameters from a default start plus
    /// `Restarts` seeded random starts; the best value seen in any run wins (a run that stops with
    /// a line-search failure still contributes its best point).
    let fitHyperFrom
        (options: GpOptions)
        (seed: int)
        (initial: GpHyper voption)
        (xUnit: float[][])
        (yStd: float[])
        : GpHyper =
        let d = xUnit[0].Length
        let rng = Finales.Core.RandomStream.create seed
        let n = xUnit.Length

        let xs, ys =
            if n <= options.MaxFitPoints then
                xUnit, yStd
            else
                // seeded partial Fisher-Yates: a subsample without replacement
                let idx = Array.init n id

                for i in 0 .. options.MaxFitPoints - 1 do
                    let j = i + rng.NextInt(n - i)
                    let t = idx[i]
                    idx[i] <- idx[j]
                    idx[j] <- t

                let sub = idx[0 .. options.MaxFitPoints - 1] |> Array.sort
                sub |> Array.map (fun i -> xUnit[i]), sub |> Array.map (fun i -> yStd[i])

        let mutable best = Double.PositiveInfinity

        let mutable bestTheta =
            match initial with
            | ValueSome h when h.LogLengthScales.Length = d -> toVector h
            | _ ->
                toVector
                    { LogLengthScales = Array.create d (log 0.5)
                      LogSignalVariance = 0.0
                      LogNoiseExcess = log 1e-2
                      Mean = 0.0 }

        let evaluate (theta: float[]) =
            let v, g =
                try
                    let v, g = negLogMarginalLikelihood options.NoiseFloor xs ys theta
                    let p = penalty d theta g
                    v + p, g
                with :? InvalidOperationException ->
                    1e10, Array.zeroCreate theta.Length

            let v = if Double.IsNaN v then 1e10 else v

            if v < best then
                best <- v
                bestTheta <- Array.copy theta

            v, g

        let starts =
            [ yield Array.copy bestTheta
              for _ in 1 .. options.Restarts do
                  yield
                      Array.init (d + 3) (fun i ->
                          if i < d then
                              log 0.05 + rng.NextFloat() * (log 2.0 - log 0.05)
                          elif i = d then
                              log 0.3 + rng.NextFloat() * (log 3.0 - log 0.3)
                          elif i = d + 1 then
                              log 1e-4 + rng.NextFloat() * (log 0.1 - log 1e-4)
                          else
                              rng.NextFloat() - 0.5) ]

        for start in starts do
            let objective =
                ObjectiveFunction.Gradient(fun (v: Vector<float>) ->
                    let f, g = evaluate (v.ToArray())
                    struct (f, Vector<float>.Build.DenseOfArray g))

            let minimiser =
                LimitedMemoryBfgsMinimizer(1e-5, 1e-8, 1e-9, 7, options.MaxIterations)

            try
                minimiser.FindMinimum(objective, Vector<float>.Build.DenseOfArray start)
                |> ignore
            with
            | :? MaximumIterationsException
            | :? InnerOptimizationException
            | :? EvaluationException
            | :? ArgumentException -> () // the best point seen is kept

        ofVector d bestTheta

    /// `fitHyperFrom` with the default starting point.
    let fitHyper (options: GpOptions) (seed: int) (xUnit: float[][]) (yStd: float[]) : GpHyper =
        fitHyperFrom options seed ValueNone xUnit yStd

    /// Builds the model for given hyper-parameters: one MathNet managed Cholesky over every point
    /// (with jitter escalation), then the packed factor and alpha.
    let condition
        (lower: float[])
        (upper: float[])
        (noiseFloor: float)
        (hyper: GpHyper)
        (xUnit: float[][])
        (yStd: float[])
        (yMean: float)
        (yStdDev: float)
        : GpModel =
        let n = xUnit.Length
        let noise = noiseOf noiseFloor hyper
        let k = kernelMatrix xUnit hyper noise
        let chol, jitter = choleskyWithJitter k
        let f = (chol.Factor :?> MathNet.Numerics.LinearAlgebra.Double.DenseMatrix).Values
        let packed = ResizeArray<float>(rowOffset n + 16)

        for j in 0 .. n - 1 do
            for kk in 0..j do
                packed.Add f[j + kk * n]

        let lArr = packed.ToArray()
        let alpha = Array.init n (fun i -> yStd[i] - hyper.Mean)
        forwardSolve lArr n alpha
        backwardSolve lArr n alpha

        { Lower = lower
          Upper = upper
          X = ResizeArray xUnit
          Y = ResizeArray yStd
          YMean = yMean
          YStd = yStdDev
          Hyper = hyper
          NoiseFloor = noiseFloor
          L = packed
          Alpha = alpha
          Jitter = jitter }

    /// Like `fit`, but the first L-BFGS run starts from `initial` (warm start) when given.
    let fitFrom
        (options: GpOptions)
        (seed: int)
        (initial: GpHyper voption)
        (lower: float[])
        (upper: float[])
        (x: float[][])
        (y: float[])
        : Result<GpModel, GpError> =
        validate lower upper x y
        |> Result.map (fun () ->
            let xUnit = x |> Array.map (scaleInputs lower upper)
            let mean = Array.average y

            let sd =
                let v = y |> Array.averageBy (fun v -> (v - mean) * (v - mean))
                if v > 1e-24 then sqrt v else 1.0

            let ys = y |> Array.map (fun v -> (v - mean) / sd)
            let hyper = fitHyperFrom options seed initial xUnit ys
            condition lower upper options.NoiseFloor hyper xUnit ys mean sd)

    /// Fits a GP to raw inputs x (scaled to the unit cube with lower/upper) and raw outputs y
    /// (standardised inside), hyper-parameters by ML-II from the default start plus seeded
    /// restarts. Deterministic for a given seed.
    let fit
        (options: GpOptions)
        (seed: int)
        (lower: float[])
        (upper: float[])
        (x: float[][])
        (y: float[])
        : Result<GpModel, GpError> =
        fitFrom options seed ValueNone lower upper x y

    let private kernelRow (m: GpModel) (ls: float[]) (s2: float) (xu: float[]) (out: float[]) =
        let z = lengthScaled ls xu

        for i in 0 .. m.X.Count - 1 do
            out[i] <- s2 * matern52 (sqrt (sqDist (lengthScaled ls m.X[i]) z))

    /// Posterior mean and variance (of the latent function, in the original output units) at raw
    /// inputs. Test points are processed in blocks that share each row of the factor.
    let predict (m: GpModel) (xs: float[][]) : float[] * float[] =
        let n = m.X.Count
        let ls = m.Hyper.LogLengthScales |> Array.map exp
        let s2 = exp m.Hyper.LogSignalVariance
        let zTrain = m.X |> Seq.map (lengthScaled ls) |> Array.ofSeq
        let l = m.L.ToArray()
        let count = xs.Length
        let means = Array.zeroCreate<float> count
        let vars = Array.zeroCreate<float> count
        let block = 16
        let blocks = (count + block - 1) / block

        System.Threading.Tasks.Parallel.For(
            0,
            blocks,
            fun b ->
                let start = b * block
                let stop = min count (start + block)

                let rows =
                    Array.init (stop - start) (fun t ->
                        let z = lengthScaled ls (scaleInputs m.Lower m.Upper xs[start + t])
                        Array.init n (fun i -> s2 * matern52 (sqrt (sqDist zTrain[i] z))))

                for t in 0 .. rows.Length - 1 do
                    means[start + t] <- m.Hyper.Mean + dot rows[t] 0 m.Alpha 0 n
                // blocked forward substitution: row j of L is read once per block
                for j in 0 .. n - 1 do
                    let off = rowOffset j
                    let ljj = l[off + j]

                    for t in 0 .. rows.Length - 1 do
                        let r = rows[t]
                        r[j] <- (r[j] - dot l off r 0 j) / ljj

                for t in 0 .. rows.Length - 1 do
                    let v = s2 - dot rows[t] 0 rows[t] 0 n
                    vars[start + t] <- max v 0.0
        )
        |> ignore

        let mu = means |> Array.map (fun v -> m.YMean + m.YStd * v)
        let var = vars |> Array.map (fun v -> v * m.YStd * m.YStd)
        mu, var

    /// Appends points with the given raw outputs, extending the factor row by row in O(n^2) per
    /// point (no refactorisation); hyper-parameters are kept. A near-duplicate point has its new
    /// diagonal clamped to the noise floor instead of failing. Returns a new model.
    let addPoints (m: GpModel) (xs: float[][]) (ys: float[]) : GpModel =
        let ls = m.Hyper.LogLengthScales |> Array.map exp
        let s2 = exp m.Hyper.LogSignalVariance
        let noise = noiseOf m.NoiseFloor m.Hyper + m.Jitter
        let packed = ResizeArray<float>(m.L)
        let xList = ResizeArray<float[]>(m.X)
        let yList = ResizeArray<float>(m.Y)

        let model =
            { m with
                L = packed
                X = xList
                Y = yList }

        for p in 0 .. xs.Length - 1 do
            let n = xList.Count
            let xu = scaleInputs m.Lower m.Upper xs[p]
            let row = Array.zeroCreate<float> n
            kernelRow model ls s2 xu row
            let l = packed.ToArray()
            forwardSolve l n row
            let diag = s2 + noise - dot row 0 row 0 n
            let diag = max diag (max m.NoiseFloor 1e-12)
            packed.AddRange row
            packed.Add(sqrt diag)
            xList.Add xu
            yList.Add((ys[p] - m.YMean) / m.YStd)

        let n = xList.Count
        let l = packed.ToArray()
        let alpha = Array.init n (fun i -> yList[i] - m.Hyper.Mean)
        forwardSolve l n alpha
        backwardSolve l n alpha
        model.Alpha <- alpha
        model

    /// Kriging believer: conditions on points at their own posterior means (the mean surface is
    /// unchanged, the variance shrinks around them).
    let addBelievers (m: GpModel) (xs: float[][]) : GpModel =
        if xs.Length = 0 then
            m
        else
            let mu, _ = predict m xs
            addPoints m xs mu
