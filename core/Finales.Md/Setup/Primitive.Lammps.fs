namespace Finales.Md.Setup

open System
open System.Globalization
open System.Text
open Finales.Core

/// One species of the simulated system, as the trajectory analysis needs it.
type SpeciesEntry =
    {
        Name: string
        AtomTypes: int list
        /// Charge per ion, e.
        Charge: float
        ByMolecule: bool
    }

/// One radial distribution function the analysis computes.
type RdfPair =
    { Name: string
      TypesA: int list
      TypesB: int list
      RMaxAngstrom: float
      Bins: int }

/// An ion of the initial configuration.
type Ion =
    { Id: int
      AtomType: int
      Charge: float
      X: float
      Y: float
      Z: float }

/// The LAMMPS files of a primitive-model job (pure text; the tenant writes them into the job directory).
/// Conventions of docs/md-contracts: `units real`, `atom_style full`, unwrapped `dump custom`, thermo to
/// log.lammps, restart files for requeue.
[<RequireQualifiedAccess>]
module PrimitiveLammps =
    /// Atom type of Li+.
    let LiType: int = 1

    /// Atom type of PF6-.
    let PF6Type: int = 2

    /// Name of the data file in the job directory.
    let DataFile: string = "data.lmp"

    /// Name of the production trajectory.
    let DumpFile: string = "traj.dump"

    /// Name of the thermo log.
    let LogFile: string = "log.lammps"

    /// The species table: each ion its own species, by atom (one atom per ion).
    let species: SpeciesEntry list =
        [ { Name = "Li+"
            AtomTypes = [ LiType ]
            Charge = 1.0
            ByMolecule = false }
          { Name = "PF6-"
            AtomTypes = [ PF6Type ]
            Charge = -1.0
            ByMolecule = false } ]

    /// The RDF pairs, out to half the box edge (at most 15 A) in 0.05 A bins.
    let rdfPairs (s: PrimitiveSystem) : RdfPair list =
        let rMax = min 15.0 (s.BoxLengthAngstrom / 2.0)
        let bins = max 10 (int (Math.Round(rMax / 0.05)))

        let pair name a b =
            { Name = name
              TypesA = [ a ]
              TypesB = [ b ]
              RMaxAngstrom = rMax
              Bins = bins }

        [ pair "Li-P" LiType PF6Type
          pair "Li-Li" LiType LiType
          pair "P-P" PF6Type PF6Type ]

    /// The cell formula of the RDF result (e.g. "Li200 P200").
    let cellFormula (s: PrimitiveSystem) : string =
        $"Li{s.Request.Run.IonPairs} P{s.Request.Run.IonPairs}"

    /// The initial configuration: ions on the sites of a simple cubic lattice filling the box (no overlap at
    /// any accepted concentration), sites drawn by a seeded shuffle; the first N ions are Li+, the next N PF6-.
    let ions (s: PrimitiveSystem) : Ion list =
        let n = s.Request.Run.IonPairs
        let perEdge = int (Math.Ceiling(Math.Cbrt(float (2 * n)) - 1e-9))
        let sites = perEdge * perEdge * perEdge
        let spacing = s.BoxLengthAngstrom / float perEdge
        let order = Array.init sites id
        // Fisher-Yates with the core's SplitMix64: the same seed always gives the same box.
        let mutable rng = Rng.create (uint64 (uint32 s.Request.Run.Seed) + 0x5EEDUL)

        for i in sites - 1 .. -1 .. 1 do
            let u, next = Rng.nextFloat rng
            rng <- next
            let j = int (u * float (i + 1))
            let t = order[i]
            order[i] <- order[j]
            order[j] <- t

        [ for k in 0 .. 2 * n - 1 ->
              let site = order[k]

              let ix, iy, iz =
                  site % perEdge, (site / perEdge) % perEdge, site / (perEdge * perEdge)

              let cation = k < n

              { Id = k + 1
                AtomType = if cation then LiType else PF6Type
                Charge = if cation then 1.0 else -1.0
                X = (float ix + 0.5) * spacing
                Y = (float iy + 0.5) * spacing
                Z = (float iz + 0.5) * spacing } ]

    let private inv (v: float) : string =
        v.ToString("R", CultureInfo.InvariantCulture)

    let private f6 (v: float) : string =
        v.ToString("0.000000", CultureInfo.InvariantCulture)

    /// The data file text (`atom_style full`: id mol type q x y z; each ion its own molecule).
    let dataFile (s: PrimitiveSystem) : string =
        let b = StringBuilder()
        let line (t: string) = b.Append(t).Append('\n') |> ignore
        let l = s.BoxLengthAngstrom
        let all = ions s
        line "LAMMPS data file: Finales primitive model of LiPF6 (Li+ type 1, PF6- type 2)"
        line ""
        line $"{all.Length} atoms"
        line "2 atom types"
        line ""

        for axis in [ "x"; "y"; "z" ] do
            line $"0 {inv l} {axis}lo {axis}hi"

        line ""
        line "Masses"
        line ""
        // Dynamical masses (overdamped Langevin: they set the damping time, not any reported property).
        line $"{LiType} {inv s.LiDynamicalMass}"
        line $"{PF6Type} {inv s.PF6DynamicalMass}"
        line ""
        line "Atoms # full"
        line ""

        for ion in all do
            line $"{ion.Id} {ion.Id} {ion.AtomType} {inv ion.Charge} {f6 ion.X} {f6 ion.Y} {f6 ion.Z}"

        b.ToString()

    /// Settings shared by the input and the restart input: interactions, solvent, thermostat, output.
    let private interactions (s: PrimitiveSystem) (b: StringBuilder) : unit =
        let line (t: string) = b.Append(t).Append('\n') |> ignore
        let sigma = PrimitiveParameters.ContactDiameterAngstrom
        let wcaCut = sigma * Math.Pow(2.0, 1.0 / 6.0)
        let t = float s.Request.Temperature
        let run = s.Request.Run
        let seed = 1 + (run.Seed &&& 0x3FFFFFFF)
        // Soft spheres: WCA (LJ cut at its minimum and shifted), plus Coulomb with PPPM.
        line $"pair_style lj/cut/coul/long {inv wcaCut} {inv PrimitiveParameters.CoulombCutoffAngstrom}"
        line $"pair_coeff * * {inv PrimitiveParameters.SoftSphereEpsilonKcalPerMol} {inv sigma}"
        line "pair_modify shift yes"
        line $"kspace_style pppm {inv PrimitiveParameters.PppmAccuracy}"
        line "# implicit solvent: its relative permittivity screens every Coulomb interaction"
        line $"dielectric {inv s.Permittivity}"
        line "neighbor 2.0 bin"
        line "neigh_modify every 1 delay 0 check yes"
        line "fix nve all nve"
        line "# Stokes friction of the implicit solvent: gamma = m / damp with the dynamical masses"
        line $"fix solvent all langevin {inv t} {inv t} {inv run.DampFs} {seed} zero yes"
        line $"timestep {inv run.TimestepFs}"
        line "thermo_style custom step time temp press pe ke etotal vol density"
        line $"thermo {s.FrameEverySteps}"

    let private header (s: PrimitiveSystem) (b: StringBuilder) : unit =
        let line (t: string) = b.Append(t).Append('\n') |> ignore
        line "# Finales primitive model: restricted primitive model of LiPF6 in an implicit solvent"

        line
            $"# salt {inv (float s.SaltMolarity)} mol/L, eps_r {inv s.Permittivity}, viscosity {inv (float s.Viscosity)} mPa s"

        line "units real"
        line "atom_style full"
        line "boundary p p p"

    let private production (s: PrimitiveSystem) (append: bool) (b: StringBuilder) : unit =
        let line (t: string) = b.Append(t).Append('\n') |> ignore
        line $"dump traj all custom {s.FrameEverySteps} {DumpFile} id mol type q xu yu zu"

        line (
            (if append then
                 "dump_modify traj sort id append yes"
             else
                 "dump_modify traj sort id")
        )

        // A requeued run starts at the restart's step, whose frame the cut trajectory already holds: LAMMPS would
        // write it again when the run starts (as the all-atom requeue input, skip to the step after it).
        if append then
            line "variable next equal step+1"
            line "dump_modify traj delay ${next}"

        line $"restart {10 * s.FrameEverySteps} restart.*.bin"
        line $"run {s.ProductionSteps} upto"

    /// The LAMMPS input: read the data, thermalise velocities, Langevin equilibration, then the production run
    /// from step 0 with the trajectory and restart files.
    let input (s: PrimitiveSystem) : string =
        let b = StringBuilder()
        let line (t: string) = b.Append(t).Append('\n') |> ignore
        header s b
        line $"read_data {DataFile}"
        let velocitySeed = 1 + ((s.Request.Run.Seed + 7919) &&& 0x3FFFFFFF)

        line $"velocity all create {inv (float s.Request.Temperature)} {velocitySeed} mom yes rot yes dist gaussian"

        interactions s b
        line $"run {s.EquilibrationSteps}"
        line "reset_timestep 0"
        production s false b
        b.ToString()

    /// The input of a requeued job: continue the production run from the newest restart file. The job script
    /// first cuts the trajectory back to the restart's step (`restartScript`).
    let restartInput (s: PrimitiveSystem) : string =
        let b = StringBuilder()
        let line (t: string) = b.Append(t).Append('\n') |> ignore
        header s b
        line "read_restart restart.*.bin"
        interactions s b
        production s true b
        b.ToString()

    /// Whether a LAMMPS log shows a completed run (LAMMPS writes "Total wall time" last).
    let logShowsCompletion (log: string) : bool =
        not (isNull log) && log.Contains("Total wall time:", StringComparison.Ordinal)

    /// Name of the requeue input in the job directory.
    let RestartInputFile: string = "in.restart.lammps"

    /// The job script (bash, run in the job directory). Its exit status is LAMMPS's: the executor's wrapper
    /// writes it to `finales-exit-code`.
    let jobScript (lmp: string) : string =
        "#!/bin/bash\n" + $"exec {lmp} -in in.lammps -log {LogFile} -screen none\n"

    /// The requeue script: continue from the newest restart file, after cutting the trajectory back to the
    /// restart's step (frames written after it would otherwise appear twice); without a restart file, start over.
    /// Its exit status is LAMMPS's.
    let restartScript (lmp: string) : string =
        "#!/bin/bash\n"
        + "last=$(ls restart.*.bin 2>/dev/null | sed -E 's/restart\\.([0-9]+)\\.bin/\\1/' | sort -n | tail -1)\n"
        + "if [ -z \"$last\" ]; then\n"
        + $"  exec {lmp} -in in.lammps -log {LogFile} -screen none\n"
        + "fi\n"
        + $"if [ -f {DumpFile} ]; then\n"
        + "  awk -v last=\"$last\" '/^ITEM: TIMESTEP/ { getline s; keep = (s + 0 <= last + 0); if (keep) { print; print s }; next } keep { print }' "
        + $"{DumpFile} > {DumpFile}.cut && mv {DumpFile}.cut {DumpFile}\n"
        + "fi\n"
        + $"if [ -f {LogFile} ]; then mv {LogFile} {LogFile}.before-$last; fi\n"
        + $"exec {lmp} -in {RestartInputFile} -log {LogFile} -screen none\n"
