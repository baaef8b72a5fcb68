module Finales.Md.Tests.PrimitiveLammpsTests

open System
open System.Globalization
open Expecto
open Finales.Md.Setup
open Finales.Md.Tests.SetupArbitraries

let private number (s: string) =
    Double.Parse(s, CultureInfo.InvariantCulture)

/// The Atoms section of a data file as (type, charge, x, y, z).
let private atoms (data: string) =
    let lines = data.Split('\n')
    let start = Array.findIndex (fun (l: string) -> l.StartsWith "Atoms") lines

    lines[start + 2 ..]
    |> Array.filter (fun l -> l.Trim() <> "")
    |> Array.map (fun l ->
        let f = l.Split(' ')
        int f[2], number f[3], number f[4], number f[5], number f[6])

[<Tests>]
let tests =
    testList
        "md.setup.primitive.lammps"
        [ testPropertyWithConfig config "the data file is charge neutral with 2N ions inside the box"
          <| fun (r: ModelRequest) ->
              let s = systemOf r
              let a = atoms (PrimitiveLammps.dataFile s)
              Expect.equal a.Length (2 * s.Request.Run.IonPairs) "2N ions"
              Expect.floatClose Accuracy.veryHigh (a |> Array.sumBy (fun (_, q, _, _, _) -> q)) 0.0 "net charge 0"

              Expect.all
                  a
                  (fun (_, _, x, y, z) -> [ x; y; z ] |> List.forall (fun c -> c >= 0.0 && c < s.BoxLengthAngstrom))
                  "inside the box"

          testPropertyWithConfig
              { config with maxTest = 20 }
              "no two ions start closer than the contact diameter (minimum image)"
          <| fun (r: ModelRequest) ->
              let s = systemOf r
              let l = s.BoxLengthAngstrom
              let ions = PrimitiveLammps.ions s |> List.toArray

              let image d = d - l * Math.Round(d / l)

              let closest =
                  seq {
                      for i in 0 .. ions.Length - 2 do
                          for j in i + 1 .. ions.Length - 1 do
                              let a, b = ions[i], ions[j]
                              let dx, dy, dz = image (a.X - b.X), image (a.Y - b.Y), image (a.Z - b.Z)
                              sqrt (dx * dx + dy * dy + dz * dz)
                  }
                  |> Seq.min

              Expect.isGreaterThanOrEqual closest PrimitiveParameters.ContactDiameterAngstrom "no overlap"

          testPropertyWithConfig config "the files are a function of the request and its seed"
          <| fun (r: ModelRequest) ->
              let a, b = systemOf r, systemOf r
              Expect.equal (PrimitiveLammps.dataFile a) (PrimitiveLammps.dataFile b) "same data file"
              Expect.equal (PrimitiveLammps.input a) (PrimitiveLammps.input b) "same input"
              let other = systemOf { r with Seed = r.Seed + 1 }
              Expect.notEqual (PrimitiveLammps.dataFile other) (PrimitiveLammps.dataFile a) "another seed, another box"
              Expect.notEqual (PrimitiveLammps.input other) (PrimitiveLammps.input a) "another seed, other noise"

          testPropertyWithConfig config "the input follows the MD conventions and carries the model's numbers"
          <| fun (r: ModelRequest) ->
              let s = systemOf r
              let input = PrimitiveLammps.input s

              let inv (v: float) =
                  v.ToString("R", CultureInfo.InvariantCulture)

              for expected in
                  [ "units real"
                    "atom_style full"
                    "kspace_style pppm"
                    $"dielectric {inv s.Permittivity}"
                    $"fix solvent all langevin {inv r.TemperatureK} {inv r.TemperatureK} 200 "
                    $"dump traj all custom {s.FrameEverySteps} traj.dump id mol type q xu yu zu"
                    "dump_modify traj sort id"
                    "thermo_style custom step time temp press pe ke etotal vol density"
                    $"run {s.ProductionSteps} upto" ] do
                  Expect.stringContains input expected "input line"

              let restart = PrimitiveLammps.restartInput s
              Expect.stringContains restart "read_restart restart.*.bin" "the requeue continues from a restart"
              Expect.stringContains restart "append yes" "and appends to the trajectory"

              Expect.stringContains
                  restart
                  "dump_modify traj delay ${next}"
                  "without writing the restart step's frame a second time"

          test "the species table and RDF pairs name both ions, out to at most half the box" {
              let r =
                  { Fractions = [ "LiPF6", 0.085; "EC", 0.2745; "EMC", 0.6405 ]
                    TemperatureK = 298.15
                    Seed = 3 }

              let s = systemOf r

              Expect.equal
                  (PrimitiveLammps.species |> List.map (fun e -> e.Name, e.AtomTypes, e.Charge))
                  [ "Li+", [ 1 ], 1.0; "PF6-", [ 2 ], -1.0 ]
                  "species"

              let pairs = PrimitiveLammps.rdfPairs s
              Expect.equal (pairs |> List.map (fun p -> p.Name)) [ "Li-P"; "Li-Li"; "P-P" ] "pairs"
              Expect.all pairs (fun p -> p.RMaxAngstrom <= s.BoxLengthAngstrom / 2.0) "minimum image holds"
              Expect.equal (PrimitiveLammps.cellFormula s) "Li200 P200" "cell formula"
          }

          test "a log is complete only when LAMMPS wrote its total wall time" {
              Expect.isTrue (PrimitiveLammps.logShowsCompletion "Loop time of 1\nTotal wall time: 0:00:12\n") "complete"
              Expect.isFalse (PrimitiveLammps.logShowsCompletion "Step Temp\n 100 298\n") "cut short"
              Expect.isFalse (PrimitiveLammps.logShowsCompletion null) "no log"
          }

          test "the job scripts end in LAMMPS, so their exit status is LAMMPS's" {
              let script = PrimitiveLammps.jobScript "lmp"
              Expect.stringEnds script "exec lmp -in in.lammps -log log.lammps -screen none\n" "LAMMPS last"
              let restart = PrimitiveLammps.restartScript "lmp"
              Expect.stringEnds restart "exec lmp -in in.restart.lammps -log log.lammps -screen none\n" "requeue input"
          } ]
