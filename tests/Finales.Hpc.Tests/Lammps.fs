/// Tiny LAMMPS inputs written by the tests: the LJ melt of the LAMMPS examples (500 atoms), a version that runs in
/// chunks writing a restart file after each (long in wall time, light on CPU), and its continuation from the restart.
module Finales.Hpc.Tests.Lammps

open System.IO

/// The LAMMPS binary on PATH (Debian: lmp; some builds: lmp_serial).
let binary =
    let path =
        System.Environment.GetEnvironmentVariable "PATH"
        |> Option.ofObj
        |> Option.defaultValue ""

    [ "lmp"; "lmp_serial" ]
    |> List.tryFind (fun b -> path.Split(':') |> Array.exists (fun d -> File.Exists(Path.Combine(d, b))))
    |> Option.defaultWith (fun () -> failwith "LAMMPS is not on PATH (apt-get install -y lammps gives lmp)")

let private setup =
    """units lj
atom_style atomic
lattice fcc 0.8442
region box block 0 5 0 5 0 5
create_box 1 box
create_atoms 1 box
mass 1 1.0
velocity all create 3.0 87287 loop geom
"""

let private forceField =
    """pair_style lj/cut 2.5
pair_coeff 1 1 1.0 1.0 2.5
neighbor 0.3 bin
neigh_modify every 20 delay 0 check no
fix 1 all nve
thermo 50
"""

/// 250 steps of the LJ melt: well under a second.
let melt = setup + forceField + "run 250\n"

/// `chunks` runs of 100 steps, a restart file after each, `pause` seconds of sleep between them (LAMMPS `shell`).
/// Each restart file is written under another name and then renamed, so a kill at the time limit never leaves a
/// truncated restart.latest.bin.
let chunked (chunks: int) (pause: int) =
    setup
    + forceField
    + sprintf
        "variable i loop %d\nlabel chunk\nrun 100\nwrite_restart restart.next.bin\nshell mv restart.next.bin restart.latest.bin\nshell sleep %d\nnext i\njump SELF chunk\n"
        chunks
        pause

/// Continues from the last restart file for 100 steps and ends normally.
let fromRestart = "read_restart restart.latest.bin\n" + forceField + "run 100\n"

/// Writes `input` as in.lammps in `dir`; the job script that runs it.
let script (dir: string) (fileName: string) (input: string) =
    Directory.CreateDirectory dir |> ignore
    File.WriteAllText(Path.Combine(dir, fileName), input)
    sprintf "%s -in %s -log log.lammps" binary fileName

/// The evidence a LAMMPS run finished: its log's last lines report the total wall time.
let finished (workDir: string) =
    let log = Path.Combine(workDir, "log.lammps")
    File.Exists log && File.ReadAllText(log).Contains "Total wall time:"
