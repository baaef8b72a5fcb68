module Finales.Md.Tests.ThermoLogTests

open Expecto
open Finales.Md.Analysis

/// A log with an NVT run and an NPT run, a warning inside the second, as LAMMPS writes them.
let private log =
    [ "LAMMPS (2 Aug 2023 - Update 3)"
      "Per MPI rank memory allocation (min/avg/max) = 12 | 12 | 12 Mbytes"
      "   Step          Time           Temp          Press          PotEng         KinEng         TotEng         Volume        Density    "
      "         0   0              300           -120           -5000          1000           -4000          64000          1.2          "
      "       100   100            301           -110           -5001          1001           -4000          64000          1.2          "
      "Loop time of 1.5 on 2 procs for 100 steps with 400 atoms"
      ""
      "   Step          Time           Temp          Press          PotEng         KinEng         TotEng         Volume        Density    "
      yield!
          [ for k in 0..19 ->
                let density = if k < 10 then 1.1 else 1.25 + 0.01 * float (k % 2)
                $"  {100 + 10 * k} {100 + 10 * k} 300 1 -5000 1000 -4000 {64000 - k} {density}" ]
      "WARNING: Bond/angle/dihedral extent > half of periodic box length (src/domain.cpp:936)"
      "Loop time of 2.5 on 2 procs for 200 steps with 400 atoms" ]

[<Tests>]
let tests =
    testList
        "md.thermolog"
        [ testCase "runs are read with their columns by name"
          <| fun () ->
              let runs = ThermoLog.runs log
              Expect.equal runs.Length 2 "two runs"
              Expect.equal runs[0].Rows.Length 2 "two rows in the first"
              Expect.equal runs[1].Rows.Length 20 "twenty rows in the second, the warning skipped"
              Expect.equal (runs[0].Column "temp") (Some [| 300.0; 301.0 |]) "Temp by name, case-insensitively"
              Expect.isFalse (ThermoLog.isNpt runs[0]) "constant volume"
              Expect.isTrue (ThermoLog.isNpt runs[1]) "varying volume"

          testCase "the density is the second half of the last NPT run with a block error"
          <| fun () ->
              match ThermoLog.density (ThermoLog.runs log) with
              | Ok d ->
                  Expect.floatClose Accuracy.high d.Mean 1.255 "mean of 1.25 and 1.26 alternating"
                  Expect.isLessThan d.Error 0.01 "small block error"
              | Error e -> failtest e

          testCase "a log without NPT run says so"
          <| fun () ->
              match ThermoLog.density (ThermoLog.runs log[0..5]) with
              | Ok _ -> failtest "density from an NVT run"
              | Error e -> Expect.stringContains e "no NPT run" "says why"

          testCase "block averages: mean and the spread of block means over sqrt(blocks)"
          <| fun () ->
              let e = (ThermoLog.blockAverage 2 [| 1.0; 1.0; 3.0; 3.0 |]).Value
              Expect.floatClose Accuracy.high e.Mean 2.0 "mean"
              // block means 1 and 3: sample variance 2, error sqrt(2 / 2) = 1
              Expect.floatClose Accuracy.high e.Error 1.0 "error" ]
