namespace Finales.Md.Interop

open System
open System.Collections.Generic
open System.Runtime.InteropServices
open Finales.Core.Units
open Finales.Md.Setup

/// How long and how finely a primitive-model job runs (see `PrimitiveRun`).
[<Sealed>]
type PrimitiveRunSettings
    (
        ionPairs: int,
        equilibrationPs: float,
        productionPs: float,
        timestepFs: float,
        dampFs: float,
        frameIntervalPs: float,
        seed: int
    ) =
    /// Number of Li+/PF6- pairs.
    member _.IonPairs = ionPairs
    /// Equilibration, ps.
    member _.EquilibrationPs = equilibrationPs
    /// Production, ps.
    member _.ProductionPs = productionPs
    /// Time step, fs.
    member _.TimestepFs = timestepFs
    /// Langevin damping time, fs.
    member _.DampFs = dampFs
    /// Interval between frames, ps.
    member _.FrameIntervalPs = frameIntervalPs
    /// Seed of placement, velocities and noise.
    member _.Seed = seed

    /// The default run (200 pairs, 100 ps + 1 ns at 20 fs, frames every 2 ps) with the given seed.
    static member Default(seed: int) : PrimitiveRunSettings =
        let d = PrimitiveModel.defaultRun

        PrimitiveRunSettings(
            d.IonPairs,
            d.EquilibrationPs,
            d.ProductionPs,
            d.TimestepFs,
            d.DampFs,
            d.FrameIntervalPs,
            seed
        )

    /// The same settings with another production length (ps).
    member this.WithProductionPs(ps: float) : PrimitiveRunSettings =
        PrimitiveRunSettings(ionPairs, equilibrationPs, ps, timestepFs, dampFs, frameIntervalPs, seed)

    member internal _.ToRun() : PrimitiveRun =
        { IonPairs = ionPairs
          EquilibrationPs = equilibrationPs
          ProductionPs = productionPs
          TimestepFs = timestepFs
          DampFs = dampFs
          FrameIntervalPs = frameIntervalPs
          Seed = seed }

