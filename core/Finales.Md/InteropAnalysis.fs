namespace Finales.Md.Interop

open System
open System.Collections.Generic
open System.IO
open System.Runtime.InteropServices
open System.Threading
open Finales.Md.Analysis

/// A species for C#: its atom types, charge per molecule or ion (e), and whether the molecule (centre of mass
/// of the atoms sharing a `mol` id) or the single atom is the unit.
type MdSpecies(name: string, atomTypes: int[], charge: float, byMolecule: bool) =
    member _.Name = name
    member _.AtomTypes = atomTypes
    member _.Charge = charge
    member _.ByMolecule = byMolecule

/// An RDF pair for C#: RMax in Angstrom (at most half the shortest box edge), Bins histogram bins.
type RdfPairSpec(name: string, typesA: int[], typesB: int[], rMax: float, bins: int) =
    member _.Name = name
    member _.TypesA = typesA
    member _.TypesB = typesB
    member _.RMax = rMax
    member _.Bins = bins

/// What to analyse. LogPath null = no thermo log (no density). ViscosityMPaS null = no Yeh-Hummer correction.
/// MaxFrames null = every frame. TypeMasses (g/mol by atom type) is needed only for species by molecule with
/// molecules of several atoms when the dump has no `mass` column. Blocks: time blocks of the error bars.
type MdAnalysisInput
    (
        dumpPath: string,
        logPath: string,
        timestepFs: float,
        temperatureK: float,
        species: IReadOnlyList<MdSpecies>,
        rdfPairs: IReadOnlyList<RdfPairSpec>,
        viscosityMPaS: Nullable<float>,
        maxFrames: Nullable<int>
    ) =
    member _.DumpPath = dumpPath
    member _.LogPath = logPath
    member _.TimestepFs = timestepFs
    member _.TemperatureK = temperatureK
    member _.Species = species
    member _.RdfPairs = rdfPairs
    member _.ViscosityMPaS = viscosityMPaS
    member _.MaxFrames = maxFrames
    member val TypeMasses: IReadOnlyDictionary<int, float> = null with get, set
    member val Blocks = 5 with get, set

/// One species' MSD and self-diffusion; nullable where the trajectory was too short for a fit.
type MdSpeciesResult =
    {
        Name: string
        Units: int
        ChargeE: float
        DiffusionM2PerS: Nullable<float>
        DiffusionErrM2PerS: Nullable<float>
        /// D + the Yeh-Hummer finite-size correction (when a viscosity was given).
        DiffusionYehHummerM2PerS: Nullable<float>
        FitStartFs: Nullable<float>
        FitEndFs: Nullable<float>
        LogLogSlope: Nullable<float>
        MsdLagFs: IReadOnlyList<float>
        MsdA2: IReadOnlyList<float>
    }

/// One RDF: bin centres (Angstrom), g(r), running coordination number.
type MdRdf =
    { Name: string
      R: IReadOnlyList<float>
      G: IReadOnlyList<float>
      Coordination: IReadOnlyList<float> }

