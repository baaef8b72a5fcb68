module Finales.Optimizer.Tests.FacadeTests

open System
open System.Collections.Generic
open System.Text.Json
open Expecto
open Finales.Optimizer.Interop

let private ro (pairs: (string * float) list) =
    Dictionary<string, float>(dict pairs) :> IReadOnlyDictionary<string, float>

let private electrolyte =
    """{"formulation":[[{"chemical":{"SMILES":"C1COC(=O)O1"},"fraction":[{"min":0,"max":0.6}],"fraction_type":"molPerMol"},
                         {"chemical":{"SMILES":"[Li+].F[P-](F)(F)(F)(F)F"},"fraction":[{"min":0.02,"max":0.15}],"fraction_type":"molPerMol"},
                         {"chemical":{"SMILES":"CCOC(=O)OC"},"fraction":[{"min":0.3,"max":0.9}],"fraction_type":"molPerMol"}]],
        "temperature":[{"min":280,"max":320}]}"""

let private objective quantity goal =
    { Quantity = quantity
      Goal = goal
      Tolerance = 0.1
      Kind = ObjectiveKind.Relative }

let private observation f t value (rating: Nullable<float>) =
    { Formulation = ro f
      Temperature = t
      Source = "two_electrode"
      Quantity = "conductivity"
      Value = value
      Rating = rating
      Success = true
      Deleted = false }

