// The trajectory analysis of `./finales md analyse` from F# Interactive. Build first:
//   dotnet build core/Finales.Md -c Release
// then run from the repository root:
//   dotnet fsi scripts/md.fsx --dump prod.dump --types Li:1:1,PF6:2:-1 [--log log.lammps] [--timestep 1]
//                             [--temperature 298.15] [--rdf Li-PF6:1:2:12:240] [--viscosity 1.5]
// With no --dump it analyses a small synthetic random walk (seeded) and prints the same JSON.
#r "../artifacts/bin/Finales.Md/release/Finales.Core.dll"
#r "nuget: MathNet.Numerics, 5.0.0"
#r "../artifacts/bin/Finales.Md/release/Finales.Md.dll"

open System.Collections.Generic
open System.IO
open Finales.Md.Analysis

let args = fsi.CommandLineArgs |> Array.skip 1 |> List.ofArray

let rec flag name (xs: string list) =
    match xs with
    | f :: v :: _ when f = name -> Some v
    | _ :: rest -> flag name rest
    | [] -> None

let orFail label r =
    match r with
    | Ok v -> v
    | Error e -> failwithf "%s: %s" label e

let number name fallback =
    flag name args |> Option.map float |> Option.defaultValue fallback

let species =
    Species.parse (flag "--types" args |> Option.defaultValue "Li:1:1,PF6:2:-1")
    |> orFail "--types"

let pairs =
    flag "--rdf" args
    |> Option.map (Species.parseRdfPairs >> orFail "--rdf")
    |> Option.defaultValue []

let options =
    { TimestepFs = number "--timestep" 1.0
      TemperatureK = number "--temperature" 298.15
      Species = species
      RdfPairs = pairs
      ViscosityMPaS = flag "--viscosity" args |> Option.map float
      MaxFrames = flag "--max-frames" args |> Option.map int
      TypeMasses = Dictionary<int, float>()
      Blocks = 5 }

let dumpLines =
    match flag "--dump" args with
    | Some path -> File.ReadLines path
    | None ->
        Synthetic.dumpLines
            { Seed = 1UL
              Atoms = 200
              Frames = 200
              BoxA = 22.0
              StepA = 0.2
              Stride = 10
              TypeCount = 2
              TypeCharges = [| 1.0; -1.0 |]
              Wrapped = false
              QuantumA = 0.0 }

let logLines = flag "--log" args |> Option.map File.ReadLines

Analysis.analyse options dumpLines logLines (fun () -> false)
|> orFail "analysis"
|> ReportJson.report
|> printfn "%s"
