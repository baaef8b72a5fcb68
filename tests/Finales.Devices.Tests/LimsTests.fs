module Finales.Devices.Tests.LimsTests

open System
open System.IO
open System.Threading
open System.Threading.Tasks
open Expecto
open Finales.Devices
open Finales.Devices.Lims
open Finales.Devices.Tests.TestHelpers

let header =
    "Sample Name;Method;Results::Measurement Level;Results::Density;Results::Density Condition;Results::Lovis Dyn. Viscosity;Results::Lovis Condition"

let row level d dc v vc =
    sprintf "S1;M;%s;%s;%s;%s;%s" level d dc v vc

let csv rows =
    String.Join("\r\n", header :: rows) + "\r\n"

let driverOptions (dir: TempDir) (timeoutMs: float) =
    LimsOptions(
        InDirectory = dir.Sub "in",
        OutDirectory = dir.Sub "out",
        PollInterval = TimeSpan.FromMilliseconds 10.0,
        Timeout = TimeSpan.FromMilliseconds timeoutMs
    )

let simOptionsWith (dir: TempDir) replicates invalidDensity invalidViscosity seed =
    SimulatedLimsOptions(
        InDirectory = dir.Sub "in",
        OutDirectory = dir.Sub "out",
        Clock = DeviceClock(0.0002),
        PollInterval = TimeSpan.FromMilliseconds 10.0,
        Replicates = replicates,
        InvalidDensityProbability = invalidDensity,
        InvalidViscosityProbability = invalidViscosity,
        Seed = seed
    )

let simOptions dir = simOptionsWith dir 5 0.0 0.0 1

let electrolyte =
    Func<string, SampleProperties>(fun _ -> SampleProperties(1.2034, 2.91))

