module Finales.Md.Tests.InteropTests

open System
open System.IO
open Expecto
open Finales.Md.Interop

let private withTemp (f: string -> unit) =
    let dir =
        Path.Combine(Path.GetTempPath(), "finales-md-" + Guid.NewGuid().ToString "N")

    Directory.CreateDirectory dir |> ignore

    try
        f dir
    finally
        Directory.Delete(dir, true)

[<Tests>]
let tests =
    testList
        "md.interop"
        [ testCase "TryAnalyse reads a dump and a log from files"
          <| fun () ->
              withTemp (fun dir ->
                  let dump = Path.Combine(dir, "prod.dump")

                  let exact =
                      MdSynthetic.WriteRandomWalkDump(dump, 120, 200, 5L, 30.0, 0.4, 10, 2.0, 0.0)

                  let log = Path.Combine(dir, "log.lammps")

                  File.WriteAllLines(
                      log,
                      [ yield "Step Time Temp Press PotEng KinEng TotEng Volume Density"
                        for k in 0..19 -> $"{k} {k} 300 1 -1 1 0 {27000 - k} 1.2"
                        yield "Loop time of 1 on 1 procs for 19 steps with 200 atoms" ]
                  )

                  let mutable species = null
                  let mutable pairs = null
                  let mutable error = null
                  Expect.isTrue (MdAnalysis.TryParseSpecies("Li:1:1,PF6:2:-1", &species, &error)) "species"
                  Expect.isTrue (MdAnalysis.TryParseRdfPairs("Li-PF6:1:2:12:60", &pairs, &error)) "pairs"

                  let input =
                      MdAnalysisInput(dump, log, 2.0, 298.0, species, pairs, Nullable 1.0, Nullable())

                  let mutable report = Unchecked.defaultof<MdAnalysisReport>
                  Expect.isTrue (MdAnalysis.TryAnalyse(input, &report, &error)) $"analysed: {error}"
                  Expect.equal report.Frames 120 "frames"
                  Expect.equal report.FrameIntervalFs 20.0 "10 steps of 2 fs"
                  Expect.floatClose Accuracy.high report.DensityGPerCm3.Value 1.2 "density from the NPT run"
                  Expect.equal report.Species.Count 2 "species"
                  let d = report.Species[0].DiffusionM2PerS.Value
                  Expect.isLessThan (abs (d - exact) / exact) 0.5 "D near the exact one"
                  Expect.isGreaterThan report.Species[0].DiffusionYehHummerM2PerS.Value d "Yeh-Hummer adds"
                  Expect.isTrue report.ConductivityEinsteinHelfandSPerM.HasValue "EH"
                  Expect.equal report.Rdfs[0].G.Count 60 "bins"
                  let mutable json = null
                  Expect.isTrue (report.TryRdfOutputJson("Li100 P100 F600", &json, &error)) "RDFOutput"
                  Expect.stringContains (report.ToJson()) "\"transference_definition\"" "JSON")

          testCase "TryAnalyse names a missing file"
          <| fun () ->
              let input =
                  MdAnalysisInput("/nonexistent/traj.dump", null, 1.0, 300.0, [||], [||], Nullable(), Nullable())

              let mutable report = Unchecked.defaultof<MdAnalysisReport>
              let mutable error = null
              Expect.isFalse (MdAnalysis.TryAnalyse(input, &report, &error)) "refused"
              Expect.stringContains error "'/nonexistent/traj.dump' does not exist" "names the path" ]
