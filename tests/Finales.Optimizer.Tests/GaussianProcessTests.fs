module Finales.Optimizer.Tests.GaussianProcessTests

open System
open Expecto
open Finales.Optimizer

let private lo2, hi2 = [| 0.0; 0.0 |], [| 1.0; 1.0 |]
let private f2 (x: float[]) = sin (4.0 * x[0]) + x[1] * x[1]

let private design seed n =
    let rng = Finales.Core.RandomStream.create seed
    Array.init n (fun _ -> [| rng.NextFloat(); rng.NextFloat() |])

let private fitOk o seed lo hi x y =
    match GaussianProcess.fit o seed lo hi x y with
    | Ok m -> m
    | Error e -> failtestf "fit failed: %s" e.Message

[<Tests>]
let tests =
    testList
        "GaussianProcess"
        [ test "interpolates noise-free data" {
              let x = design 1 15
              let y = x |> Array.map f2
              let m = fitOk GaussianProcess.defaultOptions 0 lo2 hi2 x y
              let mu, _ = GaussianProcess.predict m x

              Array.iteri2
                  (fun i a b ->
                      Expect.floatClose { absolute = 1e-2; relative = 0.0 } a b (sprintf "mean at training point %d" i))
                  mu
                  y
          }
          test "posterior variance shrinks at observed points" {
              let x = design 2 10
              let y = x |> Array.map f2
              let m = fitOk GaussianProcess.defaultOptions 0 lo2 hi2 x y
              let _, vObs = GaussianProcess.predict m x

              let prior =
                  exp m.Hyperparameters.LogSignalVariance
                  * (Array.map f2 x
                     |> fun v -> let a = Array.average v in v |> Array.averageBy (fun t -> (t - a) ** 2.0))

              vObs
              |> Array.iteri (fun i v ->
                  Expect.isLessThan v (0.05 * prior) (sprintf "variance at observation %d is far below the prior" i))
          }
          test "gradients of the log marginal likelihood match central finite differences (rel 1e-4)" {
              let x = design 3 25
              let y = x |> Array.map f2
              let ym = Array.average y
              let ys = y |> Array.map (fun v -> v - ym)
              let rng = Finales.Core.RandomStream.create 7

              for trial in 1..5 do
                  let theta =
                      [| log (0.2 + rng.NextFloat())
                         log (0.2 + rng.NextFloat())
                         log (0.5 + rng.NextFloat())
                         log (1e-3 + 0.1 * rng.NextFloat())
                         rng.NextFloat() - 0.5 |]

                  let _, g = GaussianProcess.negLogMarginalLikelihood 1e-6 x ys theta

                  for j in 0 .. theta.Length - 1 do
                      let h = 1e-5
                      let tp = Array.copy theta
                      let tm = Array.copy theta
                      tp[j] <- tp[j] + h
                      tm[j] <- tm[j] - h
                      let fp, _ = GaussianProcess.negLogMarginalLikelihood 1e-6 x ys tp
                      let fm, _ = GaussianProcess.negLogMarginalLikelihood 1e-6 x ys tm
                      let fd = (fp - fm) / (2.0 * h)

                      Expect.floatClose
                          { absolute = 1e-5; relative = 1e-4 }
                          g[j]
                          fd
                          (sprintf "trial %d, component %d" trial j)
          }
          test "results are identical for identical seeds" {
              let x = design 4 60
              let y = x |> Array.map f2

              let o =
                  { GaussianProcess.defaultOptions with
                      MaxFitPoints = 30 }

              let m1 = fitOk o 42 lo2 hi2 x y
              let m2 = fitOk o 42 lo2 hi2 x y
              let t = design 5 20
              let a, va = GaussianProcess.predict m1 t
              let b, vb = GaussianProcess.predict m2 t
              Array.iter2 (fun p q -> Expect.floatClose { absolute = 0.0; relative = 0.0 } p q "same mean") a b
              Array.iter2 (fun p q -> Expect.floatClose { absolute = 0.0; relative = 0.0 } p q "same variance") va vb
          }
          test "duplicate and near-duplicate points do not crash" {
              let x =
                  Array.append
                      (Array.create 30 [| 0.5; 0.5 |])
                      (Array.init 30 (fun i -> [| 0.5 + 1e-13 * float i; 0.5 |]))

              let y = x |> Array.mapi (fun i v -> f2 v + (if i % 2 = 0 then 1e-3 else -1e-3))

              let m =
                  fitOk
                      GaussianProcess.defaultOptions
                      0
                      lo2
                      hi2
                      (Array.append x (design 6 5))
                      (Array.append y (design 6 5 |> Array.map f2))

              let mu, v = GaussianProcess.predict m (design 7 10)
              Expect.isTrue (Array.forall Double.IsFinite mu && Array.forall Double.IsFinite v) "finite predictions"
              let m2 = GaussianProcess.addBelievers m (Array.create 3 [| 0.5; 0.5 |])
              let mu2, _ = GaussianProcess.predict m2 [| [| 0.5; 0.5 |] |]
              Expect.isTrue (Double.IsFinite mu2[0]) "appending duplicates keeps the factor finite"
          }
          test "appending points matches refactorising with the same hyper-parameters" {
              let x = design 8 30
              let y = x |> Array.map f2
              let m = fitOk GaussianProcess.defaultOptions 0 lo2 hi2 x[0..24] y[0..24]
              let extended = GaussianProcess.addPoints m x[25..] y[25..]

              let ym, ysd =
                  Array.average y[0..24],
                  (let a = Array.average y[0..24] in sqrt (y[0..24] |> Array.averageBy (fun v -> (v - a) ** 2.0)))

              let full =
                  GaussianProcess.condition
                      lo2
                      hi2
                      1e-6
                      m.Hyperparameters
                      x
                      (y |> Array.map (fun v -> (v - ym) / ysd))
                      ym
                      ysd

              let t = design 9 10
              let a, va = GaussianProcess.predict extended t
              let b, vb = GaussianProcess.predict full t
              Array.iter2 (fun p q -> Expect.floatClose { absolute = 1e-8; relative = 1e-8 } p q "mean") a b
              Array.iter2 (fun p q -> Expect.floatClose { absolute = 1e-8; relative = 1e-8 } p q "variance") va vb
          }
          test "a kriging believer keeps the mean and shrinks the variance there" {
              let x = design 10 12
              let m = fitOk GaussianProcess.defaultOptions 0 lo2 hi2 x (x |> Array.map f2)
              let p = [| [| 0.31; 0.77 |] |]
              let mu0, v0 = GaussianProcess.predict m p
              let mu1, v1 = GaussianProcess.predict (GaussianProcess.addBelievers m p) p
              Expect.floatClose { absolute = 1e-8; relative = 1e-8 } mu1[0] mu0[0] "mean unchanged"
              Expect.isLessThan v1[0] (0.1 * v0[0] + 1e-12) "variance collapses at the believer"
          }
          test "invalid inputs are errors naming field and value" {
              match GaussianProcess.fit GaussianProcess.defaultOptions 0 lo2 hi2 [| [| 0.1; nan |] |] [| 1.0 |] with
              | Error e -> Expect.stringContains e.Message "x[0] is NaN" "names x[0]"
              | Ok _ -> failtest "NaN input accepted"
          }
          test "fits 2000 observations and predicts them closely (no failure at that size; speed lives in bench gp)" {
              let rng = Finales.Core.RandomStream.create 11
              let x = Array.init 2000 (fun _ -> Array.init 5 (fun _ -> rng.NextFloat()))
              let y = x |> Array.map (fun v -> sin (3.0 * v[0]) + v[1])

              let m =
                  fitOk GaussianProcess.defaultOptions 0 (Array.zeroCreate 5) (Array.create 5 1.0) x y

              let means, vars = GaussianProcess.predict m (Array.sub x 0 200)

              for i in 0..199 do
                  let mean, var = means[i], vars[i]

                  Expect.isTrue
                      (Double.IsFinite mean && Double.IsFinite var && var >= 0.0)
                      (sprintf "finite posterior at point %d" i)

                  Expect.floatClose
                      { absolute = 0.05; relative = 0.0 }
                      mean
                      y[i]
                      (sprintf "posterior mean at training point %d" i)
          } ]
