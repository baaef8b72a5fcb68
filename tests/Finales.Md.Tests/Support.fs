/// Shared builders of the MD analysis tests: seeded synthetic walks and analysis options.
module Finales.Md.Tests.Support

open System.Collections.Generic
open Finales.Md.Analysis

/// A two-type (+1/-1) random walk in a cubic box, unwrapped.
let walk (seed: uint64) (atoms: int) (frames: int) (step: float) : RandomWalk =
    { Seed = seed
      Atoms = atoms
      Frames = frames
      BoxA = 40.0
      StepA = step
      Stride = 10
      TypeCount = 2
      TypeCharges = [| 1.0; -1.0 |]
      Wrapped = false
      QuantumA = 0.0 }

/// Cation type 1 (+1) and anion type 2 (-1), one atom each.
let ions: Species list =
    [ { Name = "cation"
        AtomTypes = [| 1 |]
        Charge = 1.0
        ByMolecule = false }
      { Name = "anion"
        AtomTypes = [| 2 |]
        Charge = -1.0
        ByMolecule = false } ]

/// Options with a 1 fs timestep at 300 K, 5 blocks.
let options (species: Species list) (pairs: RdfPair list) : AnalysisOptions =
    { TimestepFs = 1.0
      TemperatureK = 300.0
      Species = species
      RdfPairs = pairs
      ViscosityMPaS = None
      MaxFrames = None
      TypeMasses = Dictionary<int, float>()
      Blocks = 5 }

/// Analyses dump lines without a log; fails the test on an error.
let analyse (o: AnalysisOptions) (lines: seq<string>) : Report =
    match Analysis.analyse o lines None (fun () -> false) with
    | Ok r -> r
    | Error e -> failwithf "analysis failed: %s" e

/// The error of an analysis expected to fail.
let analysisError (o: AnalysisOptions) (lines: seq<string>) : string =
    match Analysis.analyse o lines None (fun () -> false) with
    | Ok _ -> failwith "the analysis succeeded where it should fail"
    | Error e -> e
