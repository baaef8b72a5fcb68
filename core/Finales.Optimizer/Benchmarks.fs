namespace Finales.Optimizer

open System

/// The benchmark problems of optimizer.md section 4: synthetic functions and the electrolyte
/// problems E1/E2 on the core's virtual electrolyte.
type BenchProblem =
    | Branin
    | Hartmann6
    | Dtlz2
    /// Maximise conductivity at 263.15 K over LiPF6/EC/EMC/DMC/PC.
    | E1
    /// Chimera: conductivity >= 0.8 S/m (absolute), then viscosity minimised (relative 0.2), then
    /// temperature minimised (relative 0), over LiPF6/EC/EMC/DMC/PC and 253.15..333.15 K.
    | E2

/// Regret quartiles of one method at one evaluation count.
type RegretStats =
    { Evaluations: int
      Median: float
      Q1: float
      Q3: float }

/// The regret curves of one `bench optimizer` run (one best-so-far curve per seed and method).
type RegretRun =
    { Problem: BenchProblem
      Seeds: int
      Evaluations: int
      GpUcb: float[][]
      Random: float[][] }

/// Benchmark harness: regret curves of GP-UCB vs random search from the same seeded initial
/// design, and the timing workload of `bench gp`. Pure: progress goes through a callback.
[<RequireQualifiedAccess>]
module Benchmarks =

    /// Parses "branin" | "hartmann6" | "dtlz2" | "e1" | "e2".
    let parseProblem (name: string) : Result<BenchProblem, string> =
        match name with
        | "branin" -> Ok Branin
        | "hartmann6" -> Ok Hartmann6
        | "dtlz2" -> Ok Dtlz2
        | "e1" -> Ok E1
        | "e2" -> Ok E2
        | other -> Error(sprintf "problem is '%s'; expected branin, hartmann6, dtlz2, e1 or e2" other)

    /// The problem's name as used on the command line.
    let name (p: BenchProblem) =
        match p with
        | Branin -> "branin"
        | Hartmann6 -> "hartmann6"
        | Dtlz2 -> "dtlz2"
        | E1 -> "e1"
        | E2 -> "e2"

    /// Input box of a problem.
    let bounds (p: BenchProblem) : float[] * float[] =
        match p with
        | Branin -> [| -5.0; 0.0 |], [| 10.0; 15.0 |]
        | Hartmann6 -> Array.zeroCreate 6, Array.create 6 1.0
        | Dtlz2 -> Array.zeroCreate 5, Array.create 5 1.0
        | E1 -> [| 0.02; 0.0; 0.0; 0.0; 0.0; 263.15 |], [| 0.15; 0.6; 0.9; 0.9; 0.6; 263.15 |]
        | E2 -> [| 0.02; 0.0; 0.0; 0.0; 0.0; 253.15 |], [| 0.15; 0.6; 0.9; 0.9; 0.6; 333.15 |]

    /// The electrolyte chemicals in design order (canonical keys: InChIKeys).
    let electrolyteChemicals: string[] =
        [| Finales.Core.LiPF6
           Finales.Core.EC
           Finales.Core.EMC
           Finales.Core.DMC
           Finales.Core.PC |]
        |> Array.map (fun c -> (Finales.Core.Chemical.data c).InChIKey)

    let private coreChemicals =
        [| Finales.Core.LiPF6
           Finales.Core.EC
           Finales.Core.EMC
           Finales.Core.DMC
           Finales.Core.PC |]

    /// The feasible set of E1/E2 (optimizer.md section 4 bounds).
    let electrolyteSets (p: BenchProblem) : FeasibleSet[] =
        let lo, hi = bounds p

        [| { Components =
               Array.init 5 (fun i ->
                   { Chemical = electrolyteChemicals[i]
                     Lower = lo[i]
                     Upper = hi[i]
                     ZeroAllowed = lo[i] = 0.0 })
             TemperatureMin = lo[5] * 1.0<Finales.Core.Units.K>
             TemperatureMax = hi[5] * 1.0<Finales.Core.Units.K> } |]

    /// Conductivity (S/m), viscosity (mPa s) and temperature (K) of x = 5 mole fractions + T, true
    /// (normal = None) or measured with the virtual electrolyte's noise drawn from `normal`.
    let electrolyte (normal: (unit -> float) option) (x: float[]) : float[] =
        let f =
            Finales.Core.Formulation.create Finales.Core.MolePerMole (Array.zip coreChemicals x[0..4] |> Seq.ofArray)

        let t = LanguagePrimitives.FloatWithMeasure<Finales.Core.Units.K> x[5]

        let props =
            match f with
            | Error _ -> None
            | Ok f ->
                match normal with
                | None -> Finales.Core.VirtualElectrolyte.properties f t |> Result.toOption
                | Some n -> Finales.Core.VirtualElectrolyte.measureWith n f t |> Result.toOption

        match props with
        | Some p -> [| float p.Conductivity; float p.Viscosity; x[5] |]
        | None -> [| nan; nan; x[5] |]

    /// Objective values of a problem at x (one value, two for DTLZ2, the true conductivity,
    /// viscosity and temperature for E1/E2).
    let evaluate (p: BenchProblem) (x: float[]) : float[] =
        match p with
        | Branin -> [| TestFunctions.branin x |]
        | Hartmann6 -> [| TestFunctions.hartmann6 x |]
        | Dtlz2 -> TestFunctions.dtlz2 x
        | E1
        | E2 -> electrolyte None x

    /// E2's conductivity threshold: 8 mS/cm = 0.8 S/m.
    let e2ConductivityTarget = 0.8

    /// The E1/E2 objective hierarchies (quantities named as in `electrolyte`).
    let electrolyteObjectives (p: BenchProblem) : CampaignObjective[] =
        match p with
        | E1 ->
            [| { Quantity = "conductivity"
                 Goal = Maximise
                 Tolerance = 0.0
                 Kind = Relative } |]
        | _ ->
            [| { Quantity = "conductivity"
                 Goal = Maximise
                 Tolerance = e2ConductivityTarget
                 Kind = Absolute }
               { Quantity = "viscosity"
                 Goal = Minimise
                 Tolerance = 0.2
                 Kind = Relative }
               { Quantity = "temperature"
                 Goal = Minimise
                 Tolerance = 0.0
                 Kind = Relative } |]

    /// Dense seeded sampling (20000 points) plus pattern-search polishing of the best 5 with
    /// shrinking steps: the maximum of `score` over the feasible set.
    let private optimumOf (p: BenchProblem) (score: float[] -> float) : float * float[] =
        let sets = electrolyteSets p
        let rng = Finales.Core.RandomStream.create 20261125

        let asX (q: DesignPoint) =
            Array.append q.Fractions [| float q.Temperature |]

        let pts = FeasibleSet.sample rng electrolyteChemicals sets 20000 |> Array.map asX
        let scored = pts |> Array.map (fun x -> score x, x) |> Array.sortByDescending fst

        let polish (s0: float, x0: float[]) =
            let mutable best = s0, x0
            let mutable step = 0.05

            while step > 1e-7 do
                let x = snd best

                let q =
                    { Fractions = x[0..4]
                      Temperature = x[5] * 1.0<Finales.Core.Units.K> }

                let improved =
                    FeasibleSet.moves electrolyteChemicals sets q step
                    |> Array.map (fun m -> let y = asX m in score y, y)
                    |> Array.filter (fun (s, _) -> s > fst best + 1e-15)

                if improved.Length = 0 then
                    step <- step / 2.0
                else
                    best <- improved |> Array.maxBy fst

            best

        scored |> Array.truncate 5 |> Array.map polish |> Array.maxBy fst

    /// E1 optimum: the largest true conductivity (S/m) at 263.15 K and where it is.
    let e1Optimum: Lazy<float * float[]> =
        lazy (optimumOf E1 (fun x -> let v = electrolyte None x in if Double.IsFinite v[0] then v[0] else -1e9))

    /// E2 reference, level by level over the feasible set: eta_min = the smallest true viscosity with
    /// conductivity >= 0.8 S/m (dense sampling + polishing); the relative viscosity tolerance resolved
    /// over the dense sample, eta_thr = eta_min + 0.2 (eta_max - eta_min) with eta_max the largest
    /// viscosity of a sampled point meeting the conductivity target; then T* = the lowest temperature
    /// with conductivity >= 0.8 S/m and viscosity <= eta_thr. Returns (eta_min, eta_thr, T*).
    let e2Reference: Lazy<float * float * float> =
        lazy
            (let score (x: float[]) =
                let v = electrolyte None x

                if not (Double.IsFinite v[0]) then -1e9
                elif v[0] >= e2ConductivityTarget then -v[1]
                else -1e3 - (e2ConductivityTarget - v[0])

             let etaMin = -(fst (optimumOf E2 score))
             let rng = Finales.Core.RandomStream.create 20261125

             let etaMax =
                 FeasibleSet.sample rng electrolyteChemicals (electrolyteSets E2) 20000
                 |> Array.map (fun q -> electrolyte None (Array.append q.Fractions [| float q.Temperature |]))
                 |> Array.filter (fun v -> Double.IsFinite v[0] && v[0] >= e2ConductivityTarget)
                 |> Array.fold (fun m v -> max m v[1]) etaMin

             let thr = etaMin + 0.2 * (etaMax - etaMin)

             let tStar =
                 optimumOf E2 (fun x ->
                     let v = electrolyte None x

                     if not (Double.IsFinite v[0]) then -1e9
                     elif v[0] >= e2ConductivityTarget && v[1] <= thr then -x[5]
                     elif v[0] >= e2ConductivityTarget then -1e3 - (v[1] - thr)
                     else -1e4 - (e2ConductivityTarget - v[0]))

             etaMin, thr, -(fst tStar))

    /// The DTLZ2 hierarchy: f1 <= 0.5 (absolute), then minimise f2 (relative 0).
    let dtlz2Hierarchy: ChimeraObjective[] =
        [| { Goal = Minimise
             Tolerance = 0.5
             Kind = Absolute }
           { Goal = Minimise
             Tolerance = 0.0
             Kind = Relative } |]

    /// Regret of one evaluated point. DTLZ2 is lexicographic: a point with f1 <= 0.5 has regret
    /// f2 - 0.866025 (>= 0); a point violating f1 <= 0.5 has 2.5 + (f1 - 0.5), worse than any
    /// satisfying point.
    let pointRegret (p: BenchProblem) (f: float[]) : float =
        match p with
        | Branin -> f[0] - 0.397887
        | Hartmann6 -> f[0] + 3.32237
        | Dtlz2 ->
            if f[0] <= 0.5 + 1e-12 then
                max 0.0 (f[1] - 0.8660254037844386)
            else
                2.5 + (f[0] - 0.5)
        | E1 ->
            if Double.IsFinite f[0] then
                max 0.0 (fst e1Optimum.Value - f[0])
            else
                10.0
        | E2 ->
            // lexicographic: T - T* (K) when both targets are met, else 100 + viscosity excess, else 1000 + conductivity gap
            let _, thr, tStar = e2Reference.Value

            if Double.IsFinite f[0] && f[0] >= e2ConductivityTarget && f[1] <= thr then
                max 0.0 (f[2] - tStar)
            elif Double.IsFinite f[0] && f[0] >= e2ConductivityTarget then
                100.0 + (f[1] - thr)
            elif Double.IsFinite f[0] then
                1000.0 + (e2ConductivityTarget - f[0])
            else
                2000.0

    let internal uniform (rng: Finales.Core.RandomStream) (lo: float[]) (hi: float[]) =
        Array.init lo.Length (fun j -> lo[j] + rng.NextFloat() * (hi[j] - lo[j]))

    let internal boxMoves (lo: float[]) (hi: float[]) (x: float[]) (step: float) =
        [| for j in 0 .. x.Length - 1 do
               for s in [ -1.0; 1.0 ] do
                   let v = min hi[j] (max lo[j] (x[j] + s * step * (hi[j] - lo[j])))

                   if v <> x[j] then
                       let y = Array.copy x
                       y[j] <- v
                       yield y |]

    /// Initial design size: 2 d points (E1: 5 fractions, 4 free + fixed temperature: 10; E2: 12).
    let initialSize (p: BenchProblem) =
        match p with
        | E1 -> 10
        | _ -> 2 * (fst (bounds p)).Length

    /// The seeded initial design shared by every method (E1/E2: feasible formulations).
    let initialDesign (p: BenchProblem) (seed: int) : float[][] =
        let lo, hi = bounds p
        let rng = Finales.Core.RandomStream.create (seed * 7919 + 17)

        match p with
        | E1
        | E2 ->
            FeasibleSet.sample rng electrolyteChemicals (electrolyteSets p) (initialSize p)
            |> Array.map (fun q -> Array.append q.Fractions [| float q.Temperature |])
        | _ -> Array.init (initialSize p) (fun _ -> uniform rng lo hi)

    /// GP options of the benchmark loop: a warm start from the previous fit plus one restart.
    let benchGpOptions =
        { GaussianProcess.defaultOptions with
            Restarts = 0
            MaxIterations = 30 }

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

        let rng = Finales.Core.RandomStream.create (seed * 100003 + iteration)

        let options =
            if iteration % 10 = 0 then
                { benchGpOptions with Restarts = 1 }
            else
                benchGpOptions

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

    /// A seeded noisy measurement of E1/E2 at x (noise as in domain.md: conductivity 2 %,
    /// viscosity 0.5 %, 1 sigma), the noise stream keyed by (seed, evaluation index).
    let private measured (seed: int) (index: int) (x: float[]) : float[] =
        let mutable rng = Finales.Core.Rng.create (uint64 (seed * 1000003 + index + 1))

        let normal () =
            let z, next = Finales.Core.Rng.nextNormal rng
            rng <- next
            z

        electrolyte (Some normal) x

    /// One E1/E2 run: GP-UCB through `Campaign.step` (Chimera on the measured values, batch 1) or
    /// random feasible sampling; best-so-far regret on the true values.
    let private runElectrolyte (p: BenchProblem) (gpUcb: bool) (seed: int) (evals: int) : float[] =
        let sets = electrolyteSets p
        let objectives = electrolyteObjectives p
        let names = [| "conductivity"; "viscosity"; "temperature" |]
        let xs = ResizeArray(initialDesign p seed)
        let ys = ResizeArray(xs |> Seq.mapi (fun i x -> measured seed i x))
        let mutable best = xs |> Seq.map (fun x -> pointRegret p (evaluate p x)) |> Seq.min
        let rng = Finales.Core.RandomStream.create (seed * 31337 + 5)

        let settings =
            { Campaign.defaultSettings with
                Gp = { benchGpOptions with Restarts = 1 } }

        let randomPoint () =
            let q = (FeasibleSet.sample rng electrolyteChemicals sets 1)[0]
            Array.append q.Fractions [| float q.Temperature |]

        Array.init evals (fun i ->
            let x =
                if not gpUcb then
                    randomPoint ()
                else
                    let obs =
                        [| for k in 0 .. xs.Count - 1 do
                               let f = Array.zip electrolyteChemicals (xs[k][0..4])

                               for j in 0 .. objectives.Length - 1 do
                                   let q = objectives[j].Quantity
                                   let v = ys[k][Array.IndexOf(names, q)]

                                   yield
                                       { Observation.Formulation = f
                                         Temperature = xs[k][5] * 1.0<Finales.Core.Units.K>
                                         Source = ""
                                         Quantity = q
                                         Value = v
                                         Rating = None
                                         Success = Double.IsFinite v
                                         Deleted = false } |]

                    match Campaign.step { settings with Seed = seed * 1009 + i } sets objectives obs [||] with
                    | Ok r when r.Suggestions.Length > 0 ->
                        let s = r.Suggestions[0]
                        Array.append (s.Formulation |> Array.map snd) [| float s.Temperature |]
                    | _ -> randomPoint ()

            xs.Add x
            ys.Add(measured seed (xs.Count - 1) x)
            best <- min best (pointRegret p (evaluate p x))
            best)

    /// Best-so-far regret after each of `evals` evaluations following the initial design.
    /// method: "gp-ucb" or "random".
    let runOne (p: BenchProblem) (gpUcb: bool) (seed: int) (evals: int) : float[] =
        match p with
        | E1
        | E2 -> runElectrolyte p gpUcb seed evals
        | _ ->
            let lo, hi = bounds p
            let xs = ResizeArray(initialDesign p seed)
            let fs = ResizeArray(xs |> Seq.map (evaluate p))
            let mutable best = fs |> Seq.map (pointRegret p) |> Seq.min
            let rng = Finales.Core.RandomStream.create (seed * 31337 + 5)
            let mutable warm = ValueNone

            Array.init evals (fun i ->
                let x =
                    if gpUcb then
                        let x, h = proposeBox p seed i warm (xs.ToArray()) (fs.ToArray())
                        warm <- h
                        x
                    else
                        uniform rng lo hi

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

            { Evaluations = e
              Median = quantile v 0.5
              Q1 = quantile v 0.25
              Q3 = quantile v 0.75 })

    /// The regret curves of a `bench optimizer` run: `seeds` curves of `evals` best-so-far regrets
    /// per method, GP-UCB first, then random search. `progress` receives one line per curve.
    let regretRun (p: BenchProblem) (seeds: int) (evals: int) (progress: string -> unit) : RegretRun =
        let run gp label =
            Array.init seeds (fun s ->
                let c = runOne p gp s evals

                progress (sprintf "%s %s seed %d/%d: final regret %.3g" (name p) label (s + 1) seeds c[c.Length - 1])

                c)

        let gp = run true "gp-ucb"
        let rnd = run false "random"

        { Problem = p
          Seeds = seeds
          Evaluations = evals
          GpUcb = gp
          Random = rnd }
