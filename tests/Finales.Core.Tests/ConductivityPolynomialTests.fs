module Finales.Core.Tests.ConductivityPolynomialTests

open Expecto
open Finales.Core
open Finales.Core.Units

let private formulation (pairs: (Chemical * float) list) =
    Formulation.create
        MolePerMole
        (pairs
         |> List.filter (fun (_, v) -> v > 0.0)
         |> fun l -> if l.IsEmpty then pairs else l)
    |> TestData.okOr "formulation"

[<Tests>]
let tests =
    testList
        "ConductivityPolynomial"
        [ testList
              "specification vectors"
              [ for row in TestData.readCsv (Finales.Tests.RepoData.reference "conductivity-spec-vectors.csv") ->
                    test (sprintf "%s: %s" row.["id"] row.["outcome"]) {
                        // Some cases do not sum to 1 (c04: 0.88); the model only uses mass ratios.
                        let amounts =
                            Map.ofList
                                [ LiPF6, TestData.num row["x_LiPF6"]
                                  EC, TestData.num row["x_EC"]
                                  PC, TestData.num row["x_PC"] ]

                        let t = TestData.num row["temperature_K"] * 1.0<K>

                        match ConductivityPolynomial.estimateAmounts amounts t, row["outcome"] with
                        | Ok e, ("in-domain" | "extrapolated" as outcome) ->
                            let expected = TestData.num row["conductivity_S_per_m"]

                            Expect.floatClose
                                { absolute = 0.0; relative = 1e-12 }
                                (float e.Conductivity)
                                expected
                                "conductivity"

                            Expect.equal e.InDomain (outcome = "in-domain") "domain"
                            Expect.equal e.Rating (if outcome = "in-domain" then 3 else 1) "rating"
                        | Error(ConductivityTemperatureOutOfRange _), o when o.StartsWith "reject: temperature" -> ()
                        | Error NoLiPF6, "reject: no LiPF6" -> ()
                        | result, outcome -> failtestf "expected %s, got %A" outcome result
                    } ]
          test "a normalised formulation gives the same result as the raw amounts" {
              let raw =
                  ConductivityPolynomial.estimateAmounts (Map.ofList [ LiPF6, 0.08; EC, 0.4; PC, 0.4 ]) 293.15<K>
                  |> TestData.okOr "raw"

              let f = formulation [ LiPF6, 0.08 / 0.88; EC, 0.4 / 0.88; PC, 0.4 / 0.88 ]

              let viaF =
                  ConductivityPolynomial.estimate f 293.15<K> |> TestData.okOr "formulation"

              Expect.floatClose
                  { absolute = 0.0; relative = 1e-12 }
                  (float viaF.Conductivity)
                  (float raw.Conductivity)
                  "scale invariant"
          }
          test "no EC and no PC is rejected with a message" {
              let f = formulation [ LiPF6, 0.1; EMC, 0.9 ]

              match ConductivityPolynomial.estimate f 298.15<K> with
              | Error e -> Expect.stringContains (ConductivityError.message e) "neither EC nor PC" "message"
              | Ok r -> failtestf "accepted %A" r
          }
          test "temperature bounds are inclusive and the message names the value" {
              let f = formulation [ LiPF6, 0.1; EC, 0.45; PC, 0.45 ]
              Expect.isOk (ConductivityPolynomial.estimate f 243.15<K>) "lower bound"
              Expect.isOk (ConductivityPolynomial.estimate f 333.15<K>) "upper bound"

              match ConductivityPolynomial.estimate f 333.2<K> with
              | Error e -> Expect.stringContains (ConductivityError.message e) "temperature is 333.2 K" "message"
              | Ok _ -> failtest "accepted 333.2 K"
          }
          test "at a node the node's polynomial is used as is" {
              let direct = ConductivityPolynomial.evaluate 20.0 0.5 0.2
              let cs = ConductivityCoefficients.coefficients[5]

              let byHand =
                  ConductivityCoefficients.terms
                  |> Array.mapi (fun k (_, p, q) -> cs[k] * pown 0.5 p * pown 0.2 q)
                  |> Array.sum

              Expect.floatClose Accuracy.veryHigh direct byHand "20 C node"
          }
          test "EMC and DMC are ignored" {
              let a =
                  ConductivityPolynomial.estimate (formulation [ LiPF6, 0.1; EC, 0.45; PC, 0.45 ]) 298.15<K>
                  |> TestData.okOr "a"

              let b =
                  ConductivityPolynomial.estimate
                      (formulation [ LiPF6, 0.05; EC, 0.225; PC, 0.225; EMC, 0.5 ])
                      298.15<K>
                  |> TestData.okOr "b"

              Expect.floatClose
                  Accuracy.veryHigh
                  (float b.Conductivity)
                  (float a.Conductivity)
                  "same mass ratios, same conductivity"
          }
          test "the training domain: x_pc in 0.1..1, x_li in 0.1..1.1" {
              Expect.isTrue (ConductivityPolynomial.inTrainingDomain 0.1 0.1) "corner"
              Expect.isTrue (ConductivityPolynomial.inTrainingDomain 1.0 1.1) "corner"
              Expect.isFalse (ConductivityPolynomial.inTrainingDomain 0.05 0.5) "x_pc low"
              Expect.isFalse (ConductivityPolynomial.inTrainingDomain 0.5 1.2) "x_li high"
          } ]