let parserTests =
    testList
        "LIMS CSV"
        [ test
              "Master rows and the first replicate are skipped; invalid values are dropped; quality is 10 - 10 x invalid/total" {
              let text =
                  csv
                      [ row "Master" "1.20000" "valid" "2.9000" "valid"
                        row "Repetition 1" "1.19000" "valid" "3.5000" "valid"
                        row "Repetition 2" "1.20010" "valid" "2.9100" "valid"
                        row "Repetition 3" "1.18000" "bubbles detected" "2.9200" "valid"
                        row "Repetition 4" "1.20030" "valid" "3.1000" "invalid"
                        row "Repetition 5" "1.20020" "valid" "2.9300" "valid" ]

              let r = LimsCsv.ParseResult(text, "S1_M_Results.csv", "S1", "M")
              Expect.sequenceEqual r.DensitiesGcm3 [ 1.2001; 1.2003; 1.2002 ] "valid densities of repetitions 2-5"
              Expect.sequenceEqual r.ViscositiesMPas [ 2.91; 2.92; 2.93 ] "valid viscosities of repetitions 2-5"
              Expect.floatClose Accuracy.veryHigh r.DensityQuality 7.5 "1 of 4 densities invalid: 10 - 10/4"
              Expect.floatClose Accuracy.veryHigh r.ViscosityQuality 7.5 "1 of 4 viscosities invalid"
              Expect.equal r.Replicates.Count 4 "four counted replicates"
          }
          test "all valid gives quality 10, all invalid gives 0 and no values" {
              let good =
                  csv
                      [ row "Repetition 1" "1.1" "valid" "2" "valid"
                        row "Repetition 2" "1.2" "valid" "2.5" "valid" ]

              let r = LimsCsv.ParseResult(good, "f.csv", "S1", "M")
              Expect.floatClose Accuracy.veryHigh r.DensityQuality 10.0 "every density valid"

              let bad =
                  csv
                      [ row "Repetition 1" "1.1" "valid" "2" "valid"
                        row "Repetition 2" "" "invalid" "" "invalid" ]

              let r = LimsCsv.ParseResult(bad, "f.csv", "S1", "M")
              Expect.isEmpty r.DensitiesGcm3 "no valid density"
              Expect.floatClose Accuracy.veryHigh r.ViscosityQuality 0.0 "no valid viscosity"
          }
          test "a decimal comma is read" {
              let text =
                  csv
                      [ row "Repetition 1" "1,1" "valid" "2" "valid"
                        row "Repetition 2" "1,2034" "valid" "2,5" "valid" ]

              let r = LimsCsv.ParseResult(text, "f.csv", "S1", "M")
              Expect.floatClose Accuracy.veryHigh r.DensitiesGcm3[0] 1.2034 "1,2034 is 1.2034"
          }
          test "malformed files name the file, line and column" {
              let missing = "Results::Measurement Level;Results::Density\r\nMaster;1.2\r\n"

              let e =
                  throws<LimsFormatException> "missing column" (fun () ->
                      LimsCsv.ParseResult(missing, "x.csv", "S", "M") |> ignore)

              contains e.Message "Results::Density Condition" "names the missing column"
              contains e.Message "x.csv" "names the file"

              let notNumber =
                  csv
                      [ row "Repetition 1" "1.1" "valid" "2" "valid"
                        row "Repetition 2" "abc" "valid" "2" "valid" ]

              let e =
                  throws<LimsFormatException> "not a number" (fun () ->
                      LimsCsv.ParseResult(notNumber, "x.csv", "S", "M") |> ignore)

              contains e.Message "line 3" "names the line"
              contains e.Message "'abc'" "names the value"
              let short = csv [ "S1;M;Repetition 1;1.1" ]

              let e =
                  throws<LimsFormatException> "short row" (fun () ->
                      LimsCsv.ParseResult(short, "x.csv", "S", "M") |> ignore)

              contains e.Message "4 fields" "names the field count"

              let onlyMaster =
                  csv
                      [ row "Master" "1.1" "valid" "2" "valid"
                        row "Repetition 1" "1.1" "valid" "2" "valid" ]

              let e =
                  throws<LimsFormatException> "no replicates" (fun () ->
                      LimsCsv.ParseResult(onlyMaster, "x.csv", "S", "M") |> ignore)

              contains e.Message "no replicate rows" "explains that nothing is left"

              let emptyValid =
                  csv
                      [ row "Repetition 1" "1.1" "valid" "2" "valid"
                        row "Repetition 2" "" "valid" "2" "valid" ]

              let e =
                  throws<LimsFormatException> "empty valid" (fun () ->
                      LimsCsv.ParseResult(emptyValid, "x.csv", "S", "M") |> ignore)

              contains e.Message "empty but its condition is 'valid'" "an empty valid value is malformed"
          }
          test "job files round-trip and bad names are refused" {
              let job = LimsCsv.FormatJob("E-17", "Density_Visco")
              Expect.equal job "#V100\n1;E-17;;;;Density_Visco" "the LIMS job layout"
              let struct (sample, methodName) = LimsCsv.ParseJob(job, "E-17.lims")
              Expect.equal (sample, methodName) ("E-17", "Density_Visco") "sample and method come back"

              let e =
                  throws<ArgumentException> "semicolon" (fun () -> LimsCsv.FormatJob("a;b", "M") |> ignore)

              contains e.Message "'a;b'" "names the bad sample"

              throws<ArgumentException> "slash" (fun () -> LimsCsv.FormatJob("../x", "M") |> ignore)
              |> ignore

              throws<LimsFormatException> "no header" (fun () -> LimsCsv.ParseJob("1;S;;;;M", "x.lims") |> ignore)
              |> ignore
          } ]

