namespace Finales.Md.Interop

open System
open System.Collections.Generic
open System.IO
open System.Runtime.InteropServices
open Finales.Core
open Finales.Md.Setup

/// What the all-atom level is asked to run, for C#. `MoleFractions` is keyed by chemical name, SMILES or
/// InChIKey (LiPF6 as one formula unit); `DataDirectory` is data/md/allatom (force field and geometries).
/// `AllAtomSetup.Defaults` fills a production run; the smoke test shortens the step counts.
[<CLIMutable>]
type AllAtomSetupInput =
    {
        MoleFractions: IReadOnlyDictionary<string, float>
        TemperatureK: float
        PressureAtm: float
        TargetAtoms: int
        TimestepFs: float
        MinimiseIterations: int
        NvtSteps: int
        NptSteps: int
        ProductionSteps: int
        ThermoEvery: int
        DumpEvery: int
        RestartEvery: int
        Seed: int
        DataDirectory: string
        /// The command that runs Packmol (e.g. "packmol").
        PackmolCommand: string
        /// The command that runs LAMMPS, given `-in` and `-log` (e.g. "lmp", "mpirun -np 8 lmp", "srun lmp").
        LammpsCommand: string
    }

/// A prepared all-atom run, for C#: the files are written in `WorkDirectory`; run `Script` there (bash:
/// Packmol then LAMMPS), or `RestartScript` on a requeue. The rest is the analysis input and what to
/// state in `run_info`; `AnalysisInput` builds the input of `MdAnalysis.TryAnalyse`.
type AllAtomSetupPlan =
    {
        WorkDirectory: string
        Script: string
        RestartScript: string
        Files: IReadOnlyList<string>
        /// Formula units per chemical (LiPF6 counts ion pairs).
        Counts: IReadOnlyDictionary<string, int>
        AchievedMoleFractions: IReadOnlyDictionary<string, float>
        Atoms: int
        BoxEdgeAngstrom: float
        EstimatedDensityGPerCm3: float
        CutoffAngstrom: float
        TotalSteps: int
        DumpPath: string
        LogPath: string
        TimestepFs: float
        TemperatureK: float
        /// One entry per species with its own LAMMPS types; charges with the 0.8 ionic scaling.
        Species: IReadOnlyList<MdSpecies>
        /// Li-O(carbonyl), Li-P, Li-Li.
        RdfPairs: IReadOnlyList<RdfPairSpec>
        /// g/mol by LAMMPS atom type (the dump has no mass column; molecules are followed by centre of mass).
        TypeMasses: IReadOnlyDictionary<int, float>
    }

    /// The analysis input of the finished run (`viscosityMPaS` for the Yeh-Hummer correction, or null).
    member p.AnalysisInput(viscosityMPaS: Nullable<float>, maxFrames: Nullable<int>) : MdAnalysisInput =
        MdAnalysisInput(
            p.DumpPath,
            p.LogPath,
            p.TimestepFs,
            p.TemperatureK,
            p.Species,
            p.RdfPairs,
            viscosityMPaS,
            maxFrames,
            TypeMasses = p.TypeMasses
        )

