module Finales.Optimizer.Tests.CampaignTests

open System
open Expecto
open Finales.Optimizer
open Finales.Core.Units
open Finales.Optimizer.Tests.FeasibleSetTests

let private fast =
    { Campaign.defaultSettings with
        Candidates = 150
        RefineStarts = 2
        RefineIterations = 6
        Gp =
            { GaussianProcess.defaultOptions with
                Restarts = 0
                MaxIterations = 15 } }

let private objectives =
    [| { CampaignObjective.Quantity = "conductivity"
         Goal = Maximise
         Tolerance = 0.2
         Kind = Relative }
       { CampaignObjective.Quantity = "viscosity"
         Goal = Minimise
         Tolerance = 0.0
         Kind = Relative } |]

let private truth (x: float[]) (t: float) =
    10.0 * x[0] * (1.0 - x[0]) + 0.01 * t, 1.0 + x[1] * 2.0

let private observe (chems: string[]) (pts: DesignPoint[]) =
    pts
    |> Array.collect (fun p ->
        let c, v = truth p.Fractions (float p.Temperature)
        let f = Array.zip chems p.Fractions

        [| { Formulation = f
             Temperature = p.Temperature
             Source = "exp"
             Quantity = "conductivity"
             Value = c
             Rating = Some 3.0
             Success = true
             Deleted = false }
           { Formulation = f
             Temperature = p.Temperature
             Source = "exp"
             Quantity = "viscosity"
             Value = v
             Rating = Some 3.0
             Success = true
             Deleted = false } |])

let private ok r =
    match r with
    | Ok v -> v
    | Error(e: CampaignError) -> failtestf "campaign failed: %s" e.Message

let private simple =
    [| { Components =
           [| { Chemical = "LiPF6"
                Lower = 0.02
                Upper = 0.15
                ZeroAllowed = false }
              { Chemical = "EC"
                Lower = 0.0
                Upper = 0.6
                ZeroAllowed = true }
              { Chemical = "EMC"
                Lower = 0.2
                Upper = 0.9
                ZeroAllowed = true } |]
         TemperatureMin = 253.15<K>
         TemperatureMax = 333.15<K> } |]

let private asFormulation (chems: string[]) (s: Suggestion) =
    { Fractions =
        chems
        |> Array.map (fun c -> s.Formulation |> Array.find (fun (k, _) -> k = c) |> snd)
      Temperature = s.Temperature }

