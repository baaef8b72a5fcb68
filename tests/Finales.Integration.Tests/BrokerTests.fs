/// The FINALES2 conventions (auth, spellings, UUID forms, docs) and the request lifecycle with its exact response
/// shapes, over real HTTP against a broker process, run once per store; the suite of all broker route tests.
module Finales.Integration.Tests.BrokerTests

open System
open System.Net.Http
open System.Text.Json
open System.Text.Json.Nodes
open System.Threading
open Expecto
open Finales.Integration.Tests.Harness
open Finales.Integration.Tests.World

let private conventions (w: Lazy<World>) =
    testList
        "conventions"
        [ test "GET / greets like FINALES2 and needs no token" {
              let r = Api(w.Value.Url).Get("/")
              expectStatus r 200 "GET /"
              Expect.equal r.String "Hello! This is FINALES2." "greeting"
          }
          test "no Authorization header gives 401 Not authenticated with WWW-Authenticate: Bearer" {
              let r = Api(w.Value.Url).Get("/pending_requests/")
              expectStatus r 401 "no header"
              Expect.equal (r.Detail.GetString()) "Not authenticated" "detail"
              Expect.equal (r.Headers.WwwAuthenticate.ToString()) "Bearer" "challenge"
          }
          test "a forged or foreign-key token gives the wrong-credentials 401" {
              let forged =
                  w.Value.A.Token.Value.Substring(0, w.Value.A.Token.Value.Length - 4) + "AAAA"

              let r = Api(w.Value.Url, forged).Get("/pending_requests/")
              expectStatus r 401 "forged"
              Expect.equal (r.Detail.GetString()) "Authentication failed. Wrong username or password." "detail"

              let foreign =
                  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZG1pbiIsImV4cCI6OTk5OTk5OTk5OX0.hV2y9NNqIuN1qLwJgfkxVpBmO-ldXS5Nxgcvm3dFBpA"

              expectStatus
                  (Api(w.Value.Url, foreign).Get("/test"))
                  401
                  "token signed with another key (e.g. FINALES2's default)"
          }
          test "unknown user and wrong password get the same 401 (no user enumeration)" {
              let login (u: string) (p: string) =
                  use form = new FormUrlEncodedContent(dict [ "username", u; "password", p ])
                  use r = http.PostAsync(w.Value.Url + "/user_management/authenticate", form).Result
                  int r.StatusCode, r.Content.ReadAsStringAsync().Result

              let unknown = login "nobody" "x"
              let wrong = login "alice" "wrong"
              Expect.equal (fst unknown) 401 "unknown user status"
              Expect.equal unknown wrong "identical answers"
          }
          test "login accepts the OAuth2 form extras and ignores query parameters" {
              use form =
                  new FormUrlEncodedContent(
                      dict
                          [ "grant_type", ""
                            "username", "alice"
                            "password", "alice-pw"
                            "scope", ""
                            "client_id", ""
                            "client_secret", "" ]
                  )

              use r =
                  http.PostAsync(w.Value.Url + "/user_management/authenticate?foo=bar", form).Result

              Expect.equal (int r.StatusCode) 200 "login"
              let body = JsonDocument.Parse(r.Content.ReadAsStringAsync().Result).RootElement
              Expect.equal (body.GetProperty("token_type").GetString()) "bearer" "token_type"
              Expect.equal (body.GetProperty("access_token").GetString().Split('.').Length) 3 "a JWT"
          }
          test "/test returns username, uuid and usergroups, never a password hash" {
              let r = w.Value.A.Get("/test")
              expectStatus r 200 "/test"
              Expect.equal (keys r.Json |> List.sort) [ "usergroups"; "username"; "uuid" ] "fields"
              Expect.isFalse (r.Body.Contains "pbkdf2") "no hash"
          }
          test "both slash spellings reach every collection route" {
              for path in
                  [ "/pending_requests"
                    "/all_requests"
                    "/results_requested"
                    "/capabilities"
                    "/limitations"
                    "/tenants"
                    "/capabilities/templates" ] do
                  expectStatus (w.Value.A.Get path) 200 path
                  expectStatus (w.Value.A.Get(path + "/")) 200 (path + "/")
          }
          test "UUIDs are accepted dashed, as 32 hex digits, in braces and as urn:uuid; responses are dashed lowercase" {
              let id = w.Value.NewRequest()
              let g = Guid.Parse id

              for form in
                  [ g.ToString "D"
                    g.ToString "N"
                    g.ToString "B"
                    "urn:uuid:" + g.ToString "D"
                    (g.ToString "D").ToUpperInvariant() ] do
                  let r = w.Value.A.Get("/requests/" + form)
                  expectStatus r 200 form

                  Expect.equal
                      (r.Json.GetProperty("uuid").GetString())
                      (g.ToString "D")
                      ("uuid rendered dashed for " + form)
          }
          test "a malformed UUID is 400 badly formed hexadecimal UUID string" {
              for path in [ "/requests/xyz"; "/results/123"; "/results_requested/not-a-uuid" ] do
                  let r = w.Value.A.Get path
                  expectStatus r 400 path
                  Expect.equal (r.Detail.GetString()) "badly formed hexadecimal UUID string" "detail"
          }
          test "unknown ids give 200 null on the three lookup routes" {
              let id = Guid.NewGuid().ToString "D"

              for path in [ "/requests/"; "/results/"; "/results_requested/" ] do
                  let r = w.Value.A.Get(path + id)
                  expectStatus r 200 path
                  Expect.equal r.Body "null" (path + " body")
          }
          test "docs, redoc, openapi.json and healthz need no token; metrics speak Prometheus" {
              let anon = Api(w.Value.Url)
              expectStatus (anon.Get "/docs") 200 "/docs"
              expectStatus (anon.Get "/redoc") 200 "/redoc"
              let o = anon.Get "/openapi.json"
              expectStatus o 200 "/openapi.json"

              Expect.isTrue (o.Json.GetProperty("paths").TryGetProperty("/requests/") |> fst) "documents /requests/"

              expectStatus (anon.Get "/healthz") 200 "/healthz"
              // /metrics needs role admin or observer (issue 10); anonymous access is tested in AccessTests.
              let m = w.Value.Observer.Get "/metrics"
              Expect.stringContains m.Body "finales_requests" "metrics"
          } ]

