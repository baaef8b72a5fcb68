module Finales.Md.Tests.RatingTests

open Expecto
open FsCheck
open Finales.Md.Setup

[<Tests>]
let tests =
    testList
        "md.setup.rating"
        [ testProperty "the rating is 1..5 and never rises with the relative uncertainty"
          <| fun (a: NormalFloat) (b: NormalFloat) ->
              let lo, hi = min (abs a.Get) (abs b.Get), max (abs a.Get) (abs b.Get)

              let rLo, rHi =
                  Rating.ofRelativeUncertainty (Some lo), Rating.ofRelativeUncertainty (Some hi)

              rLo >= rHi && rHi >= 1 && rLo <= 5

          test "the stated mapping" {
              let cases =
                  [ Some 0.01, 5
                    Some 0.05, 5
                    Some 0.07, 4
                    Some 0.15, 3
                    Some 0.3, 2
                    Some 0.9, 1
                    None, 1
                    Some nan, 1 ]

              for r, expected in cases do
                  Expect.equal (Rating.ofRelativeUncertainty r) expected $"relative uncertainty {r}"

              Expect.equal (Rating.relative 0.0 0.1) None "no relative error of a zero value"
              Expect.equal (Rating.relative 2.0 -0.2) (Some 0.1) "the error's magnitude"
          } ]
