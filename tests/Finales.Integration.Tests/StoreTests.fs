/// The store behind the routes: claims by (quantity, method) at any queue shape, list routes streamed in bounded
/// memory with additive paging, long polling woken by writes (not by polling), race-free schema and admin writes,
/// over real HTTP for each store.
module Finales.Integration.Tests.StoreTests

open System
open System.IO
open System.Text.Json
open System.Text.Json.Nodes
open System.Threading.Tasks
open Expecto
open Finales.Integration.Tests.Harness
open Finales.Integration.Tests.World

let private twoElectrodeTemplate =
    Finales.Tests.RepoData.readCorpus "examples/requests/conductivity/two_electrode.json"

/// A conductivity request for tenant A offered to `methods` (parameters from the corpus examples).
let private requestFor (w: World) (methods: string list) =
    let poly = jsonNode polyRequestTemplate
    let two = jsonNode twoElectrodeTemplate
    let parameters = JsonObject()

    for m in methods do
        let source = if m = "two_electrode" then two else poly
        parameters[m] <- source["parameters"].[m].DeepClone()

    let n = JsonObject()
    n["quantity"] <- JsonValue.Create "conductivity"
    n["methods"] <- JsonArray([| for m in methods -> JsonValue.Create m :> JsonNode |])
    n["parameters"] <- parameters
    n["tenant_uuid"] <- JsonValue.Create(w.TenantA.ToString "D")
    n.ToJsonString()

let private post (w: World) (methods: string list) =
    let r = w.A.Post("/requests/", requestFor w methods)
    expectStatus r 200 (sprintf "post a %A request" methods)
    r.String

let private uuids (e: JsonElement) =
    [ for x in e.EnumerateArray() -> x.GetProperty("uuid").GetString() ]

let private claimPoly (w: World) =
    w.A.Post("/requests/claim?quantity=conductivity&method=polynomial_interpolation&lease_seconds=600")

let private pendingPoly (w: World) =
    w.A.Get("/pending_requests/?quantity=conductivity&method=polynomial_interpolation").Json
    |> uuids

let private claims (f: StoreFactory) (w: Lazy<World>) =
    testList
        "claim by quantity and method"
        [ test
              "the oldest match is claimed and listed behind 0, 63, 64, 65, 200 and 1000 older requests of another method" {
              let w = w.Value
              let mutable older = 0

              for shape in [ 0; 63; 64; 65; 200; 1000 ] do
                  // The queue of non-matching pending requests grows to exactly `shape`.
                  Parallel.For(
                      0,
                      shape - older,
                      ParallelOptions(MaxDegreeOfParallelism = 4),
                      fun _ -> post w [ "two_electrode" ] |> ignore
                  )
                  |> ignore

                  older <- shape
                  let m = post w [ "polynomial_interpolation" ]

                  Expect.equal
                      (pendingPoly w)
                      [ m ]
                      (sprintf "with %d older requests of another method, the listing" shape)

                  let c = claimPoly w
                  expectStatus c 200 (sprintf "claim with %d older requests of another method" shape)
                  Expect.equal (c.Json.GetProperty("uuid").GetString()) m "the match is claimed"
                  expectStatus (claimPoly w) 204 (sprintf "nothing left to claim at shape %d" shape)

              let others =
                  w.A.Get("/pending_requests/?quantity=conductivity&method=two_electrode").Json.GetArrayLength()

              Expect.equal others 1000 "every request of the other method is still pending"
          }
          test "interleaved matches and requests offered to several methods are claimed oldest first" {
              let w = w.Value
              // The previous test left 1000 two_electrode requests pending in front of these.
              let m1 = post w [ "polynomial_interpolation" ]
              post w [ "two_electrode" ] |> ignore
              let m2 = post w [ "two_electrode"; "polynomial_interpolation" ]
              post w [ "two_electrode" ] |> ignore
              post w [ "two_electrode" ] |> ignore
              let m3 = post w [ "polynomial_interpolation"; "two_electrode" ]
              let m4 = post w [ "polynomial_interpolation" ]
              Expect.equal (pendingPoly w) [ m1; m2; m3; m4 ] "the listing by method"

              let byMethodOnly =
                  w.A.Get("/pending_requests/?method=polynomial_interpolation").Json |> uuids

              Expect.equal byMethodOnly [ m1; m2; m3; m4 ] "the listing by method alone"

              for expected in [ m1; m2; m3; m4 ] do
                  let c = claimPoly w
                  expectStatus c 200 "claim"
                  Expect.equal (c.Json.GetProperty("uuid").GetString()) expected "claimed in posting order"

              expectStatus (claimPoly w) 204 "no match left"
              Expect.equal (pendingPoly w) [] "none listed"
          }
          test "a released request is listed and claimable again by each of its methods" {
              let w = w.Value
              let m = post w [ "two_electrode"; "polynomial_interpolation" ]
              let c = claimPoly w
              expectStatus c 200 "claim"
              Expect.equal (c.Json.GetProperty("uuid").GetString()) m "claimed"
              Expect.isFalse (pendingPoly w |> List.contains m) "not pending while reserved"

              expectStatus
                  (w.A.Post(sprintf "/requests/%s/update_status/?request_id=%s&new_status=pending" m m))
                  200
                  "release"

              Expect.equal (pendingPoly w) [ m ] "pending again"

              let two =
                  w.A.Get("/pending_requests/?quantity=conductivity&method=two_electrode").Json
                  |> uuids

              Expect.equal (List.last two) m "listed under its other method too"
              let again = claimPoly w
              expectStatus again 200 "claim again"
              Expect.equal (again.Json.GetProperty("uuid").GetString()) m "claimed again"
              let audit = w.Admin.Get "/admin/audit"
              Expect.isTrue (audit.Json.GetProperty("ok").GetBoolean()) audit.Body
          } ]

