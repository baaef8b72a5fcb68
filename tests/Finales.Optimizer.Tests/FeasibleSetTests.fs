module Finales.Optimizer.Tests.FeasibleSetTests

open System
open System.IO
open Expecto
open FsCheck
open FsCheck.FSharp
open Finales.Optimizer
open Finales.Core.Units

/// Random feasible limitations, built around a hidden feasible point so that they always admit one:
/// loose ranges, tight ranges (lower = upper), either-zero-or-range and always-zero chemicals.
type RandomLimitations = { Sets: FeasibleSet[]; Seed: int }

/// The same limitations written twice: `Sets` names each chemical of the core's table in one spelling,
/// `Respelled` names it in another (SMILES, InChIKey, name, in any letter case where the key allows it).
type SpelledLimitations =
    { Sets: FeasibleSet[]
      Respelled: FeasibleSet[]
      Seed: int }

/// Spellings of a chemical of the core's table that name it.
let spellings (c: Finales.Core.Chemical) : string[] =
    let d = Finales.Core.Chemical.data c

    [| d.Smiles
       d.InChIKey
       d.Name
       d.Name.ToLowerInvariant()
       d.InChIKey.ToLowerInvariant()
       " " + d.Smiles + " " |]

let private genSetOf (maxChemicals: int) =
    gen {
        let! n = Gen.choose (2, maxChemicals)
        let! raw = Gen.arrayOfLength n (Gen.choose (0, 100))
        let! zeroMask = Gen.arrayOfLength n (Gen.elements [ false; false; true ])
        let weights = Array.map2 (fun r z -> if z then 0.0 else float r + 1.0) raw zeroMask

        let weights =
            if Array.sum weights = 0.0 then
                Array.init n (fun i -> if i = 0 then 1.0 else 0.0)
            else
                weights

        let total = Array.sum weights
        let x = weights |> Array.map (fun w -> w / total)
        let! shapes = Gen.arrayOfLength n (Gen.choose (0, 3))
        let! slack = Gen.arrayOfLength n (Gen.choose (0, 100))

        let comps =
            Array.init n (fun i ->
                let s = float slack[i] / 100.0
                let name = sprintf "C%d" i

                if x[i] = 0.0 then
                    match shapes[i] with
                    | 0 ->
                        { Chemical = name
                          Lower = 0.0
                          Upper = 0.0
                          ZeroAllowed = true }
                    | 1 ->
                        { Chemical = name
                          Lower = 0.0
                          Upper = s
                          ZeroAllowed = true }
                    | _ ->
                        { Chemical = name
                          Lower = 0.05 + 0.4 * s
                          Upper = min 1.0 (0.5 + 0.5 * s)
                          ZeroAllowed = true }
                else
                    match shapes[i] with
                    | 0 ->
                        { Chemical = name
                          Lower = x[i]
                          Upper = x[i]
                          ZeroAllowed = false } // tight
                    | 1 ->
                        { Chemical = name
                          Lower = x[i] * (1.0 - s)
                          Upper = min 1.0 (x[i] * (1.0 + s))
                          ZeroAllowed = true }
                    | _ ->
                        { Chemical = name
                          Lower = x[i] * (1.0 - s)
                          Upper = min 1.0 (x[i] + s)
                          ZeroAllowed = false })

        let! t0 = Gen.choose (250, 330)
        let! dt = Gen.elements [ 0; 0; 20; 60 ]

        return
            { Components = comps
              TemperatureMin = float t0 * 1.0<K>
              TemperatureMax = float (t0 + dt) * 1.0<K> }
    }

let private genSet = genSetOf 6

/// A random feasible alternative over the core's chemicals (component i is chemical i of the table), each named
/// by a random spelling.
let private spell (set: FeasibleSet) : Gen<FeasibleSet> =
    gen {
        let! written =
            set.Components
            |> Array.mapi (fun i _ -> Gen.elements (spellings (List.item i Finales.Core.Chemical.all)))
            |> Gen.sequenceToArray

        return
            { set with
                Components = Array.map2 (fun c w -> { c with Chemical = w }) set.Components written }
    }