/// The analysis report for C#; nullable values were not computable (Notes say why).
type MdAnalysisReport internal (report: Report) =
    let nullable (v: float) =
        if Double.IsFinite v then Nullable v else Nullable()

    let mean (e: Estimate option) =
        e |> Option.map (fun e -> nullable e.Mean) |> Option.defaultValue (Nullable())

    let err (e: Estimate option) =
        e |> Option.map (fun e -> nullable e.Error) |> Option.defaultValue (Nullable())

    member _.Frames = report.Frames
    member _.FrameIntervalFs = report.FrameIntervalFs
    member _.MeanVolumeA3 = report.MeanVolumeA3
    member _.DensityGPerCm3 = mean report.Density
    member _.DensityErrGPerCm3 = err report.Density

    member _.Species: IReadOnlyList<MdSpeciesResult> =
        report.Species
        |> List.map (fun s ->
            { Name = s.Name
              Units = s.Units
              ChargeE = s.Charge
              DiffusionM2PerS = mean s.Diffusion
              DiffusionErrM2PerS = err s.Diffusion
              DiffusionYehHummerM2PerS =
                s.DiffusionYehHummer |> Option.map nullable |> Option.defaultValue (Nullable())
              FitStartFs =
                s.Fit
                |> Option.map (fun f -> nullable f.StartFs)
                |> Option.defaultValue (Nullable())
              FitEndFs =
                s.Fit
                |> Option.map (fun f -> nullable f.EndFs)
                |> Option.defaultValue (Nullable())
              LogLogSlope =
                s.Fit
                |> Option.map (fun f -> nullable f.LogLogSlope)
                |> Option.defaultValue (Nullable())
              MsdLagFs = Array.init s.Msd.Length (fun k -> float k * report.FrameIntervalFs)
              MsdA2 = s.Msd })
        |> Array.ofList
        :> _

    member _.ConductivityNernstEinsteinSPerM = mean report.NernstEinstein
    member _.ConductivityNernstEinsteinErrSPerM = err report.NernstEinstein
    member _.ConductivityEinsteinHelfandSPerM = mean report.EinsteinHelfand
    member _.ConductivityEinsteinHelfandErrSPerM = err report.EinsteinHelfand
    member _.TransferenceNumber = mean report.Transference
    member _.TransferenceNumberErr = err report.Transference
    member _.TransferenceDefinition = Transport.TransferenceDefinition

    member _.Rdfs: IReadOnlyList<MdRdf> =
        report.Rdfs
        |> List.map (fun g ->
            { Name = g.Name
              R = g.R
              G = g.G
              Coordination = g.Coordination })
        |> Array.ofList
        :> _

    /// What could not be computed and why, and caveats (e.g. an MSD not yet diffusive).
    member _.Notes: IReadOnlyList<string> = Array.ofList report.Notes :> _

    /// The report as JSON (what `./finales md analyse` prints).
    member _.ToJson() : string = ReportJson.report report

    /// The RDFs in the corpus `RDFOutput` shape (radial_density_function/molacular_dynamics); false when
    /// there is no RDF or the RDFs do not share one radius grid.
    member _.TryRdfOutputJson(cellFormula: string, [<Out>] json: byref<string>, [<Out>] error: byref<string>) : bool =
        match ReportJson.rdfOutput report cellFormula with
        | Ok j ->
            json <- j
            error <- null
            true
        | Error e ->
            json <- null
            error <- e
            false

