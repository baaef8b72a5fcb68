module Finales.Core.Tests.ValidationTests

open Expecto
open Finales.Core

[<Tests>]
let tests =
    testList
        "ValidationIssue"
        [ test "paths render with dots for keys and brackets for indices" {
              Expect.equal
                  (ValidationIssue.renderPath [ "formulation"; "2"; "fraction" ])
                  "formulation[2].fraction"
                  "mixed path"

              Expect.equal (ValidationIssue.renderPath []) "<root>" "empty path"
          }
          test "long values are shortened in messages" {
              let long = Corpus.json ("\"" + System.String('x', 200) + "\"")
              Expect.equal (ValidationIssue.renderValue long).Length 80 "shortened to 80 characters"
          }
          test "tryResolve walks keys and indices and stops at absent segments" {
              let doc = Corpus.json """{"a":[{"b":1}]}"""

              Expect.equal
                  (ValidationIssue.tryResolve doc [ "a"; "0"; "b" ]
                   |> Option.map (fun e -> e.GetInt32()))
                  (Some 1)
                  "existing"

              Expect.isNone (ValidationIssue.tryResolve doc [ "a"; "1" ]) "index out of range"
              Expect.isNone (ValidationIssue.tryResolve doc [ "c" ]) "absent key"
          } ]
