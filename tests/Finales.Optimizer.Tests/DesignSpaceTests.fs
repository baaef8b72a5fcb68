module Finales.Optimizer.Tests.DesignSpaceTests

open System
open Expecto
open Finales.Optimizer
open Finales.Core.Units
open Finales.Optimizer.Interop

let private limitations (chemicals: (string * string) list) (tmin: float) (tmax: float) =
    let comps =
        chemicals
        |> List.map (fun (key, fraction) ->
            sprintf """{"chemical":{"SMILES":"%s"},"fraction":%s,"fraction_type":"molPerMol"}""" key fraction)

    sprintf """{"formulation":[[%s]],"temperature":[{"min":%g,"max":%g}]}""" (String.Join(",", comps)) tmin tmax

let private lipf6, ec, emc, dmc, pc =
    "[Li+].F[P-](F)(F)(F)(F)F", "C1COC(=O)O1", "CCOC(=O)OC", "COC(=O)OC", "CC1COC(=O)O1"

let private sets (text: string) =
    match FeasibleSet.parseText None text with
    | Ok s -> s
    | Error e -> failtestf "design space does not parse: %s" e.Message

/// OptimizerFacade.TryDesignSpace with NaN for an absent temperature bound.
let private designSpace (docs: string[], chemicals: string[], tmin: float, tmax: float) =
    let bound (t: float) =
        if Double.IsNaN t then Nullable() else Nullable t

    let ok, space, error =
        OptimizerFacade.TryDesignSpace(docs, chemicals, bound tmin, bound tmax)

    {| Ok = ok
       Value = space
       Error = error |}

