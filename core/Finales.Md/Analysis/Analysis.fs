namespace Finales.Md.Analysis

open System
open System.Collections.Generic

/// What to analyse and how.
type AnalysisOptions =
    {
        TimestepFs: float
        TemperatureK: float
        Species: Species list
        RdfPairs: RdfPair list
        /// Shear viscosity for the Yeh-Hummer correction; None = not reported.
        ViscosityMPaS: float option
        MaxFrames: int option
        /// Masses by atom type (g/mol) when the dump has no mass column; needed for multi-atom molecules.
        TypeMasses: IReadOnlyDictionary<int, float>
        /// Time blocks for the error bars of D and of the Einstein-Helfand conductivity.
        Blocks: int
    }

/// The MSD and self-diffusion of one species.
type SpeciesResult =
    {
        Name: string
        Units: int
        Charge: float
        /// MSD (Angstrom^2) at lags 0, 1, 2 ... frames.
        Msd: float[]
        Fit: MsdFit option
        /// m^2/s, from the fit over the whole trajectory; error from the spread of the time-block fits.
        Diffusion: Estimate option
        /// D + the Yeh-Hummer correction, m^2/s (when a viscosity is given).
        DiffusionYehHummer: float option
    }

/// Everything the analysis found.
type Report =
    {
        Frames: int
        FrameIntervalFs: float
        MeanVolumeA3: float
        Density: Estimate option
        Species: SpeciesResult list
        NernstEinstein: Estimate option
        EinsteinHelfand: Estimate option
        EinsteinHelfandFit: MsdFit option
        Transference: Estimate option
        Rdfs: RdfResult list
        /// What could not be computed and why, and other caveats.
        Notes: string list
    }