[<Tests>]
let tests =
    testList
        "Campaign"
        [ testPropertyWithConfig
              { config with maxTest = 25 }
              "suggestions are always feasible under random limitations"
              (fun (r: RandomLimitations) ->
                  let chems = FeasibleSet.chemicals r.Sets

                  let data =
                      observe chems (FeasibleSet.sample (Finales.Core.RandomStream.create r.Seed) chems r.Sets 8)

                  let res =
                      Campaign.step
                          { fast with
                              Seed = r.Seed
                              BatchSize = 2 }
                          r.Sets
                          objectives
                          data
                          [||]
                      |> ok

                  res.Suggestions.Length >= 1
                  && res.Suggestions
                     |> Array.forall (fun s -> FeasibleSet.isFeasible 1e-9 chems r.Sets (asFormulation chems s)))
          test "no data gives a seeded random feasible design" {
              let res =
                  Campaign.step { fast with BatchSize = 3 } simple objectives [||] [||] |> ok

              Expect.equal res.Mode "random" "random mode"
              Expect.equal res.Suggestions.Length 3 "batch size"
          }
          test "the same seed gives the same batch" {
              let chems = FeasibleSet.chemicals simple

              let data =
                  observe chems (FeasibleSet.sample (Finales.Core.RandomStream.create 3) chems simple 12)

              let a =
                  Campaign.step { fast with Seed = 9; BatchSize = 3 } simple objectives data [||]
                  |> ok

              let b =
                  Campaign.step { fast with Seed = 9; BatchSize = 3 } simple objectives data [||]
                  |> ok

              Expect.equal
                  (a.Suggestions |> Array.map (fun s -> s.Formulation, s.Temperature))
                  (b.Suggestions |> Array.map (fun s -> s.Formulation, s.Temperature))
                  "deterministic"
          }
          test "a batch contains distinct points and avoids pending requests" {
              let chems = FeasibleSet.chemicals simple

              let data =
                  observe chems (FeasibleSet.sample (Finales.Core.RandomStream.create 4) chems simple 12)

              let first = Campaign.step { fast with Seed = 1 } simple objectives data [||] |> ok
              let s = first.Suggestions[0]

              let pend =
                  [| { PendingRequest.Formulation = s.Formulation
                       Temperature = s.Temperature
                       Source = "exp" } |]

              let second =
                  Campaign.step { fast with Seed = 1; BatchSize = 3 } simple objectives data pend
                  |> ok

              for t in second.Suggestions do
                  Expect.isFalse
                      (t.Formulation = s.Formulation && t.Temperature = s.Temperature)
                      "pending point not proposed again"

              let keys =
                  second.Suggestions
                  |> Array.map (fun t -> t.Formulation, t.Temperature)
                  |> Array.distinct

              Expect.equal keys.Length 3 "distinct batch"
          }
          test "failed points get the worst merit and low ratings and deleted results are excluded" {
              let chems = FeasibleSet.chemicals simple
              let pts = FeasibleSet.sample (Finales.Core.RandomStream.create 5) chems simple 10
              let data = observe chems pts

              let failed =
                  { data[0] with
                      Formulation = Array.zip chems pts[0].Fractions |> Array.map (fun (c, v) -> c, v)
                      Success = false
                      Value = nan
                      Temperature = 300.0<K> }

              let low =
                  { data[2] with
                      Rating = Some 0.5
                      Temperature = 310.0<K> }

              let deleted =
                  { data[4] with
                      Deleted = true
                      Temperature = 320.0<K> }

              let res =
                  Campaign.step
                      { fast with MinRating = 1.0 }
                      simple
                      objectives
                      (Array.concat [ data; [| failed; low; deleted |] ])
                      [||]
                  |> ok

              Expect.equal res.FailedPoints 1 "one failed point"
              Expect.equal res.ExcludedResults 2 "low rating and deleted"
              Expect.equal res.UsedPoints 11 "10 complete + 1 failed"
          }
          test "other sources enter as a fidelity input and predictions are for the target source" {
              let chems = FeasibleSet.chemicals simple
              let pts = FeasibleSet.sample (Finales.Core.RandomStream.create 6) chems simple 10

              let sim =
                  observe chems pts
                  |> Array.map (fun o ->
                      { o with
                          Source = "md"
                          Value = o.Value + 5.0 })

              let exp = observe chems pts[0..4]

              let res =
                  Campaign.step { fast with TargetSource = "exp" } simple objectives (Array.append sim exp) [||]
                  |> ok

              Expect.equal res.UsedPoints 15 "points of both sources are kept apart"

              Expect.isTrue
                  (res.Suggestions |> Array.forall (fun s -> s.Source = "exp"))
                  "suggested for the target source"
          }
          testPropertyWithConfig
              { config with maxTest = 15 }
              "observations join the design's chemicals in any spelling; suggestions write the limitations' form"
              (fun (seed: int) (choices: int[]) ->
                  let smiles (c: string) =
                      (Finales.Core.Chemical.data (Finales.Core.Chemical.tryFind c).Value).Smiles

                  let bySmiles =
                      simple
                      |> Array.map (fun s ->
                          { s with
                              Components =
                                  s.Components |> Array.map (fun c -> { c with Chemical = smiles c.Chemical }) })

                  let chems = FeasibleSet.chemicals bySmiles

                  let pts =
                      FeasibleSet.sample (Finales.Core.RandomStream.create seed) chems bySmiles 8

                  let data = observe chems pts

                  let choice i =
                      if choices.Length = 0 then
                          i
                      else
                          abs choices[i % choices.Length]

                  let respelled =
                      data
                      |> Array.mapi (fun i o ->
                          { o with
                              Formulation =
                                  o.Formulation
                                  |> Array.mapi (fun j (c, x) ->
                                      let all = spellings (Finales.Core.Chemical.tryFind c).Value
                                      all[(choice (i * 7 + j)) % all.Length], x) })

                  let settings = { fast with Seed = seed; BatchSize = 2 }
                  let written = Campaign.step settings bySmiles objectives data [||] |> ok
                  let spelled = Campaign.step settings bySmiles objectives respelled [||] |> ok

                  spelled = written
                  && spelled.UsedPoints = pts.Length
                  && spelled.Chemicals = chems
                  && spelled.Suggestions
                     |> Array.forall (fun s -> Array.map fst s.Formulation = chems))
          test "invalid settings are errors naming the field" {
              match Campaign.step { fast with BatchSize = 0 } simple objectives [||] [||] with
              | Error e -> Expect.stringContains e.Message "batch_size is 0" "names batch_size"
              | Ok _ -> failtest "batch size 0 accepted"
          } ]
