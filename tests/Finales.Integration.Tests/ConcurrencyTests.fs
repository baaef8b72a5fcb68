/// Exactly-once claims under contention (16 tenants, 2,000 requests; SQLite, and two broker processes
/// sharing PostgreSQL) and crash safety (kill -9 under load, restart, nothing lost or half-written).
module Finales.Integration.Tests.ConcurrencyTests

open System
open System.Collections.Concurrent
open System.Threading
open System.Threading.Tasks
open Expecto
open Finales.Integration.Tests.Harness
open Finales.Integration.Tests.World

let private requestCount = 2000
let private workers = 16

/// Posts `n` requests with 8 parallel posters.
let private fill (w: World) (n: int) =
    Parallel.For(0, n, ParallelOptions(MaxDegreeOfParallelism = 8), fun _ -> w.NewRequest() |> ignore)
    |> ignore

/// 16 workers drain the queue, half with the one-round-trip claim, half with the stock pending + reserve
/// path, each against one of `urls`; every worker posts a result for what it got. Returns the processed ids.
let private drain (w: World) (urls: string list) =
    let processed = ConcurrentBag<string * int>()
    // The claim path is much cheaper than listing 2,000 pending requests, so it could drain the queue before the
    // stock path got anything: claimers start once the stock path has processed a few, then both race to the end.
    use stockPathGoing = new ManualResetEventSlim(false)
    let stockProcessed = [| 0 |]

    let worker (i: int) =
        task {
            let url = urls[i % urls.Length]

            let api, tenant =
                if i % 2 = 0 then
                    Api.Login(url, "alice", "alice-pw"), w.TenantA
                else
                    Api.Login(url, "bob", "bob-pw"), w.TenantB

            let mutable finished = false

            if i % 4 < 2 then
                stockPathGoing.Wait(TimeSpan.FromSeconds 60.0) |> ignore

            while not finished do
                if i % 4 < 2 then
                    let c =
                        api.Post(
                            "/requests/claim?quantity=conductivity&method=polynomial_interpolation&lease_seconds=600"
                        )

                    match c.Status with
                    | 204 -> finished <- true
                    | 200 ->
                        let id = c.Json.GetProperty("uuid").GetString()
                        expectStatus (api.Post("/results/", w.PolyResult(tenant, id))) 200 "result after claim"
                        processed.Add((id, i))
                    | s -> failtestf "claim answered %d: %s" s c.Body
                else
                    let pending =
                        api.Get("/pending_requests/?quantity=conductivity&method=polynomial_interpolation").Json

                    if pending.GetArrayLength() = 0 then
                        finished <- true
                    else
                        // Start at a worker-specific offset, like independent tenants would.
                        let n = pending.GetArrayLength()
                        let id = pending[(i * 7) % n].GetProperty("uuid").GetString()

                        let r =
                            api.Post(sprintf "/requests/%s/update_status/?request_id=%s&new_status=reserved" id id)

                        match r.Status with
                        | 200 ->
                            expectStatus (api.Post("/results/", w.PolyResult(tenant, id))) 200 "result after reserve"
                            processed.Add((id, i))

                            if Interlocked.Increment(&stockProcessed.[0]) >= 16 then
                                stockPathGoing.Set()
                        | 409 -> ()
                        | s -> failtestf "reserve answered %d: %s" s r.Body
        }

    try
        Task.WaitAll([| for i in 0 .. workers - 1 -> Task.Run(fun () -> worker i :> Task) |])
    finally
        stockPathGoing.Set()

    processed |> Seq.toList

let private checkExactlyOnce (w: World) (processed: (string * int) list) =
    let ids = processed |> List.map fst
    Expect.equal (List.length ids) requestCount "every request processed"
    Expect.equal (ids |> List.distinct |> List.length) requestCount "no request processed twice"

    Expect.isTrue
        (processed |> List.exists (fun (_, i) -> i % 4 < 2))
        "the one-round-trip claim path processed requests"

    Expect.isTrue
        (processed |> List.exists (fun (_, i) -> i % 4 >= 2))
        "the stock pending + reserve path processed requests"

    let results =
        w.Admin.Get("/results_requested/?quantity=conductivity&method=polynomial_interpolation").Json

    let perRequest =
        [ for r in results.EnumerateArray() -> r.GetProperty("result").GetProperty("request_uuid").GetString() ]
        |> List.countBy id

    Expect.isTrue (perRequest |> List.forall (fun (_, n) -> n = 1)) "one result per request"
    Expect.equal (w.Admin.Get("/pending_requests/").Json.GetArrayLength()) 0 "queue empty"
    let audit = w.Admin.Get "/admin/audit"
    Expect.isTrue (audit.Json.GetProperty("ok").GetBoolean()) audit.Body

let exactlyOnce (f: StoreFactory) (secondProcess: bool) =
    test (
        sprintf
            "%s: %d tenants claim from one queue of %d requests%s: each processed exactly once"
            f.Name
            workers
            requestCount
            (if secondProcess then
                 " through two broker processes"
             else
                 "")
    ) {
        use w = World.create (f.Make "contention") ""
        fill w requestCount

        let urls =
            if secondProcess then
                let second = (new BrokerProcess(w.Broker.Store, "--quiet")).Start()
                [ w.Url; second.Url ], Some second
            else
                [ w.Url ], None

        try
            checkExactlyOnce w (drain w (fst urls))
        finally
            snd urls |> Option.iter (fun p -> p.Kill())
    }

