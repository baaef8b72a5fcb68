namespace Finales.Optimizer

open System
open System.Text

/// The synthetic benchmark problems of optimizer.md section 4 (the electrolyte problems E1/E2
/// need the virtual electrolyte and are added elsewhere).
type BenchProblem =
    | Branin
    | Hartmann6
    | Dtlz2

/// Regret quartiles of one method at one evaluation count.
type RegretStats =
    { Evaluations: int
      Median: float
      Q1: float
      Q3: float }

/// Benchmark harness: regret curves of GP-UCB vs random search from the same seeded initial
/// design, and the timing workload of `bench gp`. Pure: progress goes through a callback.
[<RequireQualifiedAccess>]
module Benchmarks =

    /// Parses "branin" | "hartmann6" | "dtlz2".
    let parseProblem (name: string) : Result<BenchProblem, string> =
        match name with
        | "branin" -> Ok Branin
        | "hartmann6" -> Ok Hartmann6
        | "dtlz2" -> Ok Dtlz2
        | other -> Error(sprintf "--problem is '%s'; expected branin, hartmann6 or dtlz2" other)

    /// The problem's name as used on the command line.
    let name (p: BenchProblem) =
        match p with
        | Branin -> "branin"
        | Hartmann6 -> "hartmann6"
        | Dtlz2 -> "dtlz2"

    /// Input box of a problem.
    let bounds (p: BenchProblem) : float[] * float[] =
        match p with
        | Branin -> [| -5.0; 0.0 |], [| 10.0; 15.0 |]
        | Hartmann6 -> Array.zeroCreate 6, Array.create 6 1.0
        | Dtlz2 -> Array.zeroCreate 5, Array.create 5 1.0

    /// Branin-Hoo; global minimum 0.397887.
    let branin (x: float[]) =
        let a, b, c = 1.0, 5.1 / (4.0 * Math.PI * Math.PI), 5.0 / Math.PI
        let r, s, t = 6.0, 10.0, 1.0 / (8.0 * Math.PI)
        a * (x[1] - b * x[0] * x[0] + c * x[0] - r) ** 2.0 + s * (1.0 - t) * cos x[0] + s

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
        [| (1.0 + g) * cos (x[0] * Math.PI / 2.0); (1.0 + g) * sin (x[0] * Math.PI / 2.0) |]

    /// Objective values of a problem at x (one value, or two for DTLZ2).
    let evaluate (p: BenchProblem) (x: float[]) : float[] =
        match p with
        | Branin -> [| branin x |]
        | Hartmann6 -> [| hartmann6 x |]
        | Dtlz2 -> dtlz2 x

    /// The DTLZ2 hierarchy: f1 <= 0.5 (absolute), then minimise f2 (relative 0).
    let dtlz2Hierarchy: ChimeraObjective[] =
        [| { Goal = Minimise; Tolerance = 0.5; Kind = Absolute }
           { Goal = Minimise; Tolerance = 0.0; Kind = Relative } |]

    /// Regret of one evaluated point. DTLZ2 is lexicographic: a point with f1 <= 0.5 has regret
    /// f2 - 0.866025 (>= 0); a point violating f1 <= 0.5 has 2.5 + (f1 - 0.5), worse than any
    /// satisfying point.
    let pointRegret (p: BenchProblem) (f: float[]) : float =
        match p with
        | Branin -> f[0] - 0.397887
        | Hartmann6 -> f[0] + 3.32237
        | Dtlz2 -> if f[0] <= 0.5 + 1e-12 then max 0.0 (f[1] - 0.8660254037844386) else 2.5 + (f[0] - 0.5)

    let private uniform (rng: Random) (lo: float[]) (hi: float[]) =
        Array.init lo.Length (fun j -> lo[j] + rng.NextDouble() * (hi[j] - lo[j]))

    let private boxMoves (lo: float[]) (hi: float[]) (x: float[]) (step: float) =
        [| for j in 0 .. x.Length - 1 do
               for s in [ -1.0; 1.0 ] do
                   let v = min hi[j] (max lo[j] (x[j] + s * step * (hi[j] - lo[j])))
                   if v <> x[j] then
                       let y = Array.copy x
                       y[j] <- v
                       yield y |]

    /// Initial design size: 2 d points.
    let initialSize (p: BenchProblem) = 2 * (fst (bounds p)).Length

    /// The seeded initial design shared by every method.
    let initialDesign (p: BenchProblem) (seed: int) : float[][] =
        let lo, hi = bounds p
        let rng = Random(seed * 7919 + 17)
        Array.init (initialSize p) (fun _ -> uniform rng lo hi)

    /// GP options of the benchmark loop: a warm start from the previous fit plus one restart.
    let benchGpOptions = { GaussianProcess.defaultOptions with Restarts = 0; MaxIterations = 30 }

    /// One GP-UCB proposal in a box: fit (warm-started), score 1000 uniform candidates, refine.
    let proposeBox
        (p: BenchProblem)
        (seed: int)
        (iteration: int)
        (warm: GpHyper voption)
        (xs: float[][])
        (fs: float[][])
        : float[] * GpHyper voption =
        let lo, hi = bounds p
        let y =
            match p with
            | Dtlz2 ->
                match Chimera.scalarise dtlz2Hierarchy Chimera.DefaultSoftness fs with
                | Ok m -> m
                | Error _ -> fs |> Array.map (fun f -> f[1])
            | _ -> fs |> Array.map (fun f -> f[0])
        let rng = Random(seed * 100003 + iteration)
        let options = if iteration % 10 = 0 then { benchGpOptions with Restarts = 1 } else benchGpOptions
        match GaussianProcess.fitFrom options (seed + iteration) warm lo hi xs y with
        | Error _ -> uniform rng lo hi, warm
        | Ok model ->
            let cands = Array.init 1000 (fun _ -> uniform rng lo hi)
            let sb = Acquisition.sqrtBeta Acquisition.defaultSchedule cands.Length xs.Length
            let score (ps: float[][]) =
                let mu, var = GaussianProcess.predict model ps
                Acquisition.scores sb mu var
            match Acquisition.maximise score (boxMoves lo hi) 3 15 (fun _ -> false) cands with
            | Some(x, _) -> x, ValueSome model.Hyperparameters
            | None -> uniform rng lo hi, ValueSome model.Hyperparameters

    /// Best-so-far regret after each of `evals` evaluations following the initial design.
    /// method: "gp-ucb" or "random".
    let runOne (p: BenchProblem) (gpUcb: bool) (seed: int) (evals: int) : float[] =
        let lo, hi = bounds p
        let xs = ResizeArray(initialDesign p seed)
        let fs = ResizeArray(xs |> Seq.map (evaluate p))
        let mutable best = fs |> Seq.map (pointRegret p) |> Seq.min
        let rng = Random(seed * 31337 + 5)
        let mutable warm = ValueNone
        Array.init evals (fun i ->
            let x =
                if gpUcb then
                    let x, h = proposeBox p seed i warm (xs.ToArray()) (fs.ToArray())
                    warm <- h
                    x
                else uniform rng lo hi
            let f = evaluate p x
            xs.Add x
            fs.Add f
            best <- min best (pointRegret p f)
            best)

    let private quantile (sorted: float[]) (q: float) =
        let idx = q * float (sorted.Length - 1)
        let lo = int (floor idx)
        let hi = min (lo + 1) (sorted.Length - 1)
        sorted[lo] + (sorted[hi] - sorted[lo]) * (idx - float lo)

    /// Median and quartiles of the curves at the given evaluation counts (those <= curve length).
    let summarise (curves: float[][]) (at: int[]) : RegretStats[] =
        at
        |> Array.filter (fun e -> curves.Length > 0 && e >= 1 && e <= curves[0].Length)
        |> Array.map (fun e ->
            let v = curves |> Array.map (fun c -> c[e - 1]) |> Array.sort
            { Evaluations = e; Median = quantile v 0.5; Q1 = quantile v 0.25; Q3 = quantile v 0.75 })

    /// An SVG plot of median regret (log scale) with the interquartile band for each method.
    let svg (title: string) (methods: (string * float[][]) list) : string =
        let w, h, ml, mr, mt, mb = 640.0, 400.0, 70.0, 20.0, 40.0, 50.0
        let all = methods |> List.collect (fun (_, cs) -> cs |> Array.collect id |> List.ofArray) |> List.filter (fun v -> v > 0.0)
        let ymin = if all.IsEmpty then 1e-6 else max 1e-8 (List.min all)
        let ymax = if all.IsEmpty then 1.0 else max (ymin * 10.0) (List.max all)
        let ly v = log10 (max ymin v)
        let evals = methods |> List.map (fun (_, cs) -> if cs.Length = 0 then 0 else cs[0].Length) |> List.max
        let px (e: int) = ml + (float (e - 1) / float (max 1 (evals - 1))) * (w - ml - mr)
        let py (v: float) = mt + (ly ymax - ly v) / (ly ymax - ly ymin) * (h - mt - mb)
        let sb = StringBuilder()
        let inv (x: float) = x.ToString("0.##", Globalization.CultureInfo.InvariantCulture)
        sb.AppendFormat(Globalization.CultureInfo.InvariantCulture, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" font-family=\"sans-serif\" font-size=\"12\">\n", w, h) |> ignore
        sb.Append($"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n<text x=\"{inv ml}\" y=\"22\" font-size=\"14\">{title}</text>\n") |> ignore
        sb.Append($"<line x1=\"{inv ml}\" y1=\"{inv (h - mb)}\" x2=\"{inv (w - mr)}\" y2=\"{inv (h - mb)}\" stroke=\"black\"/>\n<line x1=\"{inv ml}\" y1=\"{inv mt}\" x2=\"{inv ml}\" y2=\"{inv (h - mb)}\" stroke=\"black\"/>\n") |> ignore
        for e in 0 .. int (ceil (ly ymax)) - int (floor (ly ymin)) do
            let v = 10.0 ** (floor (ly ymin) + float e)
            if v >= ymin && v <= ymax then
                sb.Append($"<text x=\"5\" y=\"{inv (py v + 4.0)}\">1e{int (log10 v)}</text>\n") |> ignore
        for e in [ 1; 10; 25; 50; 100 ] do
            if e <= evals then sb.Append($"<text x=\"{inv (px e - 8.0)}\" y=\"{inv (h - mb + 18.0)}\">{e}</text>\n") |> ignore
        sb.Append($"<text x=\"{inv (w / 2.0 - 60.0)}\" y=\"{inv (h - 8.0)}\">evaluations after initial design</text>\n") |> ignore
        let colours = [| "#1f77b4"; "#d62728"; "#2ca02c" |]
        methods |> List.iteri (fun k (label, curves) ->
            if curves.Length > 0 then
                let stats = summarise curves [| 1 .. curves[0].Length |]
                let line f = stats |> Array.map (fun s -> $"{inv (px s.Evaluations)},{inv (py (f s))}") |> String.concat " "
                let c = colours[k % colours.Length]
                let band = (stats |> Array.map (fun s -> $"{inv (px s.Evaluations)},{inv (py s.Q3)}")) |> Array.append <| (stats |> Array.rev |> Array.map (fun s -> $"{inv (px s.Evaluations)},{inv (py s.Q1)}"))
                let bandText = String.concat " " band
                sb.Append($"<polygon points=\"{bandText}\" fill=\"{c}\" fill-opacity=\"0.15\" stroke=\"none\"/>\n") |> ignore
                sb.Append($"<polyline points=\"{line (fun s -> s.Median)}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\"/>\n") |> ignore
                sb.Append($"<text x=\"{inv (w - 160.0)}\" y=\"{inv (mt + 16.0 * float k)}\" fill=\"{c}\">{label} (median, IQR)</text>\n") |> ignore)
        sb.Append("</svg>\n").ToString()

    /// The `bench gp` workload: n observations of a smooth 5-input function on [0,1]^5, then one
    /// suggestion (ML-II fit + GP-UCB over 1000 candidates + refinement). Returns the suggestion.
    let gpSuggestion (n: int) (seed: int) : float[] =
        let rng = Random(seed)
        let lo, hi = Array.zeroCreate 5, Array.create 5 1.0
        let f (x: float[]) = sin (3.0 * x[0]) + x[1] * x[1] - 0.5 * x[2] + cos (2.0 * x[3] * x[4]) + 0.01 * rng.NextDouble()
        let xs = Array.init n (fun _ -> uniform rng lo hi)
        let ys = xs |> Array.map f
        match GaussianProcess.fit GaussianProcess.defaultOptions seed lo hi xs ys with
        | Error _ -> [||]
        | Ok model ->
            let cands = Array.init 1000 (fun _ -> uniform rng lo hi)
            let sb = Acquisition.sqrtBeta Acquisition.defaultSchedule cands.Length n
            let score (ps: float[][]) =
                let mu, var = GaussianProcess.predict model ps
                Acquisition.scores sb mu var
            match Acquisition.maximise score (boxMoves lo hi) 3 15 (fun _ -> false) cands with
            | Some(x, _) -> x
            | None -> [||]
