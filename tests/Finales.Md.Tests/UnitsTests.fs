module Finales.Md.Tests.UnitsTests

open Expecto
open FsCheck
open Finales.Md.Analysis

[<Tests>]
let tests =
    testList
        "md.units"
        [ testProperty "A^2/fs -> m^2/s is a factor 1e-5"
          <| fun (x: NormalFloat) ->
              let d = x.Get
              let m = Units.angstrom2PerFsToM2PerS d
              abs (m - d * 1e-20 / 1e-15) <= 1e-12 * (abs m + 1e-300) ]
