/// The all-atom level end to end through its C# facade (InteropAllAtom.fs): Packmol builds a 1 M LiPF6 in
/// EC/EMC box of about 1,500 atoms, LAMMPS minimises and runs 200 steps each of NVT, NPT and production, and
/// the log and the dump have what the analysis reads. Needs `packmol` and `lmp` on the PATH (.ci/run
/// installs them); skipped with a message otherwise.
module Finales.Md.Tests.AllAtomSmokeTests

open System
open System.Collections.Generic
open System.Diagnostics
open System.IO
open Expecto
open Finales.Md.Interop
open Finales.Md.Tests.AllAtomTestData

let private onPath (program: string) =
    (Environment.GetEnvironmentVariable "PATH"
     |> Option.ofObj
     |> Option.defaultValue "")
        .Split(':')
    |> Array.exists (fun d -> d <> "" && File.Exists(Path.Combine(d, program)))

/// Runs `script` with bash in `dir`; the exit code (a run over 15 minutes is killed and fails).
let private runScript (dir: string) (script: string) : int =
    let path = Path.Combine(dir, "run.sh")
    File.WriteAllText(path, script)
    let psi = ProcessStartInfo("bash", [ path ])
    psi.WorkingDirectory <- dir
    psi.UseShellExecute <- false
    use p = Process.Start psi

    if p.WaitForExit(TimeSpan.FromMinutes 15.0) then
        p.ExitCode
    else
        p.Kill true
        -1

/// The production run's steps per second: the last "Performance: ... timesteps/s" line of the log.
let stepsPerSecond (log: string) : float option =
    log.Split('\n')
    |> Array.filter (fun l -> l.StartsWith "Performance:")
    |> Array.tryLast
    |> Option.bind (fun l ->
        let t = l.Split([| ' '; ',' |], StringSplitOptions.RemoveEmptyEntries)

        t
        |> Array.tryFindIndex (fun w -> w = "timesteps/s")
        |> Option.map (fun i -> float t[i - 1]))