/// Everything a primitive-model job needs: the files to write into its directory and the facts to report.
[<Sealed>]
type PrimitiveJob internal (s: PrimitiveSystem, lmp: string) =
    /// File name -> text of every file the job directory needs (in.lammps, in.restart.lammps, data.lmp).
    member _.Files: IReadOnlyDictionary<string, string> =
        readOnlyDict
            [ "in.lammps", PrimitiveLammps.input s
              PrimitiveLammps.RestartInputFile, PrimitiveLammps.restartInput s
              PrimitiveLammps.DataFile, PrimitiveLammps.dataFile s ]

    /// The job script (bash, run in the job directory).
    member _.Script: string = PrimitiveLammps.jobScript lmp
    /// The requeue script (continues from the newest restart file).
    member _.RestartScript: string = PrimitiveLammps.restartScript lmp
    /// The trajectory file name.
    member _.DumpFile: string = PrimitiveLammps.DumpFile
    /// The thermo log file name.
    member _.LogFile: string = PrimitiveLammps.LogFile

    /// The species table for the analysis.
    member _.Species: IReadOnlyList<MdSpecies> =
        PrimitiveLammps.species
        |> List.map (fun e -> MdSpecies(e.Name, List.toArray e.AtomTypes, e.Charge, e.ByMolecule))
        |> List.toArray
        :> IReadOnlyList<MdSpecies>

    /// The RDF pairs for the analysis.
    member _.RdfPairs: IReadOnlyList<RdfPairSpec> =
        PrimitiveLammps.rdfPairs s
        |> List.map (fun p -> RdfPairSpec(p.Name, List.toArray p.TypesA, List.toArray p.TypesB, p.RMaxAngstrom, p.Bins))
        |> List.toArray
        :> IReadOnlyList<RdfPairSpec>

    /// The analysis input of the job's directory. No Yeh-Hummer viscosity: Langevin dynamics in an implicit
    /// solvent has no hydrodynamic interactions, so the periodic images do not slow the ions down.
    member this.AnalysisInput(workDirectory: string) : MdAnalysisInput =
        if isNull workDirectory then
            nullArg (nameof workDirectory)

        MdAnalysisInput(
            System.IO.Path.Combine(workDirectory, PrimitiveLammps.DumpFile),
            System.IO.Path.Combine(workDirectory, PrimitiveLammps.LogFile),
            s.Request.Run.TimestepFs,
            float s.Request.Temperature,
            this.Species,
            this.RdfPairs,
            Nullable(),
            Nullable()
        )

    member _.TemperatureK = float s.Request.Temperature
    member _.TimestepFs = s.Request.Run.TimestepFs
    member _.EquilibrationSteps = s.EquilibrationSteps
    member _.ProductionSteps = s.ProductionSteps
    member _.FrameEverySteps = s.FrameEverySteps
    member _.IonCount = 2 * s.Request.Run.IonPairs
    member _.BoxLengthAngstrom = s.BoxLengthAngstrom
    member _.CellVolumeAngstrom3 = s.BoxLengthAngstrom ** 3.0
    member _.CellFormula = PrimitiveLammps.cellFormula s
    member _.SaltMolarity = float s.SaltMolarity
    /// The density of the solution the box was built with (the core's density model: an implicit solvent
    /// cannot predict it).
    member _.DensityGPerCm3 = float s.Density
    member _.ViscosityMPaS = float s.Viscosity
    member _.Permittivity = s.Permittivity
    /// Stokes-Einstein diffusion coefficients of the free ions, m^2/s (the dilute limit).
    member _.StokesEinsteinLi = PrimitiveModel.stokesEinstein s s.LiFriction
    member _.StokesEinsteinPF6 = PrimitiveModel.stokesEinstein s s.PF6Friction

/// The primitive model for C#: validation, the job files and the evidence check.
[<AbstractClass; Sealed>]
type PrimitiveSetup =
    /// The job of a request given as mole fractions (any identifier the core knows) and a temperature.
    /// False with every problem named (field and value) when the model cannot simulate it; no job then.
    static member TryBuild
        (
            moleFractions: IEnumerable<KeyValuePair<string, float>>,
            temperatureK: float,
            settings: PrimitiveRunSettings,
            lmpCommand: string,
            [<Out>] job: byref<PrimitiveJob>,
            [<Out>] error: byref<string>
        ) : bool =
        if isNull moleFractions then
            nullArg (nameof moleFractions)

        if isNull (box settings) then
            nullArg (nameof settings)

        if String.IsNullOrWhiteSpace lmpCommand then
            nullArg (nameof lmpCommand)

        let fractions = moleFractions |> Seq.map (fun kv -> kv.Key, kv.Value) |> Seq.toList

        match PrimitiveModel.build fractions (temperatureK * 1.0<K>) (settings.ToRun()) with
        | Ok s ->
            job <- PrimitiveJob(s, lmpCommand)
            error <- null
            true
        | Error es ->
            job <- Unchecked.defaultof<_>
            error <- es |> List.map PrimitiveError.message |> String.concat "; "
            false

    /// Whether a LAMMPS log shows a completed run.
    static member LogShowsCompletion(log: string) : bool = PrimitiveLammps.logShowsCompletion log

    /// `meta.rating` (1..5) from a value and its standard error; see `Rating.ofRelativeUncertainty`.
    static member Rating(value: float, standardError: Nullable<float>) : int =
        Rating.ofRelativeUncertainty (
            if standardError.HasValue then
                Rating.relative value standardError.Value
            else
                None
        )

    /// Lowest and highest temperature the model accepts, K.
    static member MinTemperatureK = float PrimitiveModel.MinTemperature
    static member MaxTemperatureK = float PrimitiveModel.MaxTemperature