let crashSafety (f: StoreFactory) =
    test (
        sprintf
            "%s: kill -9 under load, five times: every 2xx write survives, nothing half-written, expired leases return"
            f.Name
    ) {
        use w = World.create (f.Make "crash") "--lease-seconds 600"
        let acknowledged = ConcurrentBag<string>()
        let reserved = ConcurrentBag<string>()
        use stop = new CancellationTokenSource()

        let load (i: int) =
            task {
                let api = if i = 0 then w.B else w.A

                while not stop.IsCancellationRequested do
                    try
                        if i = 0 then
                            // a tenant that claims with a short lease and then "crashes" (never posts)
                            let r =
                                api.Post(
                                    "/requests/claim?quantity=conductivity&method=polynomial_interpolation&lease_seconds=2"
                                )

                            if r.Status = 200 then
                                reserved.Add(r.Json.GetProperty("uuid").GetString())
                        else
                            let r = api.Post("/requests/", w.PolyRequest w.TenantA)

                            if r.Status = 200 then
                                acknowledged.Add r.String
                            elif r.Status >= 500 then
                                failtestf "5xx under load: %d %s" r.Status r.Body
                    with
                    // The broker is being killed: any transport failure (refused, reset, half-open socket) is expected.
                    | e when not (e :? AssertException) ->
                        do! Task.Delay 20
            }

        let tasks = [| for i in 0..4 -> Task.Run(fun () -> load i :> Task) |]

        for _ in 1..5 do
            Thread.Sleep 1200
            w.Broker.Kill()
            Thread.Sleep 200
            w.Broker.Start() |> ignore

        Thread.Sleep 500
        stop.Cancel()
        Task.WaitAll tasks
        Expect.isGreaterThan acknowledged.Count 50 "the load wrote something"

        for id in acknowledged do
            Expect.notEqual (w.A.Get("/requests/" + id).Body) "null" (sprintf "acknowledged request %s survived" id)

        let audit = w.Admin.Get "/admin/audit"
        Expect.isTrue (audit.Json.GetProperty("ok").GetBoolean()) ("log replays to the state: " + audit.Body)
        // Real time on purpose: this broker is a separate process (killed with kill -9 above, which an in-process
        // broker cannot be), so its clock cannot be faked. The 2 s leases run out, and the broker's sweep (every
        // second) puts them back; polled rather than slept on, so a loaded machine only takes longer.
        let stillReserved () =
            reserved
            |> Seq.filter (fun id -> w.A.Get("/requests/" + id).Json.GetProperty("status").GetString() = "reserved")
            |> Seq.length

        Expect.isGreaterThan reserved.Count 0 "some requests were claimed before the kills"
        waitUntil 20.0 "every expired lease went back to pending" (fun () -> stillReserved () = 0)
    }

/// SQLite: the writer never checkpoints in line (its automatic checkpoint only backs up a WAL of 20,000 pages), so
/// this fails unless the background checkpointer copies committed pages into the database file.
let checkpoints (f: StoreFactory) =
    test (sprintf "%s: committed writes reach the database file in the background, not only the WAL" f.Name) {
        use w = World.create (f.Make "checkpoint") ""

        match w.Broker.Store with
        | Sqlite path ->
            let size () = IO.FileInfo(path).Length
            let before = size ()
            fill w 1000

            waitUntil 5.0 "the database file grows by the requests' pages" (fun () -> size () > before + 1_000_000L)

            // The same activity, as an operator sees it on /metrics.
            let commits = metric w "finales_sqlite_commits_total"
            Expect.isGreaterThan commits 0.0 "commits counted"
            Expect.isGreaterThanOrEqual (metric w "finales_sqlite_write_jobs_total") 1000.0 "every write counted"
            Expect.isGreaterThan (metric w "finales_sqlite_checkpoints_total") 0.0 "background checkpoints counted"
        | Postgres _ -> failtest "a SQLite-only test was given a PostgreSQL store"
    }

/// SQLite: `finales admin backup` copies the store of a running broker under write load, consistently.
let backup (f: StoreFactory) =
    test (
        sprintf
            "%s: admin backup of a running broker under load: the copy audits clean and holds every acknowledged request"
            f.Name
    ) {
        use w = World.create (f.Make "backup") ""

        match w.Broker.Store with
        | Sqlite path ->
            let acknowledged = [ for _ in 1..200 -> w.NewRequest() ]
            use stop = new CancellationTokenSource()

            let load =
                Task.Run(fun () ->
                    while not stop.IsCancellationRequested do
                        w.NewRequest() |> ignore)

            let copy = IO.Path.Combine(tempDir "backup", "copy.db")

            let code, out =
                run
                    "dotnet"
                    (sprintf "\"%s\" admin --db \"%s\" backup --to \"%s\"" cliDll path copy)
                    [ "FINALES_ADMIN_PASSWORD", adminPassword ]

            stop.Cancel()
            load.Wait()
            Expect.equal code 0 (sprintf "finales admin backup: %s" out)
            Expect.stringContains out "backup of SQLite" "the command says what it copied"

            let again, refusal =
                run "dotnet" (sprintf "\"%s\" admin --db \"%s\" backup --to \"%s\"" cliDll path copy) []

            Expect.notEqual again 0 "a second backup to the same file is refused"
            Expect.stringContains refusal "never overwrites" "and says why"

            use store = Finales.Broker.SqlBrokerStore.OpenSqlite copy
            Expect.isEmpty (store.AuditAsync().Result) "the copy replays to its stored state"

            let inCopy =
                store.StreamAllRequestsAsync(0L, Nullable()).ToBlockingEnumerable()
                |> Seq.map (fun r -> r.Uuid.ToString("D"))
                |> Set.ofSeq

            for id in acknowledged do
                Expect.isTrue
                    (inCopy.Contains id)
                    (sprintf "request %s acknowledged before the backup is in the copy" id)
        | Postgres _ -> failtest "a SQLite-only test was given a PostgreSQL store"
    }