[<Tests>]
let tests =
    testList
        "md.allatom.smoke"
        [ testCase "Packmol and LAMMPS run a small LiPF6 in EC/EMC box, and the dump and log parse"
          <| fun () ->
              if not (onPath "packmol" && onPath "lmp") then
                  skiptest "packmol or lmp is not installed (apt-get install packmol lammps)"

              let dir = Path.Combine(Path.GetTempPath(), $"finales-allatom-{Guid.NewGuid():N}")
              let fractions = Dictionary<string, float>()

              for c, x in lp57 do
                  fractions[Finales.Core.Chemical.name c] <- x

              let input =
                  { AllAtomSetup.Defaults(fractions, 298.15, directory) with
                      TargetAtoms = 1500
                      MinimiseIterations = shortRun.MinimiseIterations
                      NvtSteps = shortRun.NvtSteps
                      NptSteps = shortRun.NptSteps
                      ProductionSteps = shortRun.ProductionSteps
                      ThermoEvery = shortRun.ThermoEvery
                      DumpEvery = shortRun.DumpEvery
                      RestartEvery = shortRun.RestartEvery }

              try
                  let mutable plan = Unchecked.defaultof<AllAtomSetupPlan>
                  let mutable error = ""
                  let ok = AllAtomSetup.TryPrepare(input, dir, &plan, &error)
                  Expect.isTrue ok $"prepared: {error}"
                  let code = runScript dir plan.Script

                  let log =
                      if File.Exists plan.LogPath then
                          File.ReadAllText plan.LogPath
                      else
                          ""

                  let out = Path.Combine(dir, "lammps.out")
                  let tail = if File.Exists out then File.ReadAllText out else ""

                  Expect.equal
                      code
                      0
                      $"the script exits 0; lammps.out ends:\n{tail.Substring(max 0 (tail.Length - 2000))}"

                  Expect.stringContains log "Total wall time" "LAMMPS finished the log"
                  Expect.stringContains log "Step Time Temp Press PotEng KinEng TotEng Volume Density" "thermo columns"

                  let dump = File.ReadAllLines plan.DumpPath
                  let frames = dump |> Array.filter (fun l -> l = "ITEM: TIMESTEP") |> Array.length

                  Expect.equal
                      frames
                      (shortRun.ProductionSteps / shortRun.DumpEvery + 1)
                      "a frame every 20 steps, both ends"

                  Expect.contains dump "ITEM: ATOMS id mol type q xu yu zu" "unwrapped columns"
                  let i = Array.IndexOf(dump, "ITEM: NUMBER OF ATOMS")
                  Expect.equal (int dump[i + 1]) plan.Atoms "atoms in the dump"

                  // The production box is the NPT mean: its density is a liquid's, not the packing guess.
                  let density =
                      dump
                      |> Array.findIndex (fun l -> l.StartsWith "ITEM: BOX BOUNDS")
                      |> fun b ->
                          let edge (l: string) =
                              let t = l.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                              float t[1] - float t[0]

                          let v = edge dump[b + 1] * edge dump[b + 2] * edge dump[b + 3]
                          let mass = plan.EstimatedDensityGPerCm3 * plan.BoxEdgeAngstrom ** 3.0
                          mass / v

                  Expect.isTrue (density > 0.8 && density < 1.8) $"production density {density} g/cm^3"

                  // Unwrapped coordinates keep every molecule whole (EMC, the longest, spans about 5 A).
                  let atomsStart = Array.IndexOf(dump, "ITEM: ATOMS id mol type q xu yu zu") + 1

                  let span =
                      dump[atomsStart .. atomsStart + plan.Atoms - 1]
                      |> Array.map (fun l -> l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                      |> Array.groupBy (fun t -> t[1])
                      |> Array.map (fun (_, rows) ->
                          let p (t: string[]) = float t[4], float t[5], float t[6]
                          let x0, y0, z0 = p rows[0]

                          rows
                          |> Array.map (fun t ->
                              let x, y, z = p t
                              sqrt ((x - x0) ** 2.0 + (y - y0) ** 2.0 + (z - z0) ** 2.0))
                          |> Array.max)
                      |> Array.max

                  Expect.isLessThan span 8.0 "molecules are whole in the unwrapped coordinates"

                  // mdcore's analysis reads the run with the plan's species, RDF pairs and masses.
                  let mutable report = Unchecked.defaultof<MdAnalysisReport>

                  let analysed =
                      MdAnalysis.TryAnalyse(plan.AnalysisInput(Nullable(), Nullable()), &report, &error)

                  Expect.isTrue analysed $"analysed: {error}"
                  Expect.equal report.Frames 11 "every production frame"

                  Expect.equal
                      (report.Species |> Seq.map (fun s -> s.Name) |> List.ofSeq)
                      [ "Li"; "PF6"; "EC"; "EMC" ]
                      "species"

                  Expect.equal
                      (report.Rdfs |> Seq.map (fun r -> r.Name) |> List.ofSeq)
                      [ "Li-O(carbonyl)"; "Li-P"; "Li-Li" ]
                      "RDFs"

                  Expect.isTrue report.DensityGPerCm3.HasValue "density from the log"

                  printfn
                      $"all-atom smoke analysis: {report.ToJson().Length} characters of JSON, density {report.DensityGPerCm3}"

                  // A requeue after step 110: the newest restart file is step 100; the restart script appends
                  // frames 120..200 and no frame twice.
                  let timesteps (lines: string[]) =
                      lines
                      |> Array.indexed
                      |> Array.filter (fun (_, l) -> l = "ITEM: TIMESTEP")
                      |> Array.map (fun (i, _) -> int lines[i + 1])

                  let cut = Array.IndexOf(dump, "120") - 1
                  Expect.equal dump[cut] "ITEM: TIMESTEP" "the frame of step 120"
                  File.WriteAllLines(plan.DumpPath, dump[.. cut - 1])
                  File.Delete(Path.Combine(dir, "restart.200.bin"))
                  Expect.equal (runScript dir plan.RestartScript) 0 "the restart script exits 0"
                  let resumed = File.ReadAllLines plan.DumpPath
                  Expect.equal (timesteps resumed) [| 0..20..200 |] "frames 0..200, each once"

                  Expect.stringContains
                      (File.ReadAllText plan.LogPath)
                      "read_restart restart.*.bin"
                      "the log is appended"

                  match stepsPerSecond log with
                  | Some s ->
                      printfn
                          $"all-atom smoke: {plan.Atoms} atoms, production {s} steps/s (thermo density {density:F3} g/cm^3)"
                  | None -> failtest "the log has no Performance line"
              finally
                  if
                      Directory.Exists dir
                      && isNull (Environment.GetEnvironmentVariable "FINALES_KEEP_MD")
                  then
                      Directory.Delete(dir, true) ]