[<Tests>]
let tests =
    testList
        "Facade"
        [ test "TryChimera takes goals and kinds as enums and gives the README merits" {
              let ok, merits, error =
                  OptimizerFacade.TryChimera(
                      [| [| 1.0; 5.0 |]
                         [| 2.0; 3.0 |]
                         [| 0.5; 1.0 |]
                         [| 3.0; 9.0 |]
                         [| 1.5; 7.0 |] |],
                      [| 0.5; 0.2 |],
                      [| ObjectiveKind.Relative; ObjectiveKind.Relative |],
                      [| ObjectiveGoal.Min; ObjectiveGoal.Max |],
                      0.001
                  )

              Expect.isTrue ok error
              Expect.equal error "" "no error on success"
              Expect.floatClose { absolute = 1e-9; relative = 0.0 } merits[4] 0.0 "best point"
              Expect.floatClose { absolute = 1e-9; relative = 0.0 } merits[3] 1.0 "worst point"
          }
          test "TryChimera: null kinds and goals mean relative and minimised" {
              let rows = [| [| 1.0 |]; [| 3.0 |]; [| 2.0 |] |]

              let _, byDefault, _ = OptimizerFacade.TryChimera(rows, [| 0.0 |], null, null, 0.001)

              let _, explicitly, _ =
                  OptimizerFacade.TryChimera(
                      rows,
                      [| 0.0 |],
                      [| ObjectiveKind.Relative |],
                      [| ObjectiveGoal.Min |],
                      0.001
                  )

              Expect.sequenceEqual byDefault explicitly "same merits"
              Expect.isLessThan byDefault[0] byDefault[1] "the smallest value is best"
          }
          test "TryChimera fails with an empty value and an error naming the cell" {
              let ok, merits, error =
                  OptimizerFacade.TryChimera([| [| 1.0; nan |] |], [| 0.5; 0.2 |], null, null, 0.001)

              Expect.isFalse ok "rejected"
              Expect.isEmpty merits "no merits, not null"
              Expect.stringContains error "objectives[0][1]" "names the cell"
          }
          test "TryChimera rejects an enum value outside the enum, naming the goal" {
              let ok, _, error =
                  OptimizerFacade.TryChimera([| [| 1.0 |] |], [| 0.5 |], null, [| enum<ObjectiveGoal> 7 |], 0.001)

              Expect.isFalse ok "rejected"
              Expect.stringContains error "goals[0]" "names the goal"
          }
          test
              "TrySuggest proposes a feasible batch; a null rating is unrated and null temperatures come from the limitations" {
              let options =
                  { OptimizerFacade.DefaultOptions with
                      BatchSize = 2
                      Seed = 3
                      Candidates = 200
                      MinRating = 2.0 }

              let ok, suggestions, error =
                  OptimizerFacade.TrySuggest(
                      electrolyte,
                      [| objective "conductivity" ObjectiveGoal.Max |],
                      [| observation
                             [ "C1COC(=O)O1", 0.3; "[Li+].F[P-](F)(F)(F)(F)F", 0.1; "CCOC(=O)OC", 0.6 ]
                             300.0
                             9.5
                             (Nullable())
                         observation
                             [ "C1COC(=O)O1", 0.1; "[Li+].F[P-](F)(F)(F)(F)F", 0.05; "CCOC(=O)OC", 0.85 ]
                             290.0
                             6.1
                             (Nullable 3.0) |],
                      [||],
                      options
                  )

              Expect.isTrue ok error
              Expect.equal suggestions.Count 2 "batch of 2"

              for s in suggestions do
                  Expect.floatClose
                      { absolute = 1e-9; relative = 0.0 }
                      (Seq.sum s.Formulation.Values)
                      1.0
                      "fractions sum to 1"

                  Expect.isTrue
                      (s.Temperature >= 280.0 - 1e-9 && s.Temperature <= 320.0 + 1e-9)
                      "temperature from the limitations"
          }
          test "TrySuggest fails with an empty list and an error naming the field" {
              let ok, suggestions, error =
                  OptimizerFacade.TrySuggest("", [||], null, null, OptimizerFacade.DefaultOptions)

              Expect.isFalse ok "rejected"
              Expect.equal suggestions.Count 0 "no suggestions, not null"
              Expect.equal error "limitations is missing" "names the field"
          }
          test "RequestChecks: a schema that does not compile is refused with the reason and an empty schema" {
              let spec = JsonDocument.Parse("""{"type": 5}""").RootElement
              let ok, schema, error = RequestChecks.TryCompileSchema(spec)
              Expect.isFalse ok "refused"
              Expect.isFalse (obj.ReferenceEquals(schema, null)) "an empty schema, not null"
              Expect.isNotEmpty error "the reason"

              Expect.throws
                  (fun () -> RequestChecks.SchemaIssues(schema, spec) |> ignore)
                  "checking against an empty schema is a programmer error"
          }
          test "RequestChecks: schema and limitation issues name the path; accepted parameters give none" {
              let spec =
                  JsonDocument
                      .Parse(
                          """{"type":"object","properties":{"temperature":{"type":"number"}},"required":["temperature"]}"""
                      )
                      .RootElement

              let ok, schema, error = RequestChecks.TryCompileSchema(spec)
              Expect.isTrue ok error

              let limits =
                  JsonDocument.Parse("""{"temperature":[{"min":280,"max":320}]}""").RootElement

              let parsed, ranges, limitsError = RequestChecks.TryParseLimits([| limits |])
              Expect.isTrue parsed limitsError
              let inside = JsonDocument.Parse("""{"temperature":300}""").RootElement
              let outside = JsonDocument.Parse("""{"temperature":400}""").RootElement
              let wrong = JsonDocument.Parse("""{"temperature":"hot"}""").RootElement
              Expect.isEmpty (RequestChecks.SchemaIssues(schema, inside)) "valid"
              Expect.isEmpty (RequestChecks.LimitIssues(ranges, inside)) "inside"

              Expect.stringContains
                  (String.Join("; ", RequestChecks.SchemaIssues(schema, wrong)))
                  "temperature"
                  "the schema issue names the field"

              Expect.stringContains
                  (String.Join("; ", RequestChecks.LimitIssues(ranges, outside)))
                  "temperature"
                  "the limitation issue names the field"
          }
          test "RequestChecks: limitations that do not parse are refused with the reason" {
              let bad = JsonDocument.Parse("""[1, 2]""").RootElement
              let ok, _, error = RequestChecks.TryParseLimits([| bad |])
              Expect.isFalse ok "refused"
              Expect.isNotEmpty error "the reason"
          }
          test "DefaultOptions leave sqrt(beta) and the temperature range unset (null), not NaN" {
              let d = OptimizerFacade.DefaultOptions
              Expect.isFalse d.SqrtBeta.HasValue "Srinivas schedule"
              Expect.isFalse d.TemperatureMin.HasValue "temperature from the limitations"
              Expect.isFalse d.TemperatureMax.HasValue "temperature from the limitations"
          } ]
