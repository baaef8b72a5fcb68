/// Accounts and access (issue 10): token revocation, deactivated tenants, logging in (AccessLoginTests), hostile admin
/// shapes, /metrics, security headers, bounded error echoes, lease bounds and the reservation policy; over real HTTP
/// against broker processes, once per store.
module Finales.Integration.Tests.AccessTests

open System
open System.IO
open System.Net.Http
open System.Text
open System.Text.Json
open System.Threading
open Expecto
open Microsoft.Extensions.Time.Testing
open Finales.Integration.Tests.Harness
open Finales.Integration.Tests.World
open Finales.Integration.Tests.AccessLoginTests

/// The arguments of the access world: a lease bound of one hour, and failed-login limits high enough for the
/// hostile login shapes below (the limits have their own world).
let worldArgs =
    "--max-lease-seconds 3600 --login-failures-per-address 1000 --login-failures-per-user 1000"

/// A new tenant with the given limitations and a user acting for it; returns (tenant, session).
let private tenantWithUser (w: World) (name: string) (limitations: string) =
    let t = addTenant w.Admin name limitations
    addUser w.Admin name [ "tenant" ] [ t ]
    t, Api.Login(w.Url, name, name + "-pw")

let private detailText (r: Reply) =
    if r.Detail.ValueKind = JsonValueKind.String then
        r.Detail.GetString()
    else
        r.Detail.GetRawText()