/// Trajectory analysis for C#: reads the dump (streaming) and the log, returns the report or why not.
[<AbstractClass; Sealed>]
type MdAnalysis =
    static member private ToSpecies(s: MdSpecies) : Species =
        { Name = s.Name
          AtomTypes = s.AtomTypes
          Charge = s.Charge
          ByMolecule = s.ByMolecule }

    static member private ToPair(p: RdfPairSpec) : RdfPair =
        { Name = p.Name
          TypesA = p.TypesA
          TypesB = p.TypesB
          RMax = p.RMax
          Bins = p.Bins }

    static member private Check(input: MdAnalysisInput) : string option =
        if isNull (box input) then
            Some "input is null"
        elif String.IsNullOrWhiteSpace input.DumpPath then
            Some "dump path is empty"
        elif not (File.Exists input.DumpPath) then
            Some $"dump file '{input.DumpPath}' does not exist"
        elif not (isNull input.LogPath) && not (File.Exists input.LogPath) then
            Some $"log file '{input.LogPath}' does not exist"
        elif
            isNull input.Species
            || input.Species |> Seq.exists (fun s -> isNull (box s) || isNull s.AtomTypes)
        then
            Some "species list is null or holds a null species or type list"
        elif
            not (isNull input.RdfPairs)
            && input.RdfPairs
               |> Seq.exists (fun p ->
                   isNull (box p)
                   || isNull p.TypesA
                   || isNull p.TypesB
                   || p.Bins < 1
                   || not (p.RMax > 0.0))
        then
            Some "an RDF pair is null, has no types, Bins < 1 or RMax <= 0"
        else
            None

    /// Analyses the dump and log of `input`, checking `cancel` between frames (cancelled: false, "cancelled").
    static member TryAnalyse
        (
            input: MdAnalysisInput,
            cancel: CancellationToken,
            [<Out>] report: byref<MdAnalysisReport>,
            [<Out>] error: byref<string>
        ) : bool =
        report <- Unchecked.defaultof<_>
        error <- null

        match MdAnalysis.Check input with
        | Some e ->
            error <- e
            false
        | None ->
            let options =
                { TimestepFs = input.TimestepFs
                  TemperatureK = input.TemperatureK
                  Species = input.Species |> Seq.map MdAnalysis.ToSpecies |> List.ofSeq
                  RdfPairs =
                    if isNull input.RdfPairs then
                        []
                    else
                        input.RdfPairs |> Seq.map MdAnalysis.ToPair |> List.ofSeq
                  ViscosityMPaS = Option.ofNullable input.ViscosityMPaS
                  MaxFrames = Option.ofNullable input.MaxFrames
                  TypeMasses =
                    if isNull input.TypeMasses then
                        Dictionary<int, float>() :> IReadOnlyDictionary<_, _>
                    else
                        input.TypeMasses
                  Blocks = input.Blocks }

            let log =
                if isNull input.LogPath then
                    None
                else
                    Some(File.ReadLines input.LogPath)

            match
                Analysis.analyse options (File.ReadLines input.DumpPath) log (fun () -> cancel.IsCancellationRequested)
            with
            | Ok r ->
                report <- MdAnalysisReport r
                true
            | Error e ->
                error <- e
                false

    /// Analyses the dump and log of `input`.
    static member TryAnalyse
        (input: MdAnalysisInput, [<Out>] report: byref<MdAnalysisReport>, [<Out>] error: byref<string>)
        : bool =
        MdAnalysis.TryAnalyse(input, CancellationToken.None, &report, &error)

    /// Parses `NAME:TYPES:CHARGE[:mol]` items separated by commas (e.g. `Li:1:1,PF6:2:-1`).
    static member TryParseSpecies
        (text: string, [<Out>] species: byref<IReadOnlyList<MdSpecies>>, [<Out>] error: byref<string>)
        : bool =
        match Species.parse (if isNull text then "" else text) with
        | Ok ss ->
            species <-
                ss
                |> List.map (fun s -> MdSpecies(s.Name, s.AtomTypes, s.Charge, s.ByMolecule))
                |> Array.ofList
                :> IReadOnlyList<MdSpecies>

            error <- null
            true
        | Error e ->
            species <- null
            error <- e
            false

    /// Parses `NAME:TYPESA:TYPESB[:RMAX[:BINS]]` items separated by commas (e.g. `Li-P:1:2:12:240`).
    static member TryParseRdfPairs
        (text: string, [<Out>] pairs: byref<IReadOnlyList<RdfPairSpec>>, [<Out>] error: byref<string>)
        : bool =
        match Species.parseRdfPairs (if isNull text then "" else text) with
        | Ok ps ->
            pairs <-
                ps
                |> List.map (fun p -> RdfPairSpec(p.Name, p.TypesA, p.TypesB, p.RMax, p.Bins))
                |> Array.ofList
                :> IReadOnlyList<RdfPairSpec>

            error <- null
            true
        | Error e ->
            pairs <- null
            error <- e
            false

/// Synthetic trajectories for benchmarks: independent random walkers of two ion types (+1, -1) in a cubic box.
[<AbstractClass; Sealed>]
type MdSynthetic =
    /// Writes the dump of `frames` frames of `atoms` random walkers (types 1 and 2 alternating, charges +1 and
    /// -1, box edge boxA Angstrom, Gaussian steps of stepA per Cartesian component, `stride` timesteps between
    /// frames, seeded) to `path`, streaming; returns the exact D in m^2/s for the given timestep.
    static member WriteRandomWalkDump
        (path: string, frames: int, atoms: int, seed: int64, boxA: float, stepA: float, stride: int, timestepFs: float)
        : float =
        let walk =
            { Seed = uint64 seed
              Atoms = atoms
              Frames = frames
              BoxA = boxA
              StepA = stepA
              Stride = stride
              TypeCount = 2
              TypeCharges = [| 1.0; -1.0 |]
              Wrapped = false }

        File.WriteAllLines(path, Synthetic.dumpLines walk)
        Units.angstrom2PerFsToM2PerS (Synthetic.diffusionA2PerFs walk timestepFs)