let endToEndTests =
    testList
        "LIMS driver against the simulated instrument"
        [ testCaseTask "a measurement returns the replicates around the true properties with quality 10"
          <| fun () ->
              task {
                  use dir = new TempDir()
                  let sim = new SimulatedLimsInstrument(simOptions dir, electrolyte)
                  sim.Start()
                  let meter = LimsDensityViscosityMeter(driverOptions dir 10000.0)
                  let! r = meter.MeasureAsync("E-1", "DensVisc")
                  do! sim.DisposeAsync()
                  Expect.equal r.DensitiesGcm3.Count 4 "5 replicate rows, the first skipped"

                  for d in r.DensitiesGcm3 do
                      Expect.floatClose
                          { absolute = 6e-4; relative = 0.0 }
                          d
                          1.2034
                          "density within 6 sigma of the truth"

                  for v in r.ViscositiesMPas do
                      Expect.floatClose
                          { absolute = 0.0; relative = 0.03 }
                          v
                          2.91
                          "viscosity within 6 sigma of the truth"

                  Expect.floatClose Accuracy.veryHigh r.DensityQuality 10.0 "no invalid conditions configured"

                  Expect.isFalse
                      (File.Exists(Path.Combine(dir.Path, "in", "E-1.lims")))
                      "the instrument consumed the job"

                  Expect.stringEnds
                      r.ResultFile
                      "E-1_DensVisc_Results.csv"
                      "the result file name is <sample>_<method>_<type>.csv"
              }
          testCaseTask "invalid conditions lower the quality by their share, deterministically per seed"
          <| fun () ->
              task {
                  use dir = new TempDir()
                  let options = simOptionsWith dir 8 0.4 0.4 8
                  let sim = new SimulatedLimsInstrument(options, electrolyte)
                  sim.Start()
                  let meter = LimsDensityViscosityMeter(driverOptions dir 10000.0)
                  let! r = meter.MeasureAsync("E-2", "DensVisc")
                  do! sim.DisposeAsync()
                  let total = r.Replicates.Count

                  let invalidD =
                      r.Replicates |> Seq.filter (fun x -> not x.DensityValid) |> Seq.length

                  let invalidV =
                      r.Replicates |> Seq.filter (fun x -> not x.ViscosityValid) |> Seq.length

                  Expect.equal total 7 "8 rows, the first skipped"
                  Expect.isGreaterThan (invalidD + invalidV) 0 "seed 8 with p = 0.4 produces invalid conditions"

                  Expect.floatClose
                      Accuracy.veryHigh
                      r.DensityQuality
                      (10.0 - 10.0 * float invalidD / float total)
                      "density quality"

                  Expect.floatClose
                      Accuracy.veryHigh
                      r.ViscosityQuality
                      (10.0 - 10.0 * float invalidV / float total)
                      "viscosity quality"

                  Expect.equal r.DensitiesGcm3.Count (total - invalidD) "invalid densities are dropped"

                  for d in r.DensitiesGcm3 do
                      Expect.floatClose
                          { absolute = 6e-4; relative = 0.0 }
                          d
                          1.2034
                          "only valid (unbiased) densities remain"

                  let again = new SimulatedLimsInstrument(options, electrolyte)
                  let again2 = new SimulatedLimsInstrument(options, electrolyte)

                  Expect.equal
                      (again.FormatResult("S", "M", SampleProperties(1.1, 2.0)))
                      (again2.FormatResult("S", "M", SampleProperties(1.1, 2.0)))
                      "same seed, same file"
              }
          testCaseTask "no result within the timeout is a timeout naming the file, and the job is withdrawn"
          <| fun () ->
              task {
                  use dir = new TempDir()
                  let meter = LimsDensityViscosityMeter(driverOptions dir 150.0)

                  let! e =
                      throwsAsync<DeviceTimeoutException> "nobody answers" (fun () ->
                          meter.MeasureAsync("E-3", "DensVisc"))

                  contains e.Message "E-3_DensVisc_*.csv" "names the expected file"
                  contains e.Message "not picked it up" "says the job is still pending"
                  Expect.isFalse (File.Exists(Path.Combine(dir.Path, "in", "E-3.lims"))) "the job was withdrawn"
              }
          testCaseTask "a malformed result file is reported once it stops changing"
          <| fun () ->
              task {
                  use dir = new TempDir()
                  let options = driverOptions dir 5000.0
                  let meter = LimsDensityViscosityMeter(options)
                  let job = Path.Combine(options.InDirectory, "E-4.lims")

                  let instrument =
                      task {
                          let! seen = waitUntil (TimeSpan.FromSeconds 5.0) (fun () -> File.Exists job)
                          Expect.isTrue seen "the driver wrote the job"
                          Expect.equal (File.ReadAllText job) "#V100\n1;E-4;;;;DensVisc" "job content"
                          File.Delete job
                          // Written whole, then moved into place as the instrument does: written in place, the driver
                          // could see the created but still empty file twice and rightly report it as empty.
                          let temp = Path.Combine(options.OutDirectory, "E-4.partial")
                          File.WriteAllText(temp, "Results::Density\r\nnot;a;csv\r\n")
                          File.Move(temp, Path.Combine(options.OutDirectory, "E-4_DensVisc_Results.csv"))
                      }

                  let! e =
                      throwsAsync<LimsFormatException> "malformed" (fun () -> meter.MeasureAsync("E-4", "DensVisc"))

                  do! instrument
                  contains e.Message "Results::Measurement Level" "names the missing column"
              }
          testCaseTask "result files older than the job are ignored"
          <| fun () ->
              task {
                  use dir = new TempDir()
                  let options = simOptions dir
                  let stale = Path.Combine(options.OutDirectory, "E-5_DensVisc_Results.csv")

                  File.WriteAllText(
                      stale,
                      csv
                          [ row "Repetition 1" "9.9" "valid" "99" "valid"
                            row "Repetition 2" "9.9" "valid" "99" "valid" ]
                  )

                  File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddHours -1.0)
                  let sim = new SimulatedLimsInstrument(options, electrolyte)
                  sim.Start()
                  let meter = LimsDensityViscosityMeter(driverOptions dir 10000.0)
                  let! r = meter.MeasureAsync("E-5", "DensVisc")
                  do! sim.DisposeAsync()

                  Expect.floatClose
                      { absolute = 6e-4; relative = 0.0 }
                      r.DensitiesGcm3[0]
                      1.2034
                      "the new measurement, not the stale 9.9"
              }
          testCaseTask "cancellation withdraws the job"
          <| fun () ->
              task {
                  use dir = new TempDir()
                  let meter = LimsDensityViscosityMeter(driverOptions dir 10000.0)
                  use cts = new CancellationTokenSource(TimeSpan.FromMilliseconds 80.0)

                  let! _ =
                      throwsAsync<OperationCanceledException> "cancelled" (fun () ->
                          meter.MeasureAsync("E-6", "DensVisc", cts.Token))

                  Expect.isFalse (File.Exists(Path.Combine(dir.Path, "in", "E-6.lims"))) "the job was withdrawn"
              }
          testCaseTask "a pending job for the same sample is refused"
          <| fun () ->
              task {
                  use dir = new TempDir()
                  let options = driverOptions dir 10000.0
                  File.WriteAllText(Path.Combine(options.InDirectory, "E-7.lims"), "#V100\n1;E-7;;;;M")
                  let meter = LimsDensityViscosityMeter(options)
                  let! e = throwsAsync<DeviceException> "pending" (fun () -> meter.MeasureAsync("E-7", "M"))
                  contains e.Message "still pending" "says why"
              }
          testCaseTask "the simulator rejects a malformed job and keeps serving"
          <| fun () ->
              task {
                  use dir = new TempDir()
                  let options = simOptions dir
                  let sim = new SimulatedLimsInstrument(options, electrolyte)
                  sim.Start()
                  File.WriteAllText(Path.Combine(options.InDirectory, "bad.lims"), "hello")
                  let! rejected = waitUntil (TimeSpan.FromSeconds 5.0) (fun () -> sim.RejectedJobs = 1)
                  Expect.isTrue rejected "the malformed job is rejected"

                  Expect.isTrue
                      (File.Exists(Path.Combine(options.InDirectory, "bad.lims.rejected")))
                      "and renamed .rejected"

                  let meter = LimsDensityViscosityMeter(driverOptions dir 10000.0)
                  let! r = meter.MeasureAsync("E-8", "DensVisc")
                  do! sim.DisposeAsync()
                  Expect.isNonEmpty r.DensitiesGcm3 "a good job still measures"
              }
          testCaseTask "the measurement duration is time-compressed"
          <| fun () ->
              task {
                  use dir = new TempDir()
                  // 4 simulated minutes at scale 0.0002 is 48 ms of wall time.
                  let sim = new SimulatedLimsInstrument(simOptions dir, electrolyte)
                  sim.Start()
                  let meter = LimsDensityViscosityMeter(driverOptions dir 10000.0)
                  let sw = Diagnostics.Stopwatch.StartNew()
                  let! _ = meter.MeasureAsync("E-9", "DensVisc")
                  do! sim.DisposeAsync()
                  Expect.isGreaterThanOrEqual sw.Elapsed.TotalMilliseconds 40.0 "at least the compressed duration"
                  Expect.isLessThan sw.Elapsed.TotalMilliseconds 3000.0 "far below 4 real minutes"
              } ]

[<Tests>]
let tests = testList "Lims" [ parserTests; endToEndTests ]