/// A SQLite store written before request_methods existed: the broker migrates it at startup.
let private migration (f: StoreFactory) =
    test "a store from before the per-method index is migrated at startup and claims find its requests" {
        let store = f.Make "migrate"
        let before = World.create store "--limitations off"
        let older = [ for _ in 1..70 -> post before [ "two_electrode" ] ]
        let m = post before [ "polynomial_interpolation" ]
        before.Broker.Kill()
        // Back to the schema of before: no request_methods table, no migration mark.
        let undo =
            [ "DROP TABLE request_methods"
              "DELETE FROM settings WHERE key = 'schema_request_methods'" ]

        execRaw store undo |> ignore

        use broker = (new BrokerProcess(store, "--quiet --limitations off")).Start()
        let a = Api.Login(broker.Url, "alice", "alice-pw")

        let listed =
            a.Get("/pending_requests/?quantity=conductivity&method=two_electrode").Json
            |> uuids

        Expect.equal listed older "the migrated store lists the older requests by method"

        let c =
            a.Post("/requests/claim?quantity=conductivity&method=polynomial_interpolation")

        expectStatus c 200 "claim after migration"
        Expect.equal (c.Json.GetProperty("uuid").GetString()) m "the match behind 70 others"
    }

/// Peak resident memory of a process in MB (VmHWM).
let private peakRssMb (pid: int) =
    File.ReadAllLines(sprintf "/proc/%d/status" pid)
    |> Array.pick (fun l ->
        if l.StartsWith "VmHWM:" then
            Some(float (l.Substring(6).Trim().Split(' ').[0]) / 1024.0)
        else
            None)