/// The analysis pipeline: one pass over the dump, frame by frame, then the MSD-based quantities.
[<RequireQualifiedAccess>]
module Analysis =
    let private validate (o: AnalysisOptions) : Result<unit, string> =
        if not (o.TimestepFs > 0.0 && Double.IsFinite o.TimestepFs) then
            Error $"timestep is {o.TimestepFs} fs; it must be > 0"
        elif not (o.TemperatureK > 0.0 && Double.IsFinite o.TemperatureK) then
            Error $"temperature is {o.TemperatureK} K; it must be > 0"
        elif o.Species.IsEmpty then
            Error "no species given"
        elif o.Blocks < 2 then
            Error $"blocks is {o.Blocks}; it must be >= 2"
        else
            match o.ViscosityMPaS, o.MaxFrames with
            | Some v, _ when not (v > 0.0 && Double.IsFinite v) -> Error $"viscosity is {v} mPa s; it must be > 0"
            | _, Some m when m < 2 -> Error $"max frames is {m}; it must be >= 2"
            | _ -> Ok()

    let private blockEstimate
        (blocks: int)
        (frames: int)
        (fit: MsdFit option)
        (dtFs: float)
        (blockMsd: int -> int -> float[])
        (value: float -> float)
        : float =
        match fit with
        | None -> nan
        | Some f ->
            let size = frames / blocks

            if size < 10 then
                nan
            else
                [| for b in 0 .. blocks - 1 do
                       match Transport.fitLike f frames (blockMsd (b * size) size) dtFs with
                       | Some bf -> value bf.Slope
                       | None -> () |]
                |> Transport.meanAndError
                |> fun e -> e.Error

    /// Analyses a dump (its lines, read lazily) and optionally a thermo log.
    let analyse
        (o: AnalysisOptions)
        (dumpLines: seq<string>)
        (logLines: seq<string> option)
        (cancelled: unit -> bool)
        : Result<Report, string> =
        validate o
        |> Result.bind (fun () ->
            let mutable state: TrajectoryState option = None
            let mutable firstFrame: Frame option = None
            let mutable previousStep = 0L
            let mutable stride = 0L
            let mutable frames = 0
            let mutable volumeSum = 0.0
            let mutable error = None
            let mutable rdfs: RdfAccumulator list = []
            let limit = defaultArg o.MaxFrames Int32.MaxValue
            use e = (Dump.frames dumpLines).GetEnumerator()

            while error.IsNone && frames < limit && e.MoveNext() do
                if cancelled () then
                    error <- Some "cancelled"
                else
                    match e.Current with
                    | Error(DumpError m) -> error <- Some m
                    | Ok f ->
                        match state, firstFrame with
                        | None, _ ->
                            match SpeciesUnits.ofFrame o.Species o.TypeMasses f with
                            | Error m -> error <- Some m
                            | Ok units ->
                                state <- Some(TrajectoryState(units, f))
                                firstFrame <- Some f
                                rdfs <- o.RdfPairs |> List.map (fun p -> RdfAccumulator(p, f.Types))
                        | Some _, Some first ->
                            if f.Ids.Length <> first.Ids.Length then
                                error <-
                                    Some
                                        $"timestep {f.Timestep} has {f.Ids.Length} atoms, the first frame {first.Ids.Length}"
                            elif frames = 1 then
                                stride <- f.Timestep - previousStep

                                if stride <= 0L then
                                    error <- Some $"timestep {f.Timestep} does not follow {previousStep}"
                            elif f.Timestep - previousStep <> stride then
                                error <-
                                    Some
                                        $"frames are not evenly spaced: timestep {f.Timestep} follows {previousStep}, the first interval is {stride} steps"
                        | Some _, None -> ()

                        let halfEdge = Array.min f.Box.Lengths / 2.0

                        match o.RdfPairs |> List.tryFind (fun p -> p.RMax > halfEdge) with
                        | Some p when error.IsNone ->
                            error <-
                                Some
                                    $"RDF pair '{p.Name}': RMAX {p.RMax} A exceeds half the shortest box edge ({halfEdge} A) at timestep {f.Timestep}"
                        | _ -> ()

                        match error, state with
                        | None, Some s ->
                            s.Add f
                            frames <- frames + 1
                            volumeSum <- volumeSum + f.Box.Volume
                            previousStep <- f.Timestep
                        | _ -> ()

                        match error, state with
                        | None, Some _ ->
                            // Positions are unwrapped only for wrapped dumps, and minimum image needs none.
                            for r in rdfs do
                                r.Add(f.X, f.Y, f.Z, f.Box)
                        | _ -> ()

            match error, state with
            | Some m, _ -> Error m
            | None, None -> Error "the dump holds no frame"
            | None, Some _ when frames < 2 -> Error "the dump holds 1 frame; the MSD needs at least 2"
            | None, Some s ->
                let dt = float stride * o.TimestepFs
                let volume = volumeSum / float frames
                let notes = ResizeArray<string>()

                let species =
                    [ for k in 0 .. s.Units.Length - 1 do
                          let u = s.Units[k]
                          let store = s.Stores[k]
                          let msd = Msd.fftMean store.Units store.Series frames
                          let fit = Transport.fitDiffusive msd dt

                          let err =
                              blockEstimate
                                  o.Blocks
                                  frames
                                  fit
                                  dt
                                  (fun start count ->
                                      let b = store.Slice(start, count)
                                      Msd.fftMean b.Units b.Series count)
                                  Transport.diffusion

                          match fit with
                          | None -> notes.Add $"{u.Species.Name}: too few frames ({frames}) for a diffusion fit"
                          | Some f when abs (f.LogLogSlope - 1.0) > 0.1 ->
                              notes.Add
                                  $"{u.Species.Name}: log-log slope {f.LogLogSlope:F2} over the fit window: not yet diffusive, D is not reliable"
                          | Some _ -> ()

                          let d =
                              fit
                              |> Option.map (fun f ->
                                  { Mean = Transport.diffusion f.Slope
                                    Error = err })

                          { Name = u.Species.Name
                            Units = u.Atoms.Length
                            Charge = u.Species.Charge
                            Msd = msd
                            Fit = fit
                            Diffusion = d
                            DiffusionYehHummer =
                              match d, o.ViscosityMPaS with
                              | Some d, Some eta ->
                                  Some(d.Mean + Transport.yehHummer o.TemperatureK eta (Math.Cbrt volume))
                              | _ -> None } ]

                let charged =
                    species
                    |> List.filter (fun r -> r.Charge <> 0.0)
                    |> List.choose (fun r ->
                        r.Diffusion
                        |> Option.map (fun d ->
                            r.Units, r.Charge, d.Mean, (if Double.IsNaN d.Error then 0.0 else d.Error)))

                let ne =
                    if charged.IsEmpty then
                        notes.Add "no charged species with a diffusion coefficient: no Nernst-Einstein conductivity"
                        None
                    else
                        Some(Transport.nernstEinstein volume o.TemperatureK charged)

                let mx, my, mz = s.Collective
                let mMsd = Msd.fft mx my mz

                let ehFit =
                    if charged.IsEmpty then
                        None
                    else
                        Transport.fitDiffusive mMsd dt

                let eh =
                    ehFit
                    |> Option.map (fun f ->
                        let err =
                            blockEstimate
                                o.Blocks
                                frames
                                ehFit
                                dt
                                (fun start count ->
                                    Msd.fft
                                        mx[start .. start + count - 1]
                                        my[start .. start + count - 1]
                                        mz[start .. start + count - 1])
                                (Transport.einsteinHelfand volume o.TemperatureK)

                        { Mean = Transport.einsteinHelfand volume o.TemperatureK f.Slope
                          Error = err })

                let density =
                    match logLines with
                    | None ->
                        notes.Add "no thermo log: no density"
                        None
                    | Some lines ->
                        match ThermoLog.density (ThermoLog.runs lines) with
                        | Ok d -> Some d
                        | Error m ->
                            notes.Add $"density: {m}"
                            None

                Ok
                    { Frames = frames
                      FrameIntervalFs = dt
                      MeanVolumeA3 = volume
                      Density = density
                      Species = species
                      NernstEinstein = ne
                      EinsteinHelfand = eh
                      EinsteinHelfandFit = ehFit
                      Transference = Transport.transference charged
                      Rdfs = rdfs |> List.map (fun r -> r.Result())
                      Notes = List.ofSeq notes })
