/// The fixes of broker-api.md section 3 that change FINALES2 behaviour (validation, ownership, terminal states,
/// capability versions, lease expiry), over real HTTP against a broker, run once per store.
module Finales.Integration.Tests.BrokerFixTests

open System
open System.Net.Http
open System.Text.Json
open System.Text.Json.Nodes
open System.Threading
open Expecto
open Microsoft.Extensions.Time.Testing
open Finales.Integration.Tests.Harness
open Finales.Integration.Tests.World

let fixes (f: StoreFactory) (w: Lazy<World>) =
    testList
        "fixes"
        [ test "fix 1: parameters violating the schema are 422 naming the path, nothing stored" {
              let w = w.Value
              let before = w.RequestCount()
              let n = jsonNode (w.PolyRequest w.TenantA)
              n["parameters"].["polynomial_interpolation"].["temperature"] <- JsonValue.Create "hot"
              let r = w.A.Post("/requests/", n.ToJsonString())
              expectStatus r 422 "schema violation"
              Expect.contains (locOf r) [ "body"; "parameters"; "polynomial_interpolation"; "temperature" ] "loc"
              Expect.equal (w.RequestCount()) before "nothing stored"
          }
          test "fix 2: result data are validated and must match the request's quantity and method" {
              let w = w.Value
              let id = w.NewRequest()
              let bad = jsonNode (w.PolyResult(w.TenantA, id))
              bad["data"].["conductivity"].["values"] <- JsonValue.Create "many"
              let r = w.A.Post("/results/", bad.ToJsonString())
              expectStatus r 422 "bad data"
              Expect.contains (locOf r) [ "body"; "data"; "conductivity"; "values" ] "loc names the data path"
              let other = jsonNode (w.PolyResult(w.TenantA, id))
              other["quantity"] <- JsonValue.Create "density"
              expectStatus (w.A.Post("/results/", other.ToJsonString())) 422 "quantity not the request's"

              Expect.equal
                  (w.A.Get("/requests/" + id).Json.GetProperty("status").GetString())
                  "pending"
                  "nothing stored"
          }
          test "a result for a request that does not exist is 422 naming body.request_uuid and the id" {
              let w = w.Value
              let missing = Guid.NewGuid().ToString "D"
              let r = w.A.Post("/results/", w.PolyResult(w.TenantA, missing))
              expectStatus r 422 "result for an unknown request"
              Expect.contains (locOf r) [ "body"; "request_uuid" ] "loc names request_uuid"
              Expect.stringContains (r.Detail.GetRawText()) missing "the detail names the id"
              Expect.equal (w.A.Get("/results_requested/" + missing).Body) "null" "nothing stored"
          }
          test "fix 3: a request with two methods works" {
              let w = w.Value
              let n = jsonNode (w.PolyRequest w.TenantA)
              let ps = (n["parameters"].["polynomial_interpolation"]).DeepClone()

              n["methods"] <-
                  JsonArray(JsonValue.Create "polynomial_interpolation", JsonValue.Create "molecular_dynamics")

              n["parameters"].["molecular_dynamics"] <- ps
              let r = w.A.Post("/requests/", n.ToJsonString())
              expectStatus r 200 "two methods"
              expectStatus (w.A.Get("/all_requests/")) 200 "all_requests still works"
          }
          test "fix 5: methods [] and parameters for a method not in methods are 422" {
              let w = w.Value
              let before = w.RequestCount()
              let n = jsonNode (w.PolyRequest w.TenantA)
              n["methods"] <- JsonArray()
              expectStatus (w.A.Post("/requests/", n.ToJsonString())) 422 "methods []"
              let m = jsonNode (w.PolyRequest w.TenantA)
              m["parameters"].["other"] <- JsonObject()
              let r = w.A.Post("/requests/", m.ToJsonString())
              expectStatus r 422 "extra parameters key"
              Expect.contains (locOf r) [ "body"; "parameters"; "other" ] "loc"
              Expect.equal (w.RequestCount()) before "nothing stored"
              expectStatus (w.A.Get("/all_requests/")) 200 "all_requests still works"
          }
          test "fix 6: reservation is owned: a second reserve is 409, only the holder may release" {
              let w = w.Value
              let id = w.NewRequest()

              let reserve (api: Api) =
                  api.Post(sprintf "/requests/%s/update_status/?request_id=%s&new_status=reserved" id id)

              expectStatus (reserve w.A) 200 "first reserve"
              expectStatus (reserve w.B) 409 "second reserve by another tenant"

              expectStatus
                  (w.B.Post(sprintf "/requests/%s/update_status/?request_id=%s&new_status=pending" id id))
                  409
                  "release by non-holder"

              expectStatus
                  (w.B.Post("/results/", w.PolyResult(w.TenantB, id)))
                  409
                  "fix 8: result by a tenant that does not hold it"

              expectStatus
                  (w.A.Post(sprintf "/requests/%s/update_status/?request_id=%s&new_status=pending" id id))
                  200
                  "release by holder"

              expectStatus (reserve w.B) 200 "now B may reserve"
          }
          test "fix 7: resolved is terminal; retract only by the requesting tenant or an admin" {
              let w = w.Value
              let id = w.NewRequest()

              expectStatus
                  (w.B.Post(sprintf "/requests/%s/update_status/?request_id=%s&new_status=retracted" id id))
                  403
                  "retract by another tenant"

              expectStatus (w.A.Post("/results/", w.PolyResult(w.TenantA, id))) 200 "result"

              expectStatus
                  (w.A.Post(sprintf "/requests/%s/update_status/?request_id=%s&new_status=pending" id id))
                  409
                  "resolved -> pending"

              let id2 = w.NewRequest()

              expectStatus
                  (w.A.Post(sprintf "/requests/%s/update_status/?request_id=%s&new_status=retracted" id2 id2))
                  200
                  "requester retracts"

              expectStatus
                  (w.A.Post("/results/", w.PolyResult(w.TenantA, id2)))
                  409
                  "fix 8: no result for a retracted request"

              expectStatus
                  (w.A.Post(sprintf "/requests/%s/update_status/?request_id=%s&new_status=bogus" id2 id2))
                  422
                  "unknown status"
          }
          test "fix 8: a second result for a resolved request is 409 and says why" {
              let w = w.Value
              let id = w.NewRequest()
              expectStatus (w.A.Post("/results/", w.PolyResult(w.TenantA, id))) 200 "first"
              let r = w.A.Post("/results/", w.PolyResult(w.TenantA, id))
              expectStatus r 409 "second"
              Expect.stringContains (r.Detail.GetString()) "already resolved" "says why"
          }
          test
              "fix 9: a request outside every offering tenant's limitations is 422 listing the limit; unoffered capabilities wait" {
              let w = w.Value
              let before = w.RequestCount()
              let r = w.A.Post("/requests/", w.PolyRequest(w.TenantA, temperature = 400.0))
              expectStatus r 422 "outside 243..333 K"
              Expect.contains (locOf r) [ "body"; "parameters"; "polynomial_interpolation"; "temperature" ] "loc"
              Expect.equal (w.RequestCount()) before "nothing stored"
              let md = jsonNode (w.PolyRequest w.TenantA)
              let ps = (md["parameters"].["polynomial_interpolation"]).DeepClone()
              md["methods"] <- JsonArray(JsonValue.Create "molecular_dynamics")
              md["parameters"] <- JsonObject()
              md["parameters"].["molecular_dynamics"] <- ps

              expectStatus
                  (w.A.Post("/requests/", md.ToJsonString()))
                  200
                  "no tenant offers conductivity/molecular_dynamics: accepted"
          }
          test "fix 10: tenant_uuid must be registered, bound to the user, and a UUID" {
              let w = w.Value
              expectStatus (w.A.Post("/requests/", w.PolyRequest(Guid.NewGuid()))) 403 "unregistered tenant"
              expectStatus (w.A.Post("/requests/", w.PolyRequest w.TenantB)) 403 "tenant of another user"

              expectStatus (w.Admin.Post("/requests/", w.PolyRequest w.TenantB)) 200 "admin may act for any tenant"

              let n = jsonNode (w.PolyRequest w.TenantA)
              n["tenant_uuid"] <- JsonValue.Create "not-a-uuid"
              let r = w.A.Post("/requests/", n.ToJsonString())
              expectStatus r 422 "non-UUID tenant"
              Expect.contains (locOf r) [ "body"; "tenant_uuid" ] "loc"
          }
          test "fix 4: validation uses the newly activated capability version" {
              let w = w.Value

              let cap =
                  jsonNode (
                      Finales.Tests.RepoData.readCorpus
                          "serialized_quantities/conductivity/polynomial_interpolation.json"
                  )

              let spec = cap["json_schema_specifications"]
              spec["properties"].["operator"] <- JsonNode.Parse """{"type":"string"}"""
              spec["required"].AsArray().Add(JsonValue.Create "operator")
              let r = w.Admin.Post("/admin/capabilities", cap.ToJsonString())
              expectStatus r 201 "new version"

              Expect.isGreaterThan (r.Json.GetProperty("deactivated").GetArrayLength()) 0 "old version deactivated"

              let bad = w.A.Post("/requests/", w.PolyRequest w.TenantA)
              expectStatus bad 422 "old shape fails the new version"

              Expect.contains
                  (locOf bad)
                  [ "body"; "parameters"; "polynomial_interpolation"; "operator" ]
                  "missing field"

              let old = (r.Json.GetProperty("deactivated")[0]).GetInt64()

              expectStatus (w.Admin.Post(sprintf "/admin/capabilities/%d/activate" old)) 200 "reactivate the original"

              expectStatus (w.A.Post("/requests/", w.PolyRequest w.TenantA)) 200 "original shape valid again"
          }
          test "a capability whose schema loops on itself is refused (422 naming the loop), the broker stays up" {
              let w = w.Value

              let cap =
                  jsonNode (
                      Finales.Tests.RepoData.readCorpus
                          "serialized_quantities/conductivity/polynomial_interpolation.json"
                  )

              cap["method"] <- JsonValue.Create "self_referential"

              cap["json_schema_specifications"] <-
                  JsonNode.Parse
                      """{"$defs":{"A":{"anyOf":[{"$ref":"#/$defs/A"},{"type":"string"}]}},"$ref":"#/$defs/A"}"""

              let before = w.Admin.Get("/admin/capabilities").Json.GetArrayLength()
              let r = w.Admin.Post("/admin/capabilities", cap.ToJsonString())
              expectStatus r 422 "refused"

              Expect.stringContains
                  ((r.Json.GetProperty("detail")[0]).GetProperty("msg").GetString())
                  "#/$defs/A -> #/$defs/A"
                  "the loop is named"

              expectStatus (w.Admin.Get "/") 200 "the broker is alive"

              Expect.equal (w.Admin.Get("/admin/capabilities").Json.GetArrayLength()) before "nothing was registered"
          }
          test "fix 6: an expired lease returns the request to pending with a history entry" {
              // A broker in this process on a fake clock: the 1 s lease runs out by advancing the clock, not by sleeping.
              let time = FakeTimeProvider(DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero))

              use broker =
                  new InProcessBroker(f.Make "lease", time, fun o -> o.LeaseSeconds <- Nullable 1.0)

              let w = populate broker.Url
              let posted = w.A.Post("/requests/", polyRequestOf w.TenantA None)
              expectStatus posted 200 "post request"
              let id = posted.String

              expectStatus
                  (w.A.Post(sprintf "/requests/%s/update_status/?request_id=%s&new_status=reserved" id id))
                  200
                  "reserve (lease 1 s)"

              // The lease sweeper wakes every second of the broker's clock. A long poll for pending work (its timeout
              // on the same clock, never reached here) answers once the expiry's write made the request pending again.
              let poll =
                  Tasks.Task.Run(fun () ->
                      w.B.Get(
                          "/pending_requests/?wait_seconds=30&quantity=conductivity&method=polynomial_interpolation"
                      ))

              time.Advance(TimeSpan.FromSeconds 2.6)
              let woke = poll.Result
              expectStatus woke 200 "long poll"

              Expect.isTrue
                  (woke.Json.EnumerateArray()
                   |> Seq.exists (fun x -> x.GetProperty("uuid").GetString() = id))
                  "the long poll sees the request pending again"

              Expect.equal
                  (w.A.Get("/requests/" + id).Json.GetProperty("status").GetString())
                  "pending"
                  "back to pending"

              let h = w.A.Get(sprintf "/requests/%s/history" id).Json

              Expect.equal
                  (h[h.GetArrayLength() - 1].GetProperty("event").GetString())
                  "lease_expired"
                  "history says why"

              expectStatus
                  (w.B.Post(sprintf "/requests/%s/update_status/?request_id=%s&new_status=reserved" id id))
                  200
                  "another tenant may take it"
          } ]
