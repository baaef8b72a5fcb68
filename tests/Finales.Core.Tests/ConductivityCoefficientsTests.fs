module Finales.Core.Tests.ConductivityCoefficientsTests

open Expecto
open Finales.Core

[<Tests>]
let tests =
    testList
        "ConductivityCoefficients"
        [ test "the embedded table equals coef_full_S_per_cm of conductivity-polynomial.csv" {
              let rows =
                  TestData.readCsv (Finales.Tests.RepoData.reference "conductivity-polynomial.csv")

              Expect.equal
                  rows.Length
                  (ConductivityCoefficients.temperaturesC.Length
                   * ConductivityCoefficients.terms.Length)
                  "row count"

              for row in rows do
                  let t = TestData.num row["temperature_C"]

                  let node =
                      ConductivityCoefficients.temperaturesC |> Array.findIndex (fun x -> x = t)

                  let term =
                      ConductivityCoefficients.terms
                      |> Array.findIndex (fun (name, p, q) ->
                          name = row["term"] && p = int row["power_x_pc"] && q = int row["power_x_li"])

                  let expected = TestData.num row["coef_full_S_per_cm"]
                  // Exact: the generator writes round-trip representations.
                  let embedded = ConductivityCoefficients.coefficients[node][term]

                  Expect.floatClose
                      { absolute = 0.0; relative = 0.0 }
                      embedded
                      expected
                      (sprintf "%g C %s" t row.["term"])
          }
          test "nodes are -30..60 C in steps of 10" {
              Expect.equal (List.ofArray ConductivityCoefficients.temperaturesC) [ -30.0 .. 10.0..60.0 ] "nodes"
          } ]