/// The C# facade of the all-atom setup: Try pattern (false and a message naming the field and value;
/// the plan is then null). Throws only for a null input or work directory.
[<AbstractClass; Sealed>]
type AllAtomSetup =
    /// A production run: 5,000 atoms, 1 fs steps, minimisation, 100 ps NVT, 1 ns NPT, 5 ns NVT production,
    /// a frame every ps, a restart file every 100 ps, `packmol` and `lmp` on the PATH.
    static member Defaults
        (moleFractions: IReadOnlyDictionary<string, float>, temperatureK: float, dataDirectory: string)
        : AllAtomSetupInput =
        { MoleFractions = moleFractions
          TemperatureK = temperatureK
          PressureAtm = 1.0
          TargetAtoms = 5000
          TimestepFs = 1.0
          MinimiseIterations = 1000
          NvtSteps = 100_000
          NptSteps = 1_000_000
          ProductionSteps = 5_000_000
          ThermoEvery = 1000
          DumpEvery = 1000
          RestartEvery = 100_000
          Seed = 4711
          DataDirectory = dataDirectory
          PackmolCommand = "packmol"
          LammpsCommand = "lmp" }

    static member private Dict(pairs: (string * 'v) seq) : IReadOnlyDictionary<string, 'v> =
        let d = Dictionary<string, 'v>(StringComparer.Ordinal)

        for k, v in pairs do
            d[k] <- v

        d

    static member private Fractions(input: AllAtomSetupInput) : Result<(Chemical * float) list, string list> =
        if obj.ReferenceEquals(input.MoleFractions, null) then
            Error [ "moleFractions: missing" ]
        else
            let parsed =
                input.MoleFractions
                |> Seq.map (fun kv ->
                    Chemical.find kv.Key
                    |> Result.map (fun c -> c, kv.Value)
                    |> Result.mapError (fun e ->
                        $"moleFractions: {e}; the all-atom force field covers LiPF6, EC, EMC, DMC and PC"))
                |> List.ofSeq

            match
                parsed
                |> List.choose (function
                    | Error e -> Some e
                    | Ok _ -> None)
            with
            | [] ->
                Ok(
                    parsed
                    |> List.choose (function
                        | Ok x -> Some x
                        | Error _ -> None)
                )
            | errors -> Error errors

    /// Plans the run and writes its files into `workDirectory` (created if needed).
    static member TryPrepare
        (
            input: AllAtomSetupInput,
            workDirectory: string,
            [<Out>] plan: byref<AllAtomSetupPlan>,
            [<Out>] error: byref<string>
        ) : bool =
        ArgumentNullException.ThrowIfNull(box input, nameof input)
        ArgumentNullException.ThrowIfNull(workDirectory, nameof workDirectory)
        plan <- Unchecked.defaultof<_>
        error <- null

        let dataDir = input.DataDirectory

        let ffPath =
            if isNull dataDir then
                ""
            else
                Path.Combine(dataDir, AllAtomPlan.ForceFieldFile)

        if isNull dataDir || not (File.Exists ffPath) then
            error <-
                $"dataDirectory: '{dataDir}' holds no {AllAtomPlan.ForceFieldFile} (data/md/allatom of the repository)"

            false
        elif
            String.IsNullOrWhiteSpace input.PackmolCommand
            || String.IsNullOrWhiteSpace input.LammpsCommand
        then
            error <- "packmolCommand and lammpsCommand must name the programs (e.g. 'packmol', 'lmp')"
            false
        else
            let geometry (file: string) =
                let p = Path.Combine(dataDir, file)
                if File.Exists p then Some(File.ReadAllText p) else None

            let run: AllAtomRun =
                { TemperatureK = input.TemperatureK
                  PressureAtm = input.PressureAtm
                  TimestepFs = input.TimestepFs
                  MinimiseIterations = input.MinimiseIterations
                  NvtSteps = input.NvtSteps
                  NptSteps = input.NptSteps
                  ProductionSteps = input.ProductionSteps
                  ThermoEvery = input.ThermoEvery
                  DumpEvery = input.DumpEvery
                  RestartEvery = input.RestartEvery
                  Seed = input.Seed }

            let result =
                AllAtomSetup.Fractions input
                |> Result.bind (fun fractions ->
                    AllAtomPlan.create
                        (File.ReadAllText ffPath)
                        geometry
                        { Fractions = fractions
                          TargetAtoms = input.TargetAtoms
                          Run = run })

            match result with
            | Error errors ->
                error <- String.Join("; ", errors)
                false
            | Ok p ->
                Directory.CreateDirectory workDirectory |> ignore

                for name, text in p.Files do
                    File.WriteAllText(Path.Combine(workDirectory, name), text)

                plan <-
                    { WorkDirectory = workDirectory
                      Script = AllAtomInput.script input.PackmolCommand input.LammpsCommand
                      RestartScript = AllAtomInput.restartScript input.PackmolCommand input.LammpsCommand
                      Files = p.Files |> List.map fst |> Array.ofList
                      Counts = AllAtomSetup.Dict(p.Counts.Counts |> Seq.map (fun (c, k) -> Chemical.name c, k))
                      AchievedMoleFractions =
                        AllAtomSetup.Dict(p.Counts.Achieved |> Seq.map (fun (c, x) -> Chemical.name c, x))
                      Atoms = p.Counts.Atoms
                      BoxEdgeAngstrom = p.System.BoxEdge
                      EstimatedDensityGPerCm3 = p.EstimatedDensity
                      CutoffAngstrom = AllAtomInput.cutoff p.System.BoxEdge
                      TotalSteps = run.NvtSteps + run.NptSteps + run.ProductionSteps
                      DumpPath = Path.Combine(workDirectory, AllAtomInput.DumpFile)
                      LogPath = Path.Combine(workDirectory, AllAtomInput.LogFile)
                      TimestepFs = run.TimestepFs
                      TemperatureK = run.TemperatureK
                      Species =
                        p.Species
                        |> List.map (fun s -> MdSpecies(s.Name, Array.ofList s.AtomTypes, s.Charge, s.ByMolecule))
                        |> Array.ofList
                      RdfPairs =
                        p.RdfPairs
                        |> List.map (fun r ->
                            RdfPairSpec(r.Name, Array.ofList r.TypesA, Array.ofList r.TypesB, r.RMax, r.Bins))
                        |> Array.ofList
                      TypeMasses =
                        Dictionary<int, float>(
                            p.System.Types |> Seq.map (fun t -> KeyValuePair(t.Id, t.Parameters.Mass))
                        ) }

                true