let private lifecycle (w: Lazy<World>) =
    testList
        "lifecycle"
        [ test "post, read, reserve, post result, read result: exact FINALES2 shapes" {
              let w = w.Value
              let id = w.NewRequest()
              let info = w.A.Get("/requests/" + id).Json
              Expect.equal (keys info) [ "uuid"; "ctime"; "status"; "request" ] "RequestInfo keys"

              Expect.equal
                  (keys (info.GetProperty "request"))
                  [ "quantity"; "methods"; "parameters"; "tenant_uuid" ]
                  "Request keys"

              Expect.equal (info.GetProperty("status").GetString()) "pending" "pending"

              Expect.isMatch
                  (info.GetProperty("ctime").GetString())
                  @"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$"
                  "ctime format"

              let pending =
                  w.A.Get("/pending_requests/?quantity=conductivity&method=polynomial_interpolation").Json

              Expect.isTrue
                  (pending.EnumerateArray()
                   |> Seq.exists (fun x -> x.GetProperty("uuid").GetString() = id))
                  "listed as pending"

              let reserve =
                  w.A.Post(
                      sprintf "/requests/%s/update_status/?request_id=%s&new_status=reserved" id id,
                      "",
                      "application/x-www-form-urlencoded"
                  )

              expectStatus reserve 200 "reserve"
              Expect.equal reserve.String "Successful change of status to reserved" "reserve answer"
              let res = w.A.Post("/results/", w.PolyResult(w.TenantA, id))
              expectStatus res 200 "post result"
              let rid = res.String

              Expect.equal (w.A.Get("/requests/" + id).Json.GetProperty("status").GetString()) "resolved" "resolved"

              let current = w.A.Get("/results_requested/" + id).Json
              Expect.equal (keys current) [ "uuid"; "ctime"; "status"; "result" ] "ResultInfo keys"

              Expect.equal
                  (keys (current.GetProperty "result"))
                  [ "data"; "quantity"; "method"; "parameters"; "tenant_uuid"; "request_uuid" ]
                  "Result keys"

              Expect.equal (current.GetProperty("uuid").GetString()) rid "current result"

              Expect.equal (w.A.Get("/results/" + rid).Json.GetProperty("status").GetString()) "original" "original"

              Expect.equal
                  (info.GetProperty("ctime").GetString())
                  (w.A.Get("/requests/" + id).Json.GetProperty("ctime").GetString())
                  "fix 12: ctime never changes"
          }
          test "fix 12: history lists every status event with time, actor, tenant and message" {
              let w = w.Value
              let id = w.NewRequest()

              expectStatus
                  (w.A.Post(sprintf "/requests/%s/update_status/?request_id=%s&new_status=reserved" id id))
                  200
                  "reserve"

              expectStatus
                  (w.A.Post(
                      sprintf
                          "/requests/%s/update_status/?request_id=%s&new_status=pending&status_change_message=robot%%20jammed"
                          id
                          id
                  ))
                  200
                  "release"

              let h = w.A.Get(sprintf "/requests/%s/history" id).Json

              let statuses =
                  [ for e in h.EnumerateArray() -> e.GetProperty("status").GetString() ]

              Expect.equal statuses [ "pending"; "reserved"; "pending" ] "statuses oldest first"
              Expect.equal (h[2].GetProperty("message").GetString()) "robot jammed" "message kept"
              Expect.equal (h[1].GetProperty("actor").GetString()) "alice" "actor"
          }
          test "post_unsolicited_result creates an unsolicited request (request_uuid \"\" allowed)" {
              let w = w.Value
              let body = jsonNode (w.PolyResult(w.TenantA, ""))
              let r = w.A.Post("/results/post_unsolicited_result", body.ToJsonString())
              expectStatus r 200 "unsolicited"
              let res = w.A.Get("/results/" + r.String).Json
              let reqId = res.GetProperty("result").GetProperty("request_uuid").GetString()

              Expect.equal
                  (w.A.Get("/requests/" + reqId).Json.GetProperty("status").GetString())
                  "unsolicited"
                  "unsolicited request"

              let back =
                  w.A.Post(sprintf "/requests/%s/update_status/?request_id=%s&new_status=pending" reqId reqId)

              expectStatus back 409 "fix 7: unsolicited is terminal"
          }
          test "results_requested lists all statuses and filters by quantity, method and min_rating" {
              let w = w.Value

              let all =
                  w.A.Get("/results_requested/?quantity=conductivity&method=polynomial_interpolation").Json

              Expect.isGreaterThan (all.GetArrayLength()) 0 "some results"

              Expect.equal
                  (w.A.Get("/results_requested/?quantity=nothing").Json.GetArrayLength())
                  0
                  "filter by quantity"

              Expect.equal
                  (w.A.Get("/results_requested/?min_rating=3").Json.GetArrayLength())
                  0
                  "the example results have rating 2"

              Expect.isGreaterThan
                  (w.A.Get("/results_requested/?min_rating=2").Json.GetArrayLength())
                  0
                  "rating 2 passes min_rating 2"
          }
          test "result status: deleted hides the current result; the author may then post a replacement (amendment)" {
              let w = w.Value
              let id = w.NewRequest()
              let rid = (w.A.Post("/results/", w.PolyResult(w.TenantA, id))).String

              expectStatus
                  (w.B.Post(sprintf "/results/%s/update_status/?result_id=%s&new_status=deleted" rid rid))
                  403
                  "another tenant may not delete it"

              expectStatus
                  (w.A.Post(sprintf "/results/%s/update_status/?result_id=%s&new_status=amended" rid rid))
                  200
                  "amend"

              Expect.equal (w.A.Get("/results_requested/" + id).Body) "null" "no current result after amendment"
              let rid2 = (w.A.Post("/results/", w.PolyResult(w.TenantA, id))).String

              Expect.equal
                  (w.A.Get("/results_requested/" + id).Json.GetProperty("uuid").GetString())
                  rid2
                  "the replacement is current"

              expectStatus
                  (w.A.Post(sprintf "/results/%s/update_status/?result_id=%s&new_status=original" rid rid))
                  409
                  "amended is terminal"

              let lineage = w.A.Get("/lineage/" + rid).Json
              Expect.equal (lineage.GetProperty("results").GetArrayLength()) 2 "lineage shows both results"
          }
          test "observer may read but not write (403)" {
              let w = w.Value
              expectStatus (w.Observer.Get "/all_requests/") 200 "read"
              expectStatus (w.Observer.Post("/requests/", w.PolyRequest w.TenantA)) 403 "fix 10: observer posting"
          } ]

let suite (f: StoreFactory) (w: Lazy<World>) =
    testSequenced
    <| testList
        f.Name
        [ conventions w
          lifecycle w
          BrokerFixTests.fixes f w
          BrokerCatalogTests.extensions w
          BrokerCatalogTests.catalogAndAdmin w ]
