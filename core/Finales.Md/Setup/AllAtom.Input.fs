namespace Finales.Md.Setup

open System
open System.Globalization
open System.Text

/// Lengths and conditions of an all-atom run: minimisation, NVT, NPT (density), NVT production.
type AllAtomRun =
    { TemperatureK: float
      PressureAtm: float
      TimestepFs: float
      MinimiseIterations: int
      NvtSteps: int
      NptSteps: int
      ProductionSteps: int
      ThermoEvery: int
      DumpEvery: int
      RestartEvery: int
      Seed: int }

/// A species of the analysis: the LAMMPS types of its atoms, its charge per molecule (e) and whether
/// it is followed by its centre of mass (molecules) or atom by atom (monatomic ions).
type AllAtomSpeciesEntry =
    { Name: string
      AtomTypes: int list
      Charge: float
      ByMolecule: bool }

/// An RDF pair of the analysis (Li-O carbonyl, Li-P, Li-Li).
type AllAtomRdfPair =
    { Name: string
      TypesA: int list
      TypesB: int list
      RMax: float
      Bins: int }

/// The files of a run and the commands that build and run it.
[<RequireQualifiedAccess>]
module AllAtomInput =
    /// Packmol's output, read by the input script through `read_dump`.
    [<Literal>]
    let PackedFile = "packed.xyz"

    /// The data file (topology, parameters, provisional coordinates).
    [<Literal>]
    let DataFile = "system.data"

    /// The production trajectory.
    [<Literal>]
    let DumpFile = "traj.dump"

    /// The thermo log of every stage.
    [<Literal>]
    let LogFile = "log.lammps"

    /// Packmol's distance tolerance between molecules (Angstrom).
    [<Literal>]
    let PackmolTolerance = 2.0

    let private f (x: float) =
        x.ToString("0.######", CultureInfo.InvariantCulture)

    /// The real-space cut-off: 12 A, or less than half the box so the minimum image holds after NPT.
    let cutoff (boxEdge: float) : float =
        min 12.0 (Math.Floor(0.45 * boxEdge * 10.0) / 10.0)

    /// Validation of the run lengths; errors name the field and the value.
    let validate (run: AllAtomRun) : string list =
        [ if not (run.TemperatureK >= 200.0 && run.TemperatureK <= 500.0) then
              $"temperature is {run.TemperatureK} K; the all-atom model covers 200..500 K"
          if not (run.PressureAtm > 0.0 && run.PressureAtm <= 1000.0) then
              $"pressure is {run.PressureAtm} atm; it must be in (0, 1000]"
          if not (run.TimestepFs > 0.0 && run.TimestepFs <= 2.0) then
              $"timestep is {run.TimestepFs} fs; with SHAKE on bonds to H it must be in (0, 2]"
          if run.MinimiseIterations < 1 then
              $"minimise iterations is {run.MinimiseIterations}; it must be >= 1"
          for name, v in
              [ "NVT steps", run.NvtSteps
                "NPT steps", run.NptSteps
                "production steps", run.ProductionSteps ] do
              if v < 20 || v % 20 <> 0 then
                  $"{name} is {v}; it must be a positive multiple of 20"
          for name, v in
              [ "thermo every", run.ThermoEvery
                "dump every", run.DumpEvery
                "restart every", run.RestartEvery ] do
              if v < 1 then
                  $"{name} is {v}; it must be >= 1"
          if run.DumpEvery >= 1 && run.ProductionSteps % run.DumpEvery <> 0 then
              $"production steps ({run.ProductionSteps}) is not a multiple of dump every ({run.DumpEvery})"
          if run.Seed < 1 then
              $"seed is {run.Seed}; it must be >= 1" ]

    /// Packmol input: every species in `Molecules` order inside the box less 1 A on each side (periodic
    /// images then keep the tolerance), written to `PackedFile`.
    let packmol (sys: AllAtomSystem) (seed: int) : string =
        let sb = StringBuilder()
        let line (s: string) = sb.Append(s).Append('\n') |> ignore
        line $"tolerance {f PackmolTolerance}"
        line "filetype xyz"
        line $"output {PackedFile}"
        line $"seed {seed}"

        for (s, _, n) in sys.Molecules do
            let hi = f (sys.BoxEdge - 1.0)
            line ""
            line $"structure {AllAtomComposition.speciesName s}.xyz"
            line $"  number {n}"
            line $"  inside box 1 1 1 {hi} {hi} {hi}"
            line "end structure"

        sb.ToString()

    /// LAMMPS bond types held by SHAKE (the constrained bonds: every bond to H).
    let shakeBondTypes (sys: AllAtomSystem) : int list =
        sys.BondTypes
        |> List.indexed
        |> List.filter (fun (_, b) -> b.Constrained)
        |> List.map (fun (i, _) -> i + 1)

    let private header (sys: AllAtomSystem) (line: string -> unit) =
        line "units real"
        line "atom_style full"
        line "boundary p p p"

        if not sys.BondTypes.IsEmpty then
            line "bond_style harmonic"

        if not sys.AngleTypes.IsEmpty then
            line "angle_style harmonic"

        if not sys.DihedralTypes.IsEmpty then
            line "dihedral_style opls"

        if not sys.ImproperTypes.IsEmpty then
            line "improper_style cvff"

        line "special_bonds lj/coul 0.0 0.0 0.5"
        line $"pair_style lj/cut/coul/long {f (cutoff sys.BoxEdge)}"
        line "pair_modify mix geometric tail yes"

    let private dynamics (sys: AllAtomSystem) (run: AllAtomRun) (line: string -> unit) =
        line "kspace_style pppm 1.0e-4"
        line "neighbor 2.0 bin"
        line "neigh_modify delay 0 every 1 check yes"
        line "thermo_style custom step time temp press pe ke etotal vol density"
        line "thermo_modify flush yes"
        line $"thermo {run.ThermoEvery}"
        line $"timestep {f run.TimestepFs}"

        match shakeBondTypes sys with
        | [] -> ()
        | ts -> line $"""fix SHAKE all shake 0.0001 20 0 b {ts |> List.map string |> String.concat " "}"""

    /// The LAMMPS input: read the data file and Packmol's placement, minimise, NVT, NPT (the box is then
    /// set to the mean edge of the NPT run's second half), NVT production with the unwrapped dump and
    /// restart files; thermo of every stage in `LogFile`.
    let lammps (sys: AllAtomSystem) (run: AllAtomRun) : string =
        let sb = StringBuilder()
        let line (s: string) = sb.Append(s).Append('\n') |> ignore
        let t = f run.TemperatureK
        let damp = f (100.0 * run.TimestepFs)
        let pdamp = f (1000.0 * run.TimestepFs)
        line "# Finales all-atom run (OPLS-AA / CL&P, data/md/allatom); written by Finales.Md AllAtomInput"
        header sys line
        line $"read_data {DataFile}"
        line $"read_dump {PackedFile} 0 x y z box no format xyz"
        // Packmol keeps every molecule whole inside the box: the grid's image flags no longer apply.
        line "set group all image 0 0 0"
        line ""
        line "# minimisation"
        line "kspace_style pppm 1.0e-4"
        line "thermo_style custom step time temp press pe ke etotal vol density"
        line $"minimize 1.0e-4 1.0e-6 {run.MinimiseIterations} {10 * run.MinimiseIterations}"
        line "reset_timestep 0"
        line ""
        dynamics sys run line
        line $"velocity all create {t} {run.Seed} mom yes rot yes dist gaussian"
        line ""
        line "# NVT equilibration"
        line $"fix NVT all nvt temp {t} {t} {damp}"
        line $"run {run.NvtSteps}"
        line "unfix NVT"
        line ""
        line "# NPT: density; the box is then set to the mean edge of the second half"
        line "reset_timestep 0"
        line $"fix NPT all npt temp {t} {t} {damp} iso {f run.PressureAtm} {f run.PressureAtm} {pdamp}"
        line "variable edge equal lx"
        line $"fix EDGE all ave/time 10 {run.NptSteps / 20} {run.NptSteps} v_edge"
        line $"run {run.NptSteps}"
        line "variable scale equal f_EDGE/lx"
        line "change_box all x scale ${scale} y scale ${scale} z scale ${scale} remap"
        line "unfix EDGE"
        line "unfix NPT"
        line ""
        line "# NVT production"
        line "reset_timestep 0"
        line $"fix NVT all nvt temp {t} {t} {damp}"
        line $"dump traj all custom {run.DumpEvery} {DumpFile} id mol type q xu yu zu"
        line "dump_modify traj sort id"
        line $"restart {run.RestartEvery} restart.*.bin"
        line $"run {run.ProductionSteps}"
        sb.ToString()

    /// The LAMMPS input continuing production from the newest restart file (a requeued job): the dump is
    /// appended from the step after the restart, so no frame is written twice.
    let lammpsRestart (sys: AllAtomSystem) (run: AllAtomRun) : string =
        let sb = StringBuilder()
        let line (s: string) = sb.Append(s).Append('\n') |> ignore
        let t = f run.TemperatureK
        let damp = f (100.0 * run.TimestepFs)
        line "# Finales all-atom run: production continued from the newest restart file"
        line $"log {LogFile} append"
        line "read_restart restart.*.bin"
        dynamics sys run line
        line $"fix NVT all nvt temp {t} {t} {damp}"
        line $"dump traj all custom {run.DumpEvery} {DumpFile} id mol type q xu yu zu"
        line "dump_modify traj sort id append yes"
        line "variable next equal step+1"
        line "dump_modify traj delay ${next}"
        line $"restart {run.RestartEvery} restart.*.bin"
        line $"run {run.ProductionSteps} upto"
        sb.ToString()

    /// The bash script run in the work directory: Packmol, then LAMMPS; exits with the first failing code.
    let script (packmolCommand: string) (lammpsCommand: string) : string =
        String.concat
            "\n"
            [ "#!/bin/bash"
              "# Finales all-atom run: Packmol builds the box, LAMMPS runs in.lammps"
              "set -u"
              $"{packmolCommand} < pack.inp > packmol.out 2>&1 || exit $?"
              $"[ -s {PackedFile} ] || {{ echo 'packmol wrote no {PackedFile}' >&2; exit 3; }}"
              // LAMMPS' xyz reader (29 Sep 2021) rejects the count line Packmol indents.
              $"sed -i '1s/^[[:space:]]*//' {PackedFile}"
              $"{lammpsCommand} -in in.lammps -log {LogFile} > lammps.out 2>&1"
              "" ]

    /// The requeue script: continue production from the newest restart file, or start over when the job
    /// stopped before production wrote one.
    let restartScript (packmolCommand: string) (lammpsCommand: string) : string =
        String.concat
            "\n"
            [ "#!/bin/bash"
              "# Finales all-atom run, requeued: continue from the newest restart file if production wrote one"
              "set -u"
              "if compgen -G 'restart.*.bin' > /dev/null; then"
              $"  {lammpsCommand} -in in.restart.lammps -log none >> lammps.out 2>&1"
              "else"
              $"  {packmolCommand} < pack.inp > packmol.out 2>&1 || exit $?"
              $"  [ -s {PackedFile} ] || {{ echo 'packmol wrote no {PackedFile}' >&2; exit 3; }}"
              $"  sed -i '1s/^[[:space:]]*//' {PackedFile}"
              $"  {lammpsCommand} -in in.lammps -log {LogFile} > lammps.out 2>&1"
              "fi"
              "" ]

    /// The species table of the analysis: one entry per species, its own LAMMPS types, its charge per
    /// molecule with the ionic scaling, molecules by centre of mass.
    let species (sys: AllAtomSystem) : AllAtomSpeciesEntry list =
        sys.Molecules
        |> List.map (fun (s, m, _) ->
            let types = sys.Types |> List.filter (fun t -> t.Species = s)

            { Name = AllAtomComposition.speciesName s
              AtomTypes = types |> List.map (fun t -> t.Id)
              Charge =
                m.Atoms
                |> Array.sumBy (fun (n, _) -> (types |> List.find (fun t -> t.Parameters.Name = n)).Charge)
              ByMolecule = m.Atoms.Length > 1 })

    /// The RDF pairs of the analysis: Li-O carbonyl (every carbonate's O_2 atoms), Li-P and Li-Li, up to
    /// 10 A or less than half the box. Empty without Li+.
    let rdfPairs (sys: AllAtomSystem) : AllAtomRdfPair list =
        let ofClass (cls: string) =
            sys.Types
            |> List.filter (fun t -> t.Parameters.Class = cls)
            |> List.map (fun t -> t.Id)

        let li =
            sys.Types |> List.filter (fun t -> t.Species = Li) |> List.map (fun t -> t.Id)

        let rmax = min 10.0 (cutoff sys.BoxEdge)

        let pair name a b =
            { Name = name
              TypesA = a
              TypesB = b
              RMax = rmax
              Bins = 200 }

        if li.IsEmpty then
            []
        else
            [ match ofClass "O_2" with
              | [] -> ()
              | o -> pair "Li-O(carbonyl)" li o
              match sys.Types |> List.filter (fun t -> t.Species = PF6 && t.Parameters.Class = "P") with
              | [] -> ()
              | p -> pair "Li-P" li (p |> List.map (fun t -> t.Id))
              pair "Li-Li" li li ]
