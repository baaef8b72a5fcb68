module Finales.Core.Tests.VirtualElectrolyteTests

open Expecto
open Finales.Core
open Finales.Core.Units
open Finales.Core.Tests.Arbitraries

let private moleFormulation (m: Map<Chemical, float>) : Formulation =
    Formulation.create MolePerMole (Map.toList m) |> TestData.okOr "formulation"

let private props (f: Formulation) (t: float<K>) : ElectrolyteProperties =
    VirtualElectrolyte.properties f t |> TestData.okOr "properties"

/// EC:EMC 3:7 w/w with the given molality of LiPF6 (mol/kg solvent).
let private ecEmcWithSalt (molality: float) : Formulation =
    let nEC = 300.0 / 88.062
    let nEMC = 700.0 / 104.104
    let nSalt = molality
    let total = nEC + nEMC + nSalt

    let parts =
        [ EC, nEC / total; EMC, nEMC / total ]
        @ (if molality > 0.0 then [ LiPF6, nSalt / total ] else [])

    Formulation.create MolePerMole parts |> TestData.okOr "EC:EMC + salt"

let private pearson (xs: float list) (ys: float list) : float =
    let mx, my = List.average xs, List.average ys
    let cov = List.map2 (fun x y -> (x - mx) * (y - my)) xs ys |> List.sum
    let vx = xs |> List.sumBy (fun x -> (x - mx) ** 2.0)
    let vy = ys |> List.sumBy (fun y -> (y - my) ** 2.0)
    cov / sqrt (vx * vy)