let private lists (f: StoreFactory) =
    test "40,000 stored requests are streamed by /all_requests/ in bounded memory, equal to their pages" {
        let n = 40000
        let store = f.Make "lists"
        let tenant = Guid.NewGuid()
        let request = jsonNode polyRequestTemplate
        request["tenant_uuid"] <- JsonValue.Create(tenant.ToString "D")

        let result =
            jsonNode (Finales.Tests.RepoData.readCorpus "examples/results/conductivity/polynomial_interpolation.json")

        result["tenant_uuid"] <- JsonValue.Create(tenant.ToString "D")
        result["request_uuid"] <- JsonValue.Create "REQUEST_UUID"

        do
            use s =
                match store with
                | Sqlite p -> Finales.Broker.SqlBrokerStore.OpenSqlite p
                | Postgres cs -> Finales.Broker.SqlBrokerStore.OpenPostgres cs

            s.Preload(
                n,
                request.ToJsonString(),
                result.ToJsonString(),
                tenant,
                "conductivity",
                "polynomial_interpolation",
                ignore
            )

        use broker = (new BrokerProcess(store, "--quiet")).Start()
        let admin = Api.Login(broker.Url, "admin", adminPassword)
        // Warm up the route (JIT, connection pools) before the peak is taken.
        expectStatus (admin.Get "/all_requests/?limit=10") 200 "warm-up page"
        let peakBefore = peakRssMb broker.Pid
        let all = admin.Get "/all_requests/"
        let growth = peakRssMb broker.Pid - peakBefore
        expectStatus all 200 "all requests"
        let items = all.Json
        Expect.equal (items.GetArrayLength()) n "every stored request"

        // Streaming costs a fixed ~60-90 MB (garbage between collections, buffers) whatever the list's length;
        // building the answer in memory cost ~9.5 KB per request (380 MB here, 955 MB for 100,000).
        Expect.isLessThan
            growth
            150.0
            (sprintf "peak memory grew by %.0f MB serving %d requests (%d bytes)" growth n all.Body.Length)

        for x in items.EnumerateArray() do
            Expect.equal (x.GetProperty("status").GetString()) "resolved" "status"

        Expect.isTrue
            (JsonNode.DeepEquals(JsonNode.Parse(items[n - 1].GetProperty("request").GetRawText()), request))
            "the stored request body"

        // The same list in pages of 15,000 (the last one short), each after the previous page's last uuid.
        let rec pages (after: string option) acc =
            let page =
                admin.Get(
                    "/all_requests/?limit=15000"
                    + (after |> Option.map (sprintf "&after=%s") |> Option.defaultValue "")
                )

            expectStatus page 200 "page"
            let ids = uuids page.Json

            if ids.IsEmpty then
                List.rev acc |> List.concat
            else
                pages (Some(List.last ids)) (ids :: acc)

        Expect.equal (pages None []) (uuids items) "pages concatenate to the whole list"

        let bad = admin.Get "/all_requests/?limit=0"
        expectStatus bad 422 "limit 0"
        Expect.stringContains bad.Body "limit" "names the parameter"

        let unknown =
            admin.Get(sprintf "/all_requests/?after=%s" (Guid.NewGuid().ToString "D"))

        expectStatus unknown 422 "unknown after"

        let results = admin.Get "/results_requested/?limit=3"
        expectStatus results 200 "a page of results"
        Expect.equal (results.Json.GetArrayLength()) 3 "three results"
    }

let private waiting (f: StoreFactory) (w: Lazy<World>) =
    test "a long-polling waiter wakes on a matching post, not on a non-matching one, and returns at its deadline" {
        let w = w.Value
        // Nothing of ours pending: the claims tests before left polynomial requests claimed.
        while (claimPoly w).Status = 200 do
            ()

        let wakeupsBefore = metric w "finales_pending_waiter_wakeups_total"

        let waiter =
            Task.Run(fun () ->
                w.B.Get("/pending_requests/?quantity=conductivity&method=polynomial_interpolation&wait_seconds=30"))

        waitUntil 20.0 "the waiter to register" (fun () -> metric w "finales_pending_waiters" >= 1.0)

        for _ in 1..5 do
            post w [ "two_electrode" ] |> ignore

        Expect.isFalse waiter.IsCompleted "not answered after requests of another method"
        let m = post w [ "polynomial_interpolation" ]
        let r = waiter.Result
        expectStatus r 200 "the waiter's answer"
        Expect.equal (uuids r.Json) [ m ] "the matching request"

        Expect.equal
            (metric w "finales_pending_waiter_wakeups_total" - wakeupsBefore)
            1.0
            "woken once, by the matching post only"

        expectStatus (claimPoly w) 200 "claim it"
        let sw = Diagnostics.Stopwatch.StartNew()

        let empty =
            w.B.Get("/pending_requests/?quantity=conductivity&method=polynomial_interpolation&wait_seconds=1")

        expectStatus empty 200 "deadline"
        Expect.equal (empty.Json.GetArrayLength()) 0 "nothing"
        Expect.isGreaterThanOrEqual sw.Elapsed.TotalSeconds 0.9 "answered at its deadline, not before"
    }

