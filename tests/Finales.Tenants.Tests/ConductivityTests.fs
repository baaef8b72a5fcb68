/// The conductivity tenant: its limitations, the result data it builds, and end to end against a broker.
module Finales.Tenants.Tests.ConductivityTests

open System
open System.Collections.Generic
open System.Text.Json
open Expecto
open Finales.Core
open Finales.Hosting
open Finales.Tenants.Conductivity
open Finales.Tenants.Tests.TenantWorld

/// A test double for kit tests only (the science is the core's): sigma grows linearly with T, rating 3.
type LinearModel() =
    interface IConductivityModel with
        member _.Estimate(fractions: IReadOnlyDictionary<string, float>, t: float) =
            if fractions.Count = 0 then
                raise (ConductivityModelException "formulation is empty")

            ConductivityEstimate(0.5 + 0.01 * (t - 243.15), 3, true)

let data (o: WorkOutcome) = o.Data.GetProperty("conductivity")

let tests =
    testList
        "conductivity"
        [ test "the limitations parse in the core's language and admit the example requests the tenant generates" {
              let worker = ConductivityWorker(LinearModel())
              use doc = JsonDocument.Parse(worker.LimitationsJson())
              let entry = doc.RootElement[0]
              Expect.equal (entry.GetProperty("quantity").GetString()) "conductivity" "quantity"
              Expect.equal (entry.GetProperty("method").GetString()) "polynomial_interpolation" "method"

              let parsed =
                  match Limitations.parse (entry.GetProperty "limitations") with
                  | Ok p -> p
                  | Error e -> failtestf "limitations parse: %s" e

              let rng = Random 3

              for _ in 1..50 do
                  let p = ConductivityRequests.RandomParameters rng
                  let verdict = Limitations.check [ parsed ] p
                  Expect.isTrue verdict.IsOk (sprintf "random request %s admitted: %A" (p.GetRawText()) verdict)
          }

          test "random example requests are deterministic in the seed and their fractions sum to 1" {
              let a =
                  [ for _ in 1..5 -> (ConductivityRequests.RandomParameters(Random 11)).GetRawText() ]

              let b =
                  [ for _ in 1..5 -> (ConductivityRequests.RandomParameters(Random 11)).GetRawText() ]

              Expect.equal a b "same seed, same requests"
              let p = ConductivityRequests.RandomParameters(Random 12)

              let sum =
                  p.GetProperty("formulation").EnumerateArray()
                  |> Seq.sumBy (fun c -> c.GetProperty("fraction").GetDouble())

              Expect.floatClose Accuracy.veryHigh sum 1.0 "fractions sum to 1"
          }

          test "a served request gives values, temperature and meta shaped like the FINALES2 example" {
              let worker = ConductivityWorker(LinearModel())
              let id = Guid.NewGuid()
              let p = ConductivityRequests.RandomParameters(Random 5)
              let o = worker.Evaluate(id, p)
              Expect.isTrue o.Success o.Message
              let c = data o
              Expect.equal (c.GetProperty("values").GetArrayLength()) 1 "one value"

              Expect.floatClose
                  Accuracy.veryHigh
                  ((c.GetProperty "values").[0].GetDouble())
                  (0.5 + 0.01 * (p.GetProperty("temperature").GetDouble() - 243.15))
                  "the model's value"

              Expect.equal
                  (c.GetProperty("temperature").GetDouble())
                  (p.GetProperty("temperature").GetDouble())
                  "temperature echoed"

              Expect.isTrue (c.GetProperty("meta").GetProperty("success").GetBoolean()) "success"
              Expect.equal (c.GetProperty("meta").GetProperty("rating").GetInt32()) 3 "rating from the model"
              let run = o.Data.GetProperty("run_info")

              Expect.equal
                  (run.GetProperty("internal_reference").GetString())
                  (id.ToString "D")
                  "internal reference is the request id"

              Expect.isTrue
                  (JsonElement.DeepEquals(run.GetProperty("formulation"), p.GetProperty("formulation")))
                  "formulation echoed"
          }

          test "requests it cannot serve get a failed result that says why" {
              let worker = ConductivityWorker(LinearModel())

              let fail (p: JsonElement) (fragment: string) =
                  let o = worker.Evaluate(Guid.NewGuid(), p)
                  Expect.isFalse o.Success (sprintf "%s fails" fragment)
                  let meta = (data o).GetProperty("meta")
                  Expect.isFalse (meta.GetProperty("success").GetBoolean()) "meta.success false"
                  Expect.equal (meta.GetProperty("rating").GetInt32()) 0 "rating 0"
                  Expect.equal ((data o).GetProperty("values").GetArrayLength()) 0 "no values"
                  Expect.stringContains (meta.GetProperty("message").GetString()) fragment "message names the problem"

              let ok = ConductivityRequests.RandomParameters(Random 1)

              let edit (f: Nodes.JsonNode -> unit) =
                  let n = Nodes.JsonNode.Parse(ok.GetRawText())
                  f n
                  JsonSerializer.SerializeToElement n

              fail (edit (fun n -> n.AsObject().Remove("temperature") |> ignore)) "temperature is missing"
              fail (edit (fun n -> n["temperature"] <- Nodes.JsonValue.Create 400.0)) "temperature"

              fail
                  (edit (fun n -> n["formulation"].[1].["fraction_type"] <- Nodes.JsonValue.Create "mass fraction"))
                  "outside this tenant's limitations"

              fail (edit (fun n -> (n["formulation"].AsArray()).RemoveAt 0)) "outside this tenant's limitations"
          }

          test "the core model's rejection becomes a failed result with the model's message" {
              let worker =
                  ConductivityWorker(
                      { new IConductivityModel with
                          member _.Estimate(_, _) =
                              raise (ConductivityModelException "no EC and no PC: the model needs a solvent") }
                  )

              let o =
                  worker.Evaluate(Guid.NewGuid(), ConductivityRequests.RandomParameters(Random 2))

              Expect.isFalse o.Success "failed"
              Expect.stringContains o.Message "no EC and no PC" "model message kept"
          } ]

