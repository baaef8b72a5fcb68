/// Two store instances on one PostgreSQL database, as two broker processes share it. Each remembers the aggregates it
/// wrote and decides its next write on them behind a version guard; these tests change a request through the other
/// store in between, so what the first remembers is out of date, and check that its write is decided on the stored
/// state all the same: a write the stale state would accept is refused, one it would refuse is made.
module Finales.Integration.Tests.StoreRecallTests

open System
open Expecto
open Microsoft.Extensions.Time.Testing
open Finales.Core.Interop
open Finales.Broker
open Finales.Integration.Tests.Harness
open Finales.Integration.Tests.World

let private await (t: Threading.Tasks.Task<'T>) = t.GetAwaiter().GetResult()

/// Two stores on one fresh database of `f`, sharing `clock`.
let private twoStores (f: StoreFactory) (name: string) (clock: TimeProvider) =
    match f.Make name with
    | Postgres cs -> SqlBrokerStore.OpenPostgres(cs, clock), SqlBrokerStore.OpenPostgres(cs, clock)
    | Sqlite _ -> failtest "the version guard is PostgreSQL's: two broker processes share a database there"

let private lab (tenant: Guid) =
    UserRecord("lab", "unused", [| "tenant" |], [| tenant |], true)

let private reserve (store: SqlBrokerStore) id (tenant: Guid) =
    store.ExecuteAsync(id, lab tenant, Nullable tenant, LifecycleCommand.Reserve(Nullable tenant, 30.0), "reserve")

let private staleAccept (f: StoreFactory) =
    test "a reservation decided on a remembered pending state that another process reserved meanwhile is refused" {
        let a, b = twoStores f "recall_accept" TimeProvider.System

        use a = a
        use b = b
        let tenant = Guid.NewGuid()
        // a posts the request and remembers it pending.
        let id = await (a.PostRequestAsync(StoreClockTests.requestOf tenant, lab tenant))
        let byB = await (reserve b id tenant)
        Expect.equal byB.StatusName "reserved" "reserved through the other store"

        let refusal =
            Expect.throwsC (fun () -> await (reserve a id tenant) |> ignore) (fun (e: exn) -> e)

        match refusal with
        | :? LifecycleRejectedException as e ->
            Expect.equal e.Kind LifecycleErrorKind.Conflict "a conflict, decided on the stored state"
            Expect.stringContains e.Message "already reserved" "the stored state's reason"
        | other -> failtestf "expected a lifecycle rejection, got %O" other

        let history = await (a.HistoryAsync id)
        Expect.equal [ for e in history -> e.Kind ] [ "created"; "reserved" ] "one reservation, none written twice"
        Expect.isEmpty (await (a.AuditAsync())) "the log replays to the stored state"
    }

let private staleRefuse (f: StoreFactory) =
    test "a reservation a remembered reserved state would refuse is made when the lease ran out in another process" {
        let clock = FakeTimeProvider(DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero))
        let a, b = twoStores f "recall_refuse" clock
        use a = a
        use b = b
        let tenant = Guid.NewGuid()
        let id = await (a.PostRequestAsync(StoreClockTests.requestOf tenant, lab tenant))
        // a reserves it and remembers it reserved; the lease runs out and b returns it to pending.
        Expect.equal (await (reserve a id tenant)).Version 2 "reserved through a"
        clock.Advance(TimeSpan.FromSeconds 31.0)
        Expect.equal (await (b.ExpireLeasesAsync(true))) 1 "b expires the lease"
        let again = await (reserve a id tenant)
        Expect.equal again.StatusName "reserved" "reserved again through a, not refused as already reserved"
        Expect.equal again.Version 4 "after the expiry's version"
        let history = await (b.HistoryAsync id)

        Expect.equal
            [ for e in history -> e.Kind ]
            [ "created"; "reserved"; "lease_expired"; "reserved" ]
            "the stored history"

        Expect.isEmpty (await (b.AuditAsync())) "the log replays to the stored state"
    }

let tests (f: StoreFactory) = [ staleAccept f; staleRefuse f ]
