/// The extensions beyond FINALES2 (claim and heartbeat, long polling, lineage) and the catalog and admin routes
/// (capabilities, templates, tenants, users, limitations, dump, audit), over real HTTP, run once per store.
module Finales.Integration.Tests.BrokerCatalogTests

open System
open System.Net.Http
open System.Text.Json
open System.Text.Json.Nodes
open System.Threading
open Expecto
open Finales.Integration.Tests.Harness
open Finales.Integration.Tests.World

let extensions (w: Lazy<World>) =
    testList
        "extensions"
        [ test "claim reserves the oldest matching request in one round trip; 204 when none; heartbeat extends" {
              let w = w.Value
              let none = w.B.Post("/requests/claim?quantity=nothing&method=none&lease_seconds=30")
              expectStatus none 204 "nothing to claim"
              let id = w.NewRequest()

              let c =
                  w.B.Post("/requests/claim?quantity=conductivity&method=polynomial_interpolation&lease_seconds=30")

              expectStatus c 200 "claim"
              let claimed = c.Json.GetProperty("uuid").GetString()

              Expect.equal
                  (w.A.Get("/requests/" + claimed).Json.GetProperty("status").GetString())
                  "reserved"
                  "reserved"

              let hb = w.B.Post(sprintf "/requests/%s/heartbeat?lease_seconds=60" claimed)
              expectStatus hb 200 "heartbeat"

              expectStatus
                  (w.A.Post(sprintf "/requests/%s/heartbeat?lease_seconds=60" claimed))
                  409
                  "heartbeat by non-holder"

              expectStatus (w.B.Post("/results/", w.PolyResult(w.TenantB, claimed))) 200 "holder posts"
              ignore id
          }
          test "long polling returns as soon as a request arrives" {
              let w = w.Value
              let q = "quantity=conductivity&method=polynomial_interpolation"
              // drain pending
              for r in w.A.Get("/pending_requests/?" + q).Json.EnumerateArray() do
                  let id = r.GetProperty("uuid").GetString()

                  w.Admin.Post(sprintf "/requests/%s/update_status/?request_id=%s&new_status=retracted" id id)
                  |> ignore

              let sw = Diagnostics.Stopwatch.StartNew()

              let poll =
                  Threading.Tasks.Task.Run(fun () -> w.B.Get("/pending_requests/?wait_seconds=10&" + q))

              Thread.Sleep 500
              let id = w.NewRequest()
              let r = poll.Result
              Expect.isLessThan sw.Elapsed.TotalSeconds 5.0 "returned early"

              Expect.isTrue
                  (r.Json.EnumerateArray()
                   |> Seq.exists (fun x -> x.GetProperty("uuid").GetString() = id))
                  "the new request"
          }
          test "lineage links parent and child requests" {
              let w = w.Value
              let parent = w.NewRequest()
              let child = jsonNode (w.PolyRequest w.TenantA)
              child["parent_request"] <- JsonValue.Create parent
              let c = w.A.Post("/requests/", child.ToJsonString())
              expectStatus c 200 "child"
              let l = w.A.Get("/lineage/" + parent).Json

              Expect.equal
                  [ for x in l.GetProperty("children").EnumerateArray() -> x.GetString() ]
                  [ c.String ]
                  "children"

              Expect.equal (w.A.Get("/lineage/" + c.String).Json.GetProperty("parent").GetString()) parent "parent"

              let orphan = jsonNode (w.PolyRequest w.TenantA)
              orphan["parent_request"] <- JsonValue.Create(Guid.NewGuid().ToString())
              expectStatus (w.A.Post("/requests/", orphan.ToJsonString())) 422 "unknown parent"
          } ]

