/// Every route, every fix of broker-api.md section 3, auth, spellings, UUID forms and response shapes,
/// over real HTTP against a broker process, run once per store.
module Finales.Integration.Tests.BrokerTests

open System
open System.Net.Http
open System.Text.Json
open System.Text.Json.Nodes
open System.Threading
open Expecto
open Finales.Integration.Tests.Harness
open Finales.Integration.Tests.World

let private keys (e: JsonElement) =
    [ for p in e.EnumerateObject() -> p.Name ]

let private locOf (r: Reply) =
    [ for d in r.Detail.EnumerateArray() -> [ for x in d.GetProperty("loc").EnumerateArray() -> x.ToString() ] ]

let suite (f: StoreFactory) (w: Lazy<World>) (leaseWorld: Lazy<World>) =
    testSequenced
    <| testList
        f.Name
        [ testList
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
                test
                    "UUIDs are accepted dashed, as 32 hex digits, in braces and as urn:uuid; responses are dashed lowercase" {
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

                    Expect.isTrue
                        (o.Json.GetProperty("paths").TryGetProperty("/requests/") |> fst)
                        "documents /requests/"

                    expectStatus (anon.Get "/healthz") 200 "/healthz"
                    // /metrics needs role admin or observer (issue 10); anonymous access is tested in AccessTests.
                    let m = w.Value.Observer.Get "/metrics"
                    Expect.stringContains m.Body "finales_requests" "metrics"
                } ]
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

                    Expect.equal
                        (w.A.Get("/requests/" + id).Json.GetProperty("status").GetString())
                        "resolved"
                        "resolved"

                    let current = w.A.Get("/results_requested/" + id).Json
                    Expect.equal (keys current) [ "uuid"; "ctime"; "status"; "result" ] "ResultInfo keys"

                    Expect.equal
                        (keys (current.GetProperty "result"))
                        [ "data"; "quantity"; "method"; "parameters"; "tenant_uuid"; "request_uuid" ]
                        "Result keys"

                    Expect.equal (current.GetProperty("uuid").GetString()) rid "current result"

                    Expect.equal
                        (w.A.Get("/results/" + rid).Json.GetProperty("status").GetString())
                        "original"
                        "original"

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
                test
                    "result status: deleted hides the current result; the author may then post a replacement (amendment)" {
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

                    expectStatus
                        (w.Admin.Post("/requests/", w.PolyRequest w.TenantB))
                        200
                        "admin may act for any tenant"

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

                    Expect.isGreaterThan
                        (r.Json.GetProperty("deactivated").GetArrayLength())
                        0
                        "old version deactivated"

                    let bad = w.A.Post("/requests/", w.PolyRequest w.TenantA)
                    expectStatus bad 422 "old shape fails the new version"

                    Expect.contains
                        (locOf bad)
                        [ "body"; "parameters"; "polynomial_interpolation"; "operator" ]
                        "missing field"

                    let old = (r.Json.GetProperty("deactivated")[0]).GetInt64()

                    expectStatus
                        (w.Admin.Post(sprintf "/admin/capabilities/%d/activate" old))
                        200
                        "reactivate the original"

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

                    Expect.equal
                        (w.Admin.Get("/admin/capabilities").Json.GetArrayLength())
                        before
                        "nothing was registered"
                }
                test "fix 6: an expired lease returns the request to pending with a history entry" {
                    let w = leaseWorld.Value
                    let id = w.NewRequest()

                    expectStatus
                        (w.A.Post(sprintf "/requests/%s/update_status/?request_id=%s&new_status=reserved" id id))
                        200
                        "reserve (lease 1 s)"

                    Thread.Sleep 2600

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
          testList
              "extensions"
              [ test "claim reserves the oldest matching request in one round trip; 204 when none; heartbeat extends" {
                    let w = w.Value
                    let none = w.B.Post("/requests/claim?quantity=nothing&method=none&lease_seconds=30")
                    expectStatus none 204 "nothing to claim"
                    let id = w.NewRequest()

                    let c =
                        w.B.Post(
                            "/requests/claim?quantity=conductivity&method=polynomial_interpolation&lease_seconds=30"
                        )

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

                    Expect.equal
                        (w.A.Get("/lineage/" + c.String).Json.GetProperty("parent").GetString())
                        parent
                        "parent"

                    let orphan = jsonNode (w.PolyRequest w.TenantA)
                    orphan["parent_request"] <- JsonValue.Create(Guid.NewGuid().ToString())
                    expectStatus (w.A.Post("/requests/", orphan.ToJsonString())) 422 "unknown parent"
                } ]
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

                    expectStatus
                        (w.Admin.Post("/admin/users", """{"username":"carol","password":"y"}"""))
                        409
                        "duplicate"

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
                } ] ]