[<Tests>]
let tests =
    testList
        "VirtualElectrolyte"
        [ test "the measured 2022 stock densities are reproduced within 0.5 %" {
              for (s, measured) in List.zip MixingTests.stocks2022 [ 1.2879; 1.0635; 1.1964; 1.1013 ] do
                  let p = props (moleFormulation (Stock.moleFractions s)) 298.15<K>
                  Expect.floatClose { absolute = 0.0; relative = 0.005 } (float p.Density) measured $"{Stock.name s}"
          }
          test "the measured 2023 stock densities (299.8 K) are reproduced within 0.5 %" {
              for (s, measured) in List.zip MixingTests.stocks2023 [ 1.288; 1.162; 1.159; 1.005 ] do
                  let p = props (moleFormulation (Stock.moleFractions s)) 299.8<K>
                  Expect.floatClose { absolute = 0.0; relative = 0.005 } (float p.Density) measured $"{Stock.name s}"
          }
          test "EC:EMC 3:7 with 1 mol/kg LiPF6 at 298.15 K: about 9 mS/cm, 2.9 mPa s, 1.20 g/cm3" {
              let p = props (ecEmcWithSalt 1.0) 298.15<K>
              Expect.floatClose { absolute = 0.0; relative = 0.05 } (float p.Conductivity) 0.9 "conductivity (S/m)"
              Expect.floatClose { absolute = 0.0; relative = 0.05 } (float p.Viscosity) 2.9 "viscosity"
              Expect.floatClose { absolute = 0.0; relative = 0.02 } (float p.Density) 1.20 "density"
              Expect.floatClose Accuracy.high (float p.SaltMolality) 1.0 "molality"
          }
          test "pure solvents at 25 C have the table's density and viscosity" {
              for c in [ EC; EMC; DMC; PC ] do
                  let p = props (moleFormulation (Map.ofList [ c, 1.0 ])) 298.15<K>
                  let d = Chemical.data c
                  let excess = if c = EC then 1.0 else 1.0 // x_EC (1 - x_EC) = 0 for pure EC
                  Expect.floatClose Accuracy.high (float p.Density) (float d.Density25 * excess) $"density of {d.Name}"

                  Expect.floatClose
                      Accuracy.high
                      (float p.Viscosity)
                      (d.Viscosity25 |> Option.map float |> Option.defaultValue nan)
                      $"viscosity of {d.Name}"

                  Expect.floatClose Accuracy.veryHigh (float p.Conductivity) 0.0 "no salt, no conductivity"
          }
          test "density and viscosity correlate over random mixtures of the 2022 stocks (r between 0.85 and 0.97)" {
              let stocks = MixingTests.stocks2022

              let samples =
                  MixingTests.randomSimplex 2022UL 4 200
                  |> List.map (fun x ->
                      let p = props (moleFormulation (MixingTests.mixtureOf stocks x)) 298.15<K>
                      float p.Density, float p.Viscosity)

              let r = pearson (List.map fst samples) (List.map snd samples)
              Expect.isGreaterThanOrEqual r 0.85 $"r = {r}"
              Expect.isLessThanOrEqual r 0.97 $"r = {r}"
          }
          test "conductivity has a maximum in salt content for a fixed solvent" {
              let molalities = [ 0.05..0.05..3.0 ]

              let kappas =
                  molalities
                  |> List.map (fun m -> float (props (ecEmcWithSalt m) 298.15<K>).Conductivity)

              let iMax = kappas |> List.indexed |> List.maxBy snd |> fst
              Expect.isGreaterThan iMax 0 "not at the lowest salt content"
              Expect.isLessThan iMax (molalities.Length - 1) "not at the highest salt content"
              let mMax = molalities[iMax]
              Expect.isTrue (mMax > 0.5 && mMax < 1.5) $"maximum near mu = 0.6 + 0.01 eps (at {mMax} mol/kg)"
          }
          testPropertyWithConfig
              config
              "with a solvent: conductivity rises, viscosity and density fall with temperature"
              (fun (ValidFormulation f) ->
                  match VirtualElectrolyte.properties f 298.15<K> with
                  | Error NoSolvent -> ()
                  | Error e -> failtestf "%A" e
                  | Ok _ ->
                      let series = [ 250.0<K> .. 10.0<K> .. 350.0<K> ] |> List.map (props f)

                      for (a, b) in List.pairwise series do
                          Expect.isLessThan b.Density a.Density "density falls"
                          Expect.isLessThan b.Viscosity a.Viscosity "viscosity falls"

                          // kappa = kmax(T) g(m) with kmax ~ 1/eta_solvent(T) and m fixed: it rises
                          // wherever it is representable (absurd molalities underflow to 0).
                          if a.Conductivity > 1e-200<S / m> then
                              Expect.isGreaterThan b.Conductivity a.Conductivity "conductivity rises"
                          else
                              Expect.isGreaterThanOrEqual b.Conductivity a.Conductivity "conductivity does not fall")
          test "a formulation without solvent and temperatures outside 200..450 K are rejected" {
              let salt = moleFormulation (Map.ofList [ LiPF6, 1.0 ])
              Expect.equal (VirtualElectrolyte.properties salt 298.15<K>) (Error NoSolvent) "no solvent"
              let f = ecEmcWithSalt 1.0

              match VirtualElectrolyte.properties f 500.0<K> with
              | Error e -> Expect.stringContains (ElectrolyteError.message e) "temperature is 500 K" "message"
              | Ok _ -> failtest "accepted 500 K"
          }
          test "a seeded measurement is repeatable and noisy around the truth" {
              let f = ecEmcWithSalt 1.0
              let truth = props f 298.15<K>

              let m1, _ =
                  VirtualElectrolyte.measure (Rng.create 5UL) f 298.15<K> |> TestData.okOr "m1"

              let m2, _ =
                  VirtualElectrolyte.measure (Rng.create 5UL) f 298.15<K> |> TestData.okOr "m2"

              Expect.equal m1 m2 "same seed, same measurement"
              Expect.notEqual m1.Density truth.Density "noise is added"

              let mutable rng = Rng.create 9UL

              let samples =
                  [ for _ in 1..2000 ->
                        let m, next = VirtualElectrolyte.measure rng f 298.15<K> |> TestData.okOr "m"
                        rng <- next
                        m ]

              let sd (xs: float list) =
                  let mean = List.average xs
                  sqrt (xs |> List.averageBy (fun x -> (x - mean) ** 2.0))

              Expect.floatClose
                  { absolute = 0.0; relative = 0.1 }
                  (sd (samples |> List.map (fun m -> float m.Density)))
                  1e-4
                  "density sigma"

              Expect.floatClose
                  { absolute = 0.0; relative = 0.1 }
                  (sd (samples |> List.map (fun m -> float (m.Viscosity / truth.Viscosity))))
                  0.005
                  "viscosity sigma"

              Expect.floatClose
                  { absolute = 0.0; relative = 0.1 }
                  (sd (samples |> List.map (fun m -> float (m.Conductivity / truth.Conductivity))))
                  0.02
                  "conductivity sigma"
          } ]