let private adminRaces (f: StoreFactory) (w: Lazy<World>) =
    test "60 concurrent identical creates of a user and of a tenant: exactly one 201, the rest 409, no 500" {
        let w = w.Value

        let hammer (path: string) (body: string) =
            [| for _ in 1..60 -> Task.Run(fun () -> w.Admin.Post(path, body).Status) |]
            |> Task.WhenAll
            |> fun t -> t.Result |> Array.countBy id |> Map.ofArray

        let name = "racer-" + Guid.NewGuid().ToString("N").Substring(0, 8)

        let users =
            hammer "/admin/users" (sprintf """{"username":"%s","password":"pw-%s","roles":["observer"]}""" name name)

        Expect.equal users (Map [ 201, 1; 409, 59 ]) "user creates"
        let uuid = Guid.NewGuid().ToString "D"

        let tenants =
            hammer
                "/admin/tenants"
                (sprintf """{"name":"racer","uuid":"%s","limitations":[],"contact_person":"t"}""" uuid)

        Expect.equal tenants (Map [ 201, 1; 409, 59 ]) "tenant creates"
    }

/// Several replicas started at once on one empty PostgreSQL database.
let private replicas (f: StoreFactory) =
    test "three brokers started at once on one empty database all come up, with one admin and a clean audit" {
        let store = f.Make "replicas"

        let brokers = [| for _ in 1..3 -> new BrokerProcess(store, "--quiet") |]

        try
            [| for b in brokers -> Task.Run(fun () -> b.Start() |> ignore) |]
            |> Task.WaitAll

            for b in brokers do
                let admin = Api.Login(b.Url, "admin", adminPassword)
                let audit = admin.Get "/admin/audit"
                Expect.isTrue (audit.Json.GetProperty("ok").GetBoolean()) audit.Body

            let users =
                Api.Login(brokers[0].Url, "admin", adminPassword).Get("/admin/users").Json

            Expect.equal (users.GetArrayLength()) 1 "one admin user"
        finally
            for b in brokers do
                (b :> IDisposable).Dispose()
    }

/// PostgreSQL: the group commit as an operator sees it on /metrics (SQLite's writer has its own counters, see checkpoints).
let private groupMetrics (w: Lazy<World>) =
    test "the group commit of writes that need no read is counted on /metrics" {
        let w = w.Value
        let groups = metric w "finales_postgres_write_groups_total"
        let writes = metric w "finales_postgres_grouped_writes_total"
        let rolledBack = metric w "finales_postgres_write_groups_rolled_back_total"
        // Twenty request posts at once: each needs no read, so each goes through the group.
        Task.WaitAll([| for _ in 1..20 -> Task.Run(fun () -> w.NewRequest() |> ignore) |])
        let newWrites = metric w "finales_postgres_grouped_writes_total" - writes
        Expect.isGreaterThanOrEqual newWrites 20.0 "every post counted"
        let newGroups = metric w "finales_postgres_write_groups_total" - groups
        Expect.isGreaterThan newGroups 0.0 "groups committed"
        Expect.isLessThanOrEqual newGroups newWrites "no more groups than writes"

        Expect.equal (metric w "finales_postgres_write_groups_rolled_back_total") rolledBack "no group failed"
        Expect.isFalse ((w.Admin.Get "/metrics").Body.Contains "finales_sqlite_") "no SQLite counters on PostgreSQL"
    }

let suite (f: StoreFactory) (w: Lazy<World>) =
    testSequenced
    <| testList
        "store"
        ([ claims f w
           waiting f w
           adminRaces f w
           migration f
           lists f
           StoreFailureTests.startup f ]
         @ StoreClockTests.tests f
         @ CatalogCacheTests.tests f
         @ (if f.Name = "postgres" then
                replicas f :: groupMetrics w :: StoreRecallTests.tests f
                @ StoreGroupTests.tests f
            else
                [ StoreFailureTests.fullDisk f ]))