/// End to end in-process: a request in, a schema-valid result out (the broker validates result data against the
/// capability's json_schema_result_output and rejects what does not conform), numbers equal to the core model's.
let endToEnd =
    testList
        "conductivity end to end"
        [ test "requests are answered with the core model's conductivity and the broker accepts the results" {
              if not CoreConductivityModel.Available then
                  skiptest "this build has no science core yet (core/Finales.Core/Science is not merged into main)"

              use fx = create "e2e"
              let account = fx.AddTenant "conductivity"
              let model = CoreConductivityModel()

              use tenant =
                  new RunningTenant(ConductivityWorker(model), options fx account (IO.Path.Combine(fx.Dir, "j.db")))

              tenant.WaitReady()
              let rng = Random 42

              let requests =
                  [ for _ in 1..4 -> let p = ConductivityRequests.RandomParameters rng in fx.PostRequest p, p ]

              for id, _ in requests do
                  waitUntil 20.0 (sprintf "request %O resolved" id) (fun () -> fx.Status id = "resolved")

              for id, p in requests do
                  let results = fx.ResultsFor id
                  Expect.equal results.Length 1 (sprintf "one result for %O" id)
                  let r = results.Head.GetProperty("result")

                  Expect.equal
                      (r.GetProperty("tenant_uuid").GetString())
                      (account.Uuid.ToString "D")
                      "posted by the tenant"

                  Expect.equal ((r.GetProperty "method").[0].GetString()) "polynomial_interpolation" "method list"

                  Expect.isTrue
                      (JsonElement.DeepEquals(r.GetProperty("parameters").GetProperty("polynomial_interpolation"), p))
                      "parameters echoed"

                  let c = r.GetProperty("data").GetProperty("conductivity")
                  let fractions = Dictionary<string, float>()

                  for comp in p.GetProperty("formulation").EnumerateArray() do
                      fractions[comp.GetProperty("chemical").GetProperty("InChIKey").GetString()] <-
                          comp.GetProperty("fraction").GetDouble()

                  let expected = model.Estimate(fractions, p.GetProperty("temperature").GetDouble())

                  Expect.isTrue
                      (c.GetProperty("meta").GetProperty("success").GetBoolean())
                      (sprintf "success: %s" (c.GetRawText()))

                  Expect.floatClose
                      Accuracy.veryHigh
                      ((c.GetProperty "values").[0].GetDouble())
                      expected.SiemensPerMeter
                      "the core model's value"

                  Expect.equal
                      (c.GetProperty("meta").GetProperty("rating").GetInt32())
                      expected.Rating
                      "the core model's rating"
          }

          test
              "after registration the broker rejects requests outside the limitations, and a request without temperature gets a failed result" {
              use fx = create "e2e-limits"
              let account = fx.AddTenant "conductivity"

              use tenant =
                  new RunningTenant(
                      ConductivityWorker(LinearModel()),
                      options fx account (IO.Path.Combine(fx.Dir, "j.db"))
                  )

              tenant.WaitReady()
              let lim = fx.Admin.Get("/limitations/").Json
              Expect.equal (lim.GetArrayLength()) 1 "the tenant's limitations are on the broker"

              let hot =
                  Nodes.JsonNode.Parse((ConductivityRequests.RandomParameters(Random 1)).GetRawText())

              hot["temperature"] <- Nodes.JsonValue.Create 400.0

              let body =
                  sprintf
                      """{"quantity":"conductivity","methods":["polynomial_interpolation"],"parameters":{"polynomial_interpolation":%s},"tenant_uuid":"%O"}"""
                      (hot.ToJsonString())
                      fx.Requester.Uuid

              let r = fx.RequesterApi.Post("/requests/", body)
              Expect.equal r.Status 422 (sprintf "400 K rejected by the broker: %s" r.Body)
              Expect.stringContains r.Body "temperature" "the rejection names the field"

              let cold =
                  Nodes.JsonNode.Parse((ConductivityRequests.RandomParameters(Random 1)).GetRawText())

              cold.AsObject().Remove("temperature") |> ignore
              let id = fx.PostRequest(JsonSerializer.SerializeToElement cold)
              waitUntil 20.0 "the request without temperature resolved" (fun () -> fx.Status id = "resolved")

              let c =
                  (fx.ResultsFor id).Head.GetProperty("result").GetProperty("data").GetProperty("conductivity")

              Expect.isFalse (c.GetProperty("meta").GetProperty("success").GetBoolean()) "failed result"
              Expect.stringContains (c.GetProperty("meta").GetProperty("message").GetString()) "temperature" "says why"
          } ]