type Arbitraries =
    static member Limitations() : Arbitrary<RandomLimitations> =
        gen {
            let! k = Gen.choose (1, 2)
            let! sets = Gen.arrayOfLength k genSet
            let! seed = Gen.choose (0, 100000)
            return { Sets = sets; Seed = seed }
        }
        |> Arb.fromGen

    static member Spelled() : Arbitrary<SpelledLimitations> =
        gen {
            let! k = Gen.choose (1, 2)
            let! sets = Gen.arrayOfLength k (genSetOf Finales.Core.Chemical.count)
            let! written = sets |> Array.map spell |> Gen.sequenceToArray
            let! respelled = sets |> Array.map spell |> Gen.sequenceToArray
            let! seed = Gen.choose (0, 100000)

            return
                { Sets = written
                  Respelled = respelled
                  Seed = seed }
        }
        |> Arb.fromGen

let config =
    { FsCheckConfig.defaultConfig with
        arbitrary = [ typeof<Arbitraries> ]
        maxTest = 100 }

let private parseFile (relative: string) =
    match FeasibleSet.parseText None (Finales.Tests.RepoData.readCorpus relative) with
    | Ok s -> s
    | Error e -> failtestf "%s: %s" relative e.Message

[<Tests>]
let tests =
    testList
        "FeasibleSet"
        [ test "parses the two-electrode limitations (object form, fraction_type as a list)" {
              let sets = parseFile "examples/limitations/conductivity/two_electrode.json"

              Expect.equal sets.Length 1 "one alternative"
              let c = sets[0].Components

              Expect.equal
                  (c |> Array.map (fun k -> k.Chemical))
                  [| "C1COC(=O)O1"; "[Li+].F[P-](F)(F)(F)(F)F"; "CCOC(=O)OC" |]
                  "SMILES keys"

              Expect.floatClose Accuracy.veryHigh c[1].Upper 0.153 "LiPF6 upper"
              Expect.floatClose Accuracy.veryHigh c[2].Lower 0.4 "EMC lower"
              Expect.floatClose Accuracy.veryHigh (float sets[0].TemperatureMin) 301.15 "temperature"
          }
          test "parses the anyOf form and the list form" {
              let a = parseFile "examples/limitations/conductivity/polynomial_interpolation.json"

              Expect.equal a.Length 1 "anyOf: one alternative"
              Expect.floatClose Accuracy.veryHigh (float a[0].TemperatureMax) 333.0 "anyOf temperature"

              let b = parseFile "examples/tenants/conductivity/aiida_finales.json"

              Expect.equal b[0].Components.Length 3 "tenant document with a list of limitation objects"
          }
          test "parses exactly-0-or-a..b in either order and as a bare 0" {
              let json =
                  """{"formulation":[[{"chemical":{"SMILES":"A"},"fraction":[{"min":0,"max":0},{"min":0.2,"max":0.5}],"fraction_type":"molPerMol"},
                           {"chemical":{"SMILES":"B"},"fraction":[{"min":0.3,"max":0.6},0],"fraction_type":["molPerMol"]},
                           {"chemical":{"SMILES":"C"},"fraction":[{"min":0.1,"max":1.0}]}]],"temperature":[{"min":280,"max":300}]}"""

              match FeasibleSet.parseText None json with
              | Ok [| s |] ->
                  Expect.isTrue (s.Components[0].ZeroAllowed && s.Components[0].Lower = 0.2) "A: 0 or 0.2..0.5"
                  Expect.isTrue (s.Components[1].ZeroAllowed && s.Components[1].Lower = 0.3) "B: 0.3..0.6 or 0"
                  Expect.isFalse s.Components[2].ZeroAllowed "C: 0.1..1"
              | other -> failtestf "unexpected %A" other
          }
          test "errors name the path and the value" {
              let json =
                  """{"formulation":[[{"chemical":{"SMILES":"A"},"fraction":[{"min":0.5,"max":0.2}]}]],"temperature":[{"min":280,"max":300}]}"""

              match FeasibleSet.parseText None json with
              | Error e -> Expect.stringContains e.Message "limitations.formulation[0][0].fraction[0]" "path"
              | Ok _ -> failtest "min > max accepted"

              let ft =
                  """{"formulation":[[{"chemical":{"SMILES":"A"},"fraction":[1],"fraction_type":"gPerG"}]],"temperature":[300]}"""

              match FeasibleSet.parseText None ft with
              | Error e -> Expect.stringContains e.Message "'gPerG'" "fraction type named"
              | Ok _ -> failtest "gPerG accepted"

              let inf =
                  """{"formulation":[[{"chemical":{"SMILES":"A"},"fraction":[{"min":0.7,"max":0.8}]},{"chemical":{"SMILES":"B"},"fraction":[{"min":0.6,"max":0.8}]}]],"temperature":[300]}"""

              match FeasibleSet.parseText None inf with
              | Error e -> Expect.stringContains e.Message "lower bounds sum to 1.3" "infeasible explained"
              | Ok _ -> failtest "infeasible accepted"
          }
          testPropertyWithConfig
              config
              "samples are feasible with exact sums, including tight and either-zero bounds"
              (fun (r: RandomLimitations) ->
                  let chems = FeasibleSet.chemicals r.Sets

                  let pts =
                      FeasibleSet.sample (Finales.Core.RandomStream.create r.Seed) chems r.Sets 50

                  pts.Length = 50
                  && pts |> Array.forall (FeasibleSet.isFeasible 1e-9 chems r.Sets))
          testPropertyWithConfig config "refinement moves keep every point feasible" (fun (r: RandomLimitations) ->
              let chems = FeasibleSet.chemicals r.Sets

              let pts =
                  FeasibleSet.sample (Finales.Core.RandomStream.create r.Seed) chems r.Sets 5

              pts
              |> Array.forall (fun p ->
                  [ 0.2; 0.05; 0.001 ]
                  |> List.forall (fun s ->
                      FeasibleSet.moves chems r.Sets p s
                      |> Array.forall (FeasibleSet.isFeasible 1e-9 chems r.Sets))))
          test "a very tight set is sampled without rejection" {
              let set =
                  { Components =
                      [| { Chemical = "A"
                           Lower = 0.333333
                           Upper = 0.333334
                           ZeroAllowed = false }
                         { Chemical = "B"
                           Lower = 0.333333
                           Upper = 0.333334
                           ZeroAllowed = false }
                         { Chemical = "C"
                           Lower = 0.333332
                           Upper = 0.333334
                           ZeroAllowed = false } |]
                    TemperatureMin = 300.0<K>
                    TemperatureMax = 300.0<K> }

              let pts =
                  FeasibleSet.sample (Finales.Core.RandomStream.create 1) [| "A"; "B"; "C" |] [| set |] 1000

              Expect.isTrue
                  (pts |> Array.forall (FeasibleSet.isFeasible 1e-12 [| "A"; "B"; "C" |] [| set |]))
                  "all feasible at 1e-12"
          }
          testPropertyWithConfig
              config
              "two spellings of one chemical are one dimension, written as the limitations first name it"
              (fun (r: SpelledLimitations) ->
                  let chems = FeasibleSet.chemicals r.Sets
                  let both = FeasibleSet.chemicals (Array.append r.Sets r.Respelled)

                  let distinct =
                      r.Sets
                      |> Array.collect (fun s -> s.Components)
                      |> Array.map (fun c -> c.Key)
                      |> Array.distinct

                  let firstWritten =
                      distinct
                      |> Array.map (fun k ->
                          (r.Sets
                           |> Array.collect (fun s -> s.Components)
                           |> Array.find (fun c -> c.Key = k))
                              .Chemical)

                  both = chems && chems = firstWritten)
          testPropertyWithConfig
              config
              "sampling, feasibility and moves match chemicals by key, whatever the spelling"
              (fun (r: SpelledLimitations) ->
                  let chems = FeasibleSet.chemicals r.Sets

                  let sample sets =
                      FeasibleSet.sample (Finales.Core.RandomStream.create r.Seed) chems sets 20

                  let pts = sample r.Sets

                  pts = sample r.Respelled
                  && pts |> Array.forall (FeasibleSet.isFeasible 1e-9 chems r.Respelled)
                  && pts
                     |> Array.forall (fun p ->
                         FeasibleSet.moves chems r.Sets p 0.05 = FeasibleSet.moves chems r.Respelled p 0.05))
          test "an alternative that names one chemical twice, in two spellings, is refused with both spellings" {
              let json =
                  """{"formulation":[[{"chemical":{"name":"EC"},"fraction":[{"min":0,"max":0.5}]},{"chemical":{"SMILES":"C1COC(=O)O1"},"fraction":[{"min":0.5,"max":1}]}]],"temperature":[300]}"""

              match FeasibleSet.parseText None json with
              | Error e ->
                  Expect.stringContains e.Message "'EC', 'C1COC(=O)O1'" "both spellings named"
                  Expect.stringContains e.Message "limitations alternative 0" "the alternative named"
              | Ok s -> failtestf "one chemical twice accepted: %A" s
          } ]