[<Tests>]
let tests =
    testList
        "DesignSpace"
        [ test "the intersection keeps common chemicals, intersects bounds and temperature, keys by InChIKey" {
              let density =
                  limitations
                      [ lipf6, """[{"min":0.02,"max":0.15}]"""
                        ec, """[{"min":0,"max":0.6}]"""
                        emc, """[{"min":0,"max":0.9}]"""
                        dmc, """[{"min":0,"max":0.9}]"""
                        pc, """[{"min":0,"max":0.6}]""" ]
                      253.15
                      333.15

              let cond =
                  limitations
                      [ "LiPF6", """[{"min":0.001,"max":0.1}]"""
                        "EC", """[{"min":0,"max":1}]"""
                        "PC", """[{"min":0,"max":0},{"min":0.1,"max":1}]""" ]
                      243.15
                      313.15

              let o = designSpace ([| density; cond |], null, nan, nan)
              Expect.isTrue o.Ok o.Error
              let s = (sets o.Value)[0]

              let bound key =
                  s.Components
                  |> Array.find (fun c -> c.Chemical = OptimizerFacade.ChemicalKey key)

              Expect.equal (s.Components.Length) 3 "EMC and DMC are not admitted by the conductivity capability"
              Expect.equal ((bound "LiPF6").Lower, (bound "LiPF6").Upper) (0.02, 0.1) "salt bounds intersect"

              Expect.equal
                  ((bound "PC").Lower, (bound "PC").Upper, (bound "PC").ZeroAllowed)
                  (0.1, 0.6, true)
                  "either 0 or 0.1..0.6"

              Expect.equal (s.TemperatureMin, s.TemperatureMax) (253.15<K>, 313.15<K>) "temperature ranges intersect"

              Expect.equal
                  (OptimizerFacade.ChemicalKey "EC")
                  (OptimizerFacade.ChemicalKey ec)
                  "name and SMILES give one key"

              Expect.equal (OptimizerFacade.ChemicalKey "EC") "KMTRUDSVKNLOMY-UHFFFAOYSA-N" "the key is the InChIKey"
          }
          test "a chemical subset and a temperature range restrict the space; an empty result is an error that says why" {
              let density =
                  limitations
                      [ lipf6, """[{"min":0.02,"max":0.15}]"""
                        ec, """[{"min":0,"max":0.6}]"""
                        emc, """[{"min":0,"max":0.9}]""" ]
                      253.15
                      333.15

              let o = designSpace ([| density |], [| "LiPF6"; "EMC" |], 260.0, 270.0)

              Expect.isTrue o.Ok o.Error
              let s = (sets o.Value)[0]

              Expect.equal
                  (s.Components |> Array.map (fun c -> c.Chemical) |> set)
                  (set [ OptimizerFacade.ChemicalKey "LiPF6"; OptimizerFacade.ChemicalKey "EMC" ])
                  "EC dropped"

              Expect.equal (s.TemperatureMin, s.TemperatureMax) (260.0<K>, 270.0<K>) "temperature restricted"
              let none = designSpace ([| density |], [| "LiPF6"; "EC" |], nan, nan)
              Expect.isFalse none.Ok "salt <= 0.15 and EC <= 0.6 cannot sum to 1"
              Expect.stringContains none.Error "no feasible formulation is left" "the error says why"

              let disjoint =
                  designSpace (
                      [| density
                         limitations [ lipf6, """[{"min":0.5,"max":1}]"""; ec, """[{"min":0,"max":1}]""" ] 253.15 333.15 |],
                      null,
                      nan,
                      nan
                  )

              Expect.isFalse disjoint.Ok "salt 0.02..0.15 and 0.5..1 do not meet"
              Expect.stringContains disjoint.Error "no formulation and temperature in common" "the error says why"
          }
          testPropertyWithConfig
              Finales.Optimizer.Tests.FeasibleSetTests.config
              "capabilities that spell one chemical differently share one dimension, written as its canonical key"
              (fun (r: Finales.Optimizer.Tests.FeasibleSetTests.SpelledLimitations) ->
                  let set, respelled = r.Sets[0], r.Respelled[0]

                  let expected =
                      set.Components
                      |> Array.filter (fun c -> c.Upper > 0.0)
                      |> Array.map (fun c -> OptimizerFacade.ChemicalKey c.Chemical, c.Lower, c.Upper)

                  match DesignSpace.intersect [| [| set |]; [| respelled |] |] [||] nan nan with
                  | Ok [| joined |] ->
                      joined.Components |> Array.map (fun c -> c.Chemical, c.Lower, c.Upper) = expected
                  | _ -> false)
          test
              "E1/E2: the E1 optimum beats a random feasible sample with zero regret there; E2 regret is never negative" {
              let k, x = Benchmarks.e1Optimum.Value
              let rng = Finales.Core.RandomStream.create 5

              let sample =
                  FeasibleSet.sample rng Benchmarks.electrolyteChemicals (Benchmarks.electrolyteSets E1) 2000

              let best =
                  sample
                  |> Array.map (fun q ->
                      (Benchmarks.evaluate E1 (Array.append q.Fractions [| float q.Temperature |]))[0])
                  |> Array.max

              Expect.isGreaterThanOrEqual k best "E1 optimum >= sampled conductivities"

              Expect.floatClose
                  { absolute = 1e-12; relative = 0.0 }
                  (Benchmarks.pointRegret E1 (Benchmarks.evaluate E1 x))
                  0.0
                  "zero regret at the optimum"

              let _, thr, tStar = Benchmarks.e2Reference.Value
              Expect.isTrue (tStar >= 253.15 && tStar <= 333.15) (sprintf "T* = %g within range" tStar)

              let sample2 =
                  FeasibleSet.sample rng Benchmarks.electrolyteChemicals (Benchmarks.electrolyteSets E2) 2000

              let r =
                  sample2
                  |> Array.map (fun q ->
                      Benchmarks.pointRegret
                          E2
                          (Benchmarks.evaluate E2 (Array.append q.Fractions [| float q.Temperature |])))

              Expect.isTrue (r |> Array.forall (fun v -> v >= 0.0)) "regret is never negative"
              Expect.isGreaterThan thr 0.0 "a positive viscosity threshold"
          }
          test "E1 GP-UCB reaches a small regret in 15 evaluations where random search does not" {
              let gp = Benchmarks.runOne E1 true 0 15
              let rnd = Benchmarks.runOne E1 false 0 15
              Expect.isLessThan gp[14] rnd[14] (sprintf "GP-UCB %g < random %g" gp[14] rnd[14])
          } ]