let suite (f: StoreFactory) (w: Lazy<World>) =
    testSequenced
    <| testList
        "access"
        [ testList
              "tokens"
              [ test "a token validated once (and remembered) still expires, and a changed one is still refused" {
                    let tokens = Finales.Broker.TokenService(Array.init 32 byte, TimeSpan.FromHours 1.0)

                    let now = DateTime(2026, 11, 29, 12, 0, 0, DateTimeKind.Utc)
                    let token = tokens.Issue("carol", 3L, now)
                    let valid = Nullable<struct (string * int64)>(struct ("carol", 3L))
                    Expect.equal (tokens.Validate(token, now)) valid "valid"
                    Expect.equal (tokens.Validate(token, now.AddMinutes 59.0)) valid "valid again (remembered)"
                    Expect.isFalse (tokens.Validate(token, now.AddHours 1.0)).HasValue "expired at its exp"
                    Expect.isFalse (tokens.Validate(token, now.AddDays 2.0)).HasValue "expired later"

                    // Version 3's header and payload with the signature of version 4's token.
                    let forged =
                        token.Substring(0, token.LastIndexOf '.')
                        + (tokens.Issue("carol", 4L, now)).Substring(token.LastIndexOf '.')

                    Expect.notEqual forged token "another signature"
                    Expect.isFalse (tokens.Validate(forged, now)).HasValue "a signature of other claims"

                    let other =
                        Finales.Broker.TokenService(Array.init 32 (fun i -> byte (i + 1)), TimeSpan.FromHours 1.0)

                    Expect.isFalse (other.Validate(token, now)).HasValue "another key"
                }
                test "a token issued before a password change is refused; a roles change alone revokes nothing" {
                    let w = w.Value
                    addUser w.Admin "carol" [ "tenant" ] [ w.TenantA ]
                    let before = Api.Login(w.Url, "carol", "carol-pw")
                    expectStatus (before.Get "/test") 200 "token works"

                    expectStatus
                        (w.Admin.Post("/admin/users/carol", """{"roles":["tenant","observer"]}"""))
                        200
                        "roles change"

                    expectStatus (before.Get "/test") 200 "still works after a roles change"
                    expectStatus (w.Admin.Post("/admin/users/carol", """{"password":"new-pw"}""")) 200 "password change"
                    let r = before.Get "/test"
                    expectStatus r 401 "old token after the password change"

                    Expect.equal
                        (r.Detail.GetString())
                        "Authentication failed. Wrong username or password."
                        "the usual 401"

                    expectStatus (login w.Url "carol" "carol-pw") 401 "old password"
                    expectStatus (Api.Login(w.Url, "carol", "new-pw").Get "/test") 200 "new token"
                }
                test "a roles change applies to the same token's next request, both ways" {
                    // The authentication handler builds a user's principal once per stored record: a changed user is a
                    // new record, so the same token must see the new roles at once.
                    let w = w.Value
                    addUser w.Admin "cleo" [ "tenant" ] [ w.TenantA ]
                    let token = Api.Login(w.Url, "cleo", "cleo-pw")
                    let refused = token.Get "/admin/users"
                    expectStatus refused 403 "a tenant is not an admin"
                    Expect.equal (refused.Detail.GetString()) "user cleo is not an admin" "the 403 names the user"

                    expectStatus
                        (w.Admin.Post("/admin/users/cleo", """{"roles":["tenant","admin"]}"""))
                        200
                        "made an admin"

                    expectStatus (token.Get "/admin/users") 200 "the same token is an admin's now"

                    expectStatus
                        (w.Admin.Post("/admin/users/cleo", """{"roles":["tenant"]}"""))
                        200
                        "admin role taken back"

                    expectStatus (token.Get "/admin/users") 403 "and the same token is refused again"
                    expectStatus (token.Get "/test") 200 "while it still authenticates"
                }
                test "a token issued before a deactivation stays refused after reactivation" {
                    let w = w.Value
                    addUser w.Admin "cora" [ "tenant" ] [ w.TenantA ]
                    let before = Api.Login(w.Url, "cora", "cora-pw")
                    expectStatus (w.Admin.Post("/admin/users/cora", """{"is_active":false}""")) 200 "deactivate"
                    expectStatus (w.Admin.Post("/admin/users/cora", """{"is_active":true}""")) 200 "reactivate"
                    expectStatus (before.Get "/test") 401 "old token"
                    expectStatus (Api.Login(w.Url, "cora", "cora-pw").Get "/test") 200 "new login"
                }
                test "a store from before token versions is migrated at startup; its users log in and are revoked" {
                    // A store whose users table has no token_version column, as every store had before.
                    let store = f.Make "premigration"
                    let first = (new BrokerProcess(store, "--quiet")).Start()
                    let admin = Api.Login(first.Url, "admin", adminPassword)
                    first.Kill()

                    execRaw store [ "ALTER TABLE users DROP COLUMN token_version" ] |> ignore

                    use second = (new BrokerProcess(store, "--quiet")).Start()
                    // A token of the old broker (no version claim) counts as version 0.
                    expectStatus (Api(second.Url, admin.Token.Value).Get "/test") 200 "old token, migrated store"
                    let again = Api.Login(second.Url, "admin", adminPassword)

                    expectStatus (again.Post("/admin/users/admin", """{"password":"changed"}""")) 200 "password change"

                    expectStatus (again.Get "/test") 401 "revoked"
                    expectStatus (Api.Login(second.Url, "admin", "changed").Get "/test") 200 "new password"
                } ]
          testList
              "deactivated tenants"
              [ test
                    "a deactivated tenant gets 403 naming it on post request, reserve, claim and post result; reads stay" {
                    let w = w.Value
                    let d, dora = tenantWithUser w "tenant-d" polyLimitations
                    let pending = w.NewRequest()
                    let mine = dora.Post("/requests/", w.PolyRequest d)
                    expectStatus mine 200 "active tenant posts"

                    expectStatus (w.Admin.Post(sprintf "/admin/tenants/%O/deactivate" d)) 200 "deactivate the tenant"

                    let refused (r: Reply) (what: string) =
                        expectStatus r 403 what
                        Expect.stringContains (detailText r) (d.ToString "D") (what + ": names the tenant")
                        Expect.stringContains (detailText r) "deactivated" (what + ": says why")

                    let before = w.RequestCount()
                    refused (dora.Post("/requests/", w.PolyRequest d)) "post request"
                    refused (w.Admin.Post("/requests/", w.PolyRequest d)) "an admin posting for it"
                    Expect.equal (w.RequestCount()) before "nothing stored"

                    refused
                        (dora.Post(
                            "/requests/claim?quantity=conductivity&method=polynomial_interpolation&lease_seconds=30"
                        ))
                        "claim"

                    refused
                        (dora.Post(
                            sprintf "/requests/%s/update_status/?request_id=%s&new_status=reserved" pending pending
                        ))
                        "reserve"

                    refused (dora.Post("/results/", w.PolyResult(d, pending))) "post result"

                    Expect.equal
                        (w.A.Get("/requests/" + pending).Json.GetProperty("status").GetString())
                        "pending"
                        "untouched"

                    expectStatus (dora.Get "/pending_requests/") 200 "reads stay allowed"
                    expectStatus (dora.Get("/requests/" + mine.String)) 200 "reads stay allowed"
                    expectStatus (w.Admin.Post(sprintf "/admin/tenants/%O/activate" d)) 200 "activate again"
                    expectStatus (dora.Post("/requests/", w.PolyRequest d)) 200 "writes again once active"
                } ]
          AccessLoginTests.logins f w
          testList
              "surface"
              [ test "/metrics needs role admin or observer" {
                    let w = w.Value
                    let anonymous = Api(w.Url).Get "/metrics"
                    expectStatus anonymous 401 "anonymous"
                    Expect.equal (anonymous.Detail.GetString()) "Not authenticated" "the 401's detail"
                    let tenant = w.A.Get "/metrics"
                    expectStatus tenant 403 "a tenant"

                    Expect.stringContains
                        (tenant.Detail.GetString())
                        "; /metrics needs role admin or observer"
                        "the 403 says what is needed"

                    let m = w.Observer.Get "/metrics"
                    expectStatus m 200 "observer"
                    Expect.stringContains m.Body "finales_requests" "Prometheus text"
                    expectStatus (w.Admin.Get "/metrics") 200 "admin"
                }
                test "every answer carries the security headers; authenticated ones are not cached" {
                    let w = w.Value

                    let check (r: Reply) (what: string) =
                        let one (name: string) =
                            match r.Headers.TryGetValues name with
                            | true, v -> String.Join(",", v)
                            | _ -> failtestf "%s: header %s missing" what name

                        Expect.equal (one "X-Content-Type-Options") "nosniff" what
                        Expect.equal (one "X-Frame-Options") "DENY" what
                        Expect.equal (one "Referrer-Policy") "no-referrer" what
                        Expect.stringContains (one "Content-Security-Policy") "default-src 'none'" what
                        one

                    check (Api(w.Url).Get "/") "greeting" |> ignore
                    check (Api(w.Url).Get "/pending_requests/") "401" |> ignore
                    check (w.A.Post("/requests/", "{")) "422" |> ignore
                    let docs = check (Api(w.Url).Get "/docs") "/docs"

                    Expect.stringContains
                        (docs "Content-Security-Policy")
                        "style-src 'unsafe-inline'"
                        "the docs page's style"

                    let authed = check (w.A.Get "/pending_requests/") "authenticated"
                    Expect.equal (authed "Cache-Control") "no-store" "no-store"
                    let token = check (login w.Url "alice" "alice-pw") "login"
                    Expect.equal (token "Cache-Control") "no-store" "the token is not cached"
                }
                test "error answers echo at most a short prefix of a huge invalid value" {
                    let w = w.Value
                    // Just under the strict reader's 1 MiB string cap, so it reaches the validation that names it.
                    let huge = String('q', 900 * 1024)
                    let n = Nodes.JsonNode.Parse(w.PolyRequest w.TenantA)
                    n["quantity"] <- Nodes.JsonValue.Create huge
                    let r = w.A.Post("/requests/", n.ToJsonString())
                    expectStatus r 422 "unknown quantity"
                    Expect.isLessThan r.Body.Length 2000 "short"
                    // The quantity is refused by the name-length cap, which states the length instead of echoing.
                    Expect.isTrue
                        (r.Body.Contains "bytes)"
                         || r.Body.Contains(sprintf "is %d characters long" huge.Length))
                        "says how long the value was"

                    let role =
                        w.Admin.Post(
                            "/admin/users",
                            sprintf """{"username":"eve","password":"x","roles":["%s"]}""" huge
                        )

                    expectStatus role 422 "unknown role"
                    Expect.isLessThan role.Body.Length 2000 "short"
                    Expect.stringContains role.Body "bytes)" "says how long the role was"

                    let grant =
                        rawLogin
                            w.Url
                            "application/x-www-form-urlencoded"
                            (Encoding.UTF8.GetBytes("username=alice&password=x&grant_type=" + String('g', 60000)))

                    expectStatus grant 422 "bad grant_type"
                    Expect.isLessThan grant.Body.Length 2000 "short"
                } ]
          testList
              "leases and reservations"
              [ test "a tenant reserves or claims only what its limitations offer; admins are excepted" {
                    let w = w.Value
                    let n, nick = tenantWithUser w "tenant-n" "[]"
                    let id = w.NewRequest()

                    let reserve (api: Api) =
                        api.Post(sprintf "/requests/%s/update_status/?request_id=%s&new_status=reserved" id id)

                    let r = reserve nick
                    expectStatus r 403 "stock reserve of a capability the tenant does not offer"
                    Expect.stringContains (detailText r) (n.ToString "D") "names the tenant"
                    Expect.stringContains (detailText r) "polynomial_interpolation" "names the method"

                    expectStatus
                        (nick.Post(
                            "/requests/claim?quantity=conductivity&method=polynomial_interpolation&lease_seconds=30"
                        ))
                        403
                        "claim of a capability the tenant does not offer"

                    expectStatus (nick.Post "/requests/claim") 422 "a claim without quantity/method: nothing to fill in"

                    Expect.equal
                        (w.A.Get("/requests/" + id).Json.GetProperty("status").GetString())
                        "pending"
                        "untouched"

                    expectStatus (reserve w.Admin) 200 "an admin may reserve anything"

                    expectStatus
                        (w.Admin.Post(sprintf "/requests/%s/update_status/?request_id=%s&new_status=pending" id id))
                        200
                        "release"

                    expectStatus (reserve w.A) 200 "the offering tenant reserves"

                    expectStatus
                        (w.A.Post(sprintf "/requests/%s/update_status/?request_id=%s&new_status=pending" id id))
                        200
                        "release"

                    // Alice's tenant offers one capability: a claim without quantity and method is for that one.
                    let c = w.A.Post "/requests/claim?lease_seconds=30"
                    expectStatus c 200 "claim filled in from the tenant's offer"
                    let claimed = c.Json.GetProperty("uuid").GetString()
                    expectStatus (w.A.Post("/results/", w.PolyResult(w.TenantA, claimed))) 200 "result"
                }
                test "leases above --max-lease-seconds are refused with 422; up to it they are granted" {
                    let w = w.Value
                    w.NewRequest() |> ignore
                    let q = "quantity=conductivity&method=polynomial_interpolation"
                    let r = w.A.Post(sprintf "/requests/claim?%s&lease_seconds=3601" q)
                    expectStatus r 422 "claim above the bound"
                    Expect.stringContains r.Body "lease_seconds" "names the parameter"
                    expectStatus (w.A.Post(sprintf "/requests/claim?%s&lease_seconds=604800" q)) 422 "a week"
                    let c = w.A.Post(sprintf "/requests/claim?%s&lease_seconds=3600" q)
                    expectStatus c 200 "claim at the bound"
                    let id = c.Json.GetProperty("uuid").GetString()

                    expectStatus
                        (w.A.Post(sprintf "/requests/%s/heartbeat?lease_seconds=7200" id))
                        422
                        "heartbeat above"

                    expectStatus (w.A.Post(sprintf "/requests/%s/heartbeat?lease_seconds=3600" id)) 200 "heartbeat at"
                    expectStatus (w.A.Post("/results/", w.PolyResult(w.TenantA, id))) 200 "result"
                }
                test "serve refuses an update_status lease above the maximum" {
                    let dir = tempDir "leasebound"

                    let code, out =
                        run
                            "timeout"
                            (sprintf
                                "60 dotnet \"%s\" serve --db \"%s\" --urls http://127.0.0.1:%d --lease-seconds 30000"
                                cliDll
                                (Path.Combine(dir, "x.db"))
                                (freePort ()))
                            [ "FINALES_ADMIN_PASSWORD", "x" ]

                    Expect.notEqual code 0 "refuses to start"
                    Expect.stringContains out "--max-lease-seconds" "says why"
                } ] ]
