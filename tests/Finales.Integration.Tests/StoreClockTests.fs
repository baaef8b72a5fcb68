/// The store port itself, opened in-process on each store: lease expiry follows the store's injected clock (a fake
/// one here, advanced instead of slept on), and refusals are domain outcomes, not HTTP errors.
module Finales.Integration.Tests.StoreClockTests

open System
open System.Text.Json
open Expecto
open Microsoft.Extensions.Time.Testing
open Finales.Core
open Finales.Core.Interop
open Finales.Broker
open Finales.Integration.Tests.Harness
open Finales.Integration.Tests.World

let private openOn (f: StoreFactory) (name: string) (clock: TimeProvider) : SqlBrokerStore =
    match f.Make name with
    | Sqlite path -> SqlBrokerStore.OpenSqlite(path, clock)
    | Postgres cs -> SqlBrokerStore.OpenPostgres(cs, clock)

let private await (t: Threading.Tasks.Task<'T>) = t.GetAwaiter().GetResult()

/// A polynomial-interpolation conductivity request of `tenant`, decoded as the broker decodes a posted one.
let requestOf (tenant: Guid) : RequestBody =
    let n = jsonNode polyRequestTemplate
    n["tenant_uuid"] <- Nodes.JsonValue.Create(tenant.ToString "D")
    use doc = JsonDocument.Parse(n.ToJsonString())

    match Wire.request [] doc.RootElement with
    | Ok body -> body
    | Error issues -> failtestf "the corpus request does not decode: %A" issues

let private lab (tenant: Guid) =
    UserRecord("lab", "unused", [| "tenant" |], [| tenant |], true)

let private leaseOnFakeClock (f: StoreFactory) =
    test
        "a lease runs out on the store's clock: advancing a fake clock past its end (not before) returns the request to pending" {
        let clock = FakeTimeProvider(DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero))
        use store = openOn f "clock" clock
        let tenant = Guid.NewGuid()
        let user = lab tenant
        let id = await (store.PostRequestAsync(requestOf tenant, user))

        let claimed =
            await (store.ClaimAsync("conductivity", "polynomial_interpolation", user, Nullable tenant, 30.0))

        Expect.equal claimed.Uuid id "the request is claimed"
        Expect.equal (await (store.ExpireLeasesAsync(true))) 0 "a fresh lease does not expire"
        clock.Advance(TimeSpan.FromSeconds 29.0)
        Expect.equal (await (store.ExpireLeasesAsync(true))) 0 "nor one second before its end"

        let state =
            await (store.ExecuteAsync(id, user, Nullable tenant, LifecycleCommand.Heartbeat 60.0, "heartbeat"))

        Expect.equal
            state.LeaseUntil
            (Nullable(clock.GetUtcNow().UtcDateTime.AddSeconds 60.0))
            "a heartbeat extends the lease from the store's now"

        clock.Advance(TimeSpan.FromSeconds 31.0)
        Expect.equal (await (store.ExpireLeasesAsync(true))) 0 "past the first end, the extended lease still holds"
        Expect.equal (await (store.RequestAsync id)).Status "reserved" "still reserved"
        clock.Advance(TimeSpan.FromSeconds 30.0)
        Expect.equal (await (store.ExpireLeasesAsync(true))) 1 "past the extended end, the lease expires"
        Expect.equal (await (store.RequestAsync id)).Status "pending" "back to pending"
        let history = await (store.HistoryAsync id)
        let last = history[history.Count - 1]
        Expect.equal last.Kind "lease_expired" "one lease_expired event"

        Expect.equal
            last.Time
            (WireFormat.ctime (clock.GetUtcNow().UtcDateTime))
            "stamped with the store's clock, not the machine's"

        Expect.isEmpty (await (store.AuditAsync())) "the log replays to the stored state"
    }

let private refusals (f: StoreFactory) =
    test "the store refuses with lifecycle outcomes (kind and message), never with HTTP errors" {
        use store = openOn f "refusals" TimeProvider.System
        let tenant = Guid.NewGuid()
        let user = lab tenant
        let id = await (store.PostRequestAsync(requestOf tenant, user))

        let conflict =
            Expect.throwsC
                (fun () ->
                    await (store.ExecuteAsync(id, user, Nullable tenant, LifecycleCommand.Release, ""))
                    |> ignore)
                (fun (e: exn) -> e)

        match conflict with
        | :? LifecycleRejectedException as e ->
            Expect.equal e.Kind LifecycleErrorKind.Conflict "releasing a pending request is a conflict"
            Expect.equal e.Message (sprintf "request %O is already pending" id) "the core's message"
        | other -> failtestf "expected a lifecycle rejection, got %O" other

        let missing = Guid.NewGuid()

        let notFound =
            Expect.throwsC
                (fun () ->
                    (store.SetResultStatusAsync(missing, user, ResultStatusCode.Deleted, "")).GetAwaiter().GetResult())
                (fun (e: exn) -> e)

        match notFound with
        | :? LifecycleRejectedException as e ->
            Expect.equal e.Kind LifecycleErrorKind.NotFound "an unknown result is not found"
            Expect.equal e.Message (sprintf "result %O not found" missing) "naming the result"
        | other -> failtestf "expected a lifecycle rejection, got %O" other
    }

let private auditFlags (f: StoreFactory) =
    test "the audit finds a method row whose pending flag disagrees with its request's status (the listings walk them)" {
        let kind = f.Make "flags"

        let store =
            match kind with
            | Sqlite path -> SqlBrokerStore.OpenSqlite path
            | Postgres cs -> SqlBrokerStore.OpenPostgres cs

        use store = store
        let tenant = Guid.NewGuid()
        let user = lab tenant
        let id = await (store.PostRequestAsync(requestOf tenant, user))
        Expect.isEmpty (await (store.AuditAsync())) "a fresh pending request audits clean"

        let changed =
            execRaw kind [ sprintf "UPDATE request_methods SET pending = 0 WHERE uuid = '%O'" id ]

        Expect.equal changed [ 1 ] "one method row damaged"

        Expect.equal
            (List.ofSeq (await (store.AuditAsync())))
            [ "1 request method rows flagged pending against their request's status" ]
            "the audit names it"
    }

let tests (f: StoreFactory) =
    [ leaseOnFakeClock f; refusals f; auditFlags f ]