let catalogAndAdmin (w: Lazy<World>) =
    testList
        "catalog and admin"
        [ test "capabilities: currently_available shows only offered ones; limitations concatenate per capability" {
              let w = w.Value
              let offered = w.A.Get("/capabilities/").Json

              Expect.equal
                  [ for c in offered.EnumerateArray() ->
                        c.GetProperty("quantity").GetString()
                        + "/"
                        + c.GetProperty("method").GetString() ]
                  [ "conductivity/polynomial_interpolation" ]
                  "only tenant A's"

              Expect.equal
                  (keys offered[0])
                  [ "quantity"
                    "method"
                    "json_schema_specifications"
                    "json_schema_result_output" ]
                  "CapabilityInfo keys"

              Expect.equal (w.A.Get("/capabilities/?currently_available=false").Json.GetArrayLength()) 13 "all 13"
              let lim = w.A.Get("/limitations/").Json
              Expect.equal (keys lim[0]) [ "quantity"; "method"; "limitations" ] "LimitationsInfo keys"
              expectStatus (w.A.Get("/capabilities/?currently_available=maybe")) 422 "bad boolean"
          }
          test "templates read like FINALES2 and {} when nothing matches" {
              let w = w.Value

              let t =
                  w.A
                      .Get(
                          "/capabilities/templates/?quantity=conductivity&method=polynomial_interpolation&currently_available=false"
                      )
                      .Json

              let entry = t.GetProperty("conductivity-polynomial_interpolation")

              Expect.equal
                  (entry.GetProperty("input_template").GetProperty("temperature").GetString())
                  "optional, float"
                  "leaf of an optional number"

              Expect.equal (w.A.Get("/capabilities/templates/?quantity=nothing").Body) "{}" "empty"
          }
          test "tenants list includes inactive ones; deactivating the only offering tenant hides its capability" {
              let w = w.Value
              let t = w.A.Get("/tenants/").Json

              Expect.equal
                  (keys t[0])
                  [ "tenant_uuid"; "name"; "limitations"; "contact_person"; "is_active" ]
                  "TenantInfo keys"

              expectStatus (w.Admin.Post(sprintf "/admin/tenants/%O/deactivate" w.TenantA)) 200 "deactivate"
              // Tenant B offers the same capability (it may reserve only what it offers): deactivate it too.
              expectStatus (w.Admin.Post(sprintf "/admin/tenants/%O/deactivate" w.TenantB)) 200 "deactivate B"
              Expect.equal (w.A.Get("/capabilities/").Json.GetArrayLength()) 0 "nothing offered"

              Expect.isTrue
                  (w.A.Get("/tenants/").Json.EnumerateArray()
                   |> Seq.exists (fun x -> x.GetProperty("is_active").GetBoolean() |> not))
                  "inactive listed"

              expectStatus (w.Admin.Post(sprintf "/admin/tenants/%O/activate" w.TenantA)) 200 "activate"
              expectStatus (w.Admin.Post(sprintf "/admin/tenants/%O/activate" w.TenantB)) 200 "activate B"
          }
          test "admin routes need the admin role; users cannot be created twice" {
              let w = w.Value
              expectStatus (w.A.Post("/admin/users", """{"username":"x","password":"y"}""")) 403 "tenant user"
              addUser w.Admin "carol" [ "tenant" ] []

              expectStatus (w.Admin.Post("/admin/users", """{"username":"carol","password":"y"}""")) 409 "duplicate"

              let r =
                  w.Admin.Post("/admin/users", """{"username":"dave","password":"y","roles":["wizard"]}""")

              expectStatus r 422 "unknown role"
              Expect.stringContains r.Body "wizard" "names the value"
          }
          test "a tenant may replace its own limitations, not another's" {
              let w = w.Value
              expectStatus (w.A.Put(sprintf "/tenants/%O/limitations" w.TenantA, polyLimitations)) 200 "own"
              expectStatus (w.A.Put(sprintf "/tenants/%O/limitations" w.TenantB, "[]")) 403 "another's"
          }
          test "database dump needs the configured key" {
              let w = w.Value
              expectStatus (w.Admin.Get "/database_dump/wrong") 403 "no key configured"
              expectStatus (w.A.Get "/database_dump/wrong") 403 "not admin"
          }
          test "the audit replays the event log to the stored state" {
              let r = w.Value.Admin.Get "/admin/audit"
              expectStatus r 200 "audit"
              Expect.isTrue (r.Json.GetProperty("ok").GetBoolean()) r.Body
          } ]
