module Finales.Core.Tests.UnitsTests

open Expecto
open Finales.Core
open Finales.Core.Units

[<Tests>]
let tests =
    testList
        "Units"
        [ test "0 C is 273.15 K and back" {
              Expect.floatClose Accuracy.veryHigh (float (Temperature.ofCelsius 0.0)) 273.15 "0 C in K"
              Expect.floatClose Accuracy.veryHigh (Temperature.toCelsius 298.15<K>) 25.0 "298.15 K in C"
          }
          test "a millilitre is a cubic centimetre" {
              let v: float<mL> = 2.0<cm^3>
              Expect.floatClose Accuracy.veryHigh (float v) 2.0 "2 cm3 = 2 mL"
          } ]
