/// PostgreSQL's group commit of lifecycle writes (PostgresWriteGroup): writes that need no read wait while a group is in
/// flight and go together in one implicit transaction; a group one of whose writes fails is rolled back and its writes
/// run one by one, so each answers for itself and none fails because of another.
module Finales.Integration.Tests.StoreGroupTests

open System
open System.Threading.Tasks
open Expecto
open Npgsql
open Finales.Core.Interop
open Finales.Broker
open Finales.Integration.Tests.Harness
open Finales.Integration.Tests.World

let private await (t: Task<'T>) = t.GetAwaiter().GetResult()

let private connectionString (f: StoreFactory) name =
    match f.Make name with
    | Postgres cs -> cs
    | Sqlite _ -> failtest "group commit is PostgreSQL's (SQLite's single writer groups its own way)"

let private exec (cs: string) (sql: string) = execRaw (Postgres cs) [ sql ] |> ignore

/// The integers of a one-column query, in its order.
let private ints (cs: string) (sql: string) =
    use c = new NpgsqlConnection(cs)
    c.Open()
    use cmd = new NpgsqlCommand(sql, c)
    use r = cmd.ExecuteReader()

    [ while r.Read() do
          r.GetInt32 0 ]

/// The aggregate id a test write orders by: n in its first field, so ids compare as their n.
let private key (n: int) =
    Guid(sprintf "%08x-0000-0000-0000-000000000000" n)

let private queuedAs (k: Guid) (group: PostgresWriteGroup) (statements: (string * obj array) list) =
    group.CommitAsync(k, [| for sql, args in statements -> struct (sql, args) |])

let private queued group statements = queuedAs Guid.Empty group statements

let private insert (v: int) =
    "INSERT INTO t (v) VALUES (@p0)", [| box v |]

let private oneGroupWithAFailure (f: StoreFactory) =
    test "writes queued behind a group in flight go as one group; one failing write is rolled back alone" {
        let cs = connectionString f "group_unit"
        exec cs "CREATE TABLE t (v INTEGER NOT NULL CHECK (v <> 3))"
        use source = NpgsqlDataSource.Create cs
        // One group in flight at a time: the first write holds it for 300 ms while the others queue behind it.
        let group = PostgresWriteGroup(source)
        let first = queued group [ "SELECT pg_sleep(0.3)", [||]; insert 0 ]
        let rest = [ for v in 1..5 -> v, queued group [ insert v; insert (10 * v) ] ]
        first.GetAwaiter().GetResult()

        for v, t in rest do
            if v = 3 then
                let e = Expect.throwsC (fun () -> t.GetAwaiter().GetResult()) (fun (e: exn) -> e)

                match e with
                | :? PostgresException as p -> Expect.equal p.SqlState "23514" "its own failure: the check constraint"
                | other -> failtestf "expected the write's own PostgreSQL error, got %O" other
            else
                t.GetAwaiter().GetResult()

        let stored = ints cs "SELECT v FROM t ORDER BY v"

        Expect.equal
            stored
            [ 0; 1; 2; 4; 5; 10; 20; 40; 50 ]
            "every write but the failing one, each whole; nothing of it"

        let counts = group.Counts
        Expect.equal counts.RolledBack 1L "the group of five was rolled back once"
        // The first group, then the four good writes run alone after the rollback (the failing one commits nothing).
        Expect.equal (counts.Groups, counts.Writes) (5L, 5L) "groups and writes committed"
    }

let private orderedByAggregate (f: StoreFactory) =
    test "a group's writes go in the order of their aggregates' ids, one aggregate's in their order of arrival" {
        let cs = connectionString f "group_order"
        exec cs "CREATE TABLE o (seq BIGINT GENERATED ALWAYS AS IDENTITY, v INTEGER NOT NULL)"
        use source = NpgsqlDataSource.Create cs
        let group = PostgresWriteGroup(source)
        let first = queued group [ "SELECT pg_sleep(0.3)", [||] ]
        // Queued behind it (so one group), arriving out of order: v 10 and 11 are writes on the aggregate of 3.
        let rest =
            [ for v, k in [ 5, 5; 4, 4; 3, 3; 10, 3; 11, 3; 2, 2; 1, 1 ] ->
                  queuedAs (key k) group [ "INSERT INTO o (v) VALUES (@p0)", [| box v |] ] ]

        first.GetAwaiter().GetResult()

        for t in rest do
            t.GetAwaiter().GetResult()

        let order = ints cs "SELECT v FROM o ORDER BY seq"

        Expect.equal order [ 1; 2; 3; 10; 11; 4; 5 ] "by aggregate id; 3, 10 and 11 as they arrived"
        Expect.equal group.Counts.Groups 2L "the first write, then the seven as one group"
    }

let private lab (tenant: Guid) =
    UserRecord("lab", "unused", [| "tenant" |], [| tenant |], true)

let private concurrentWithAStaleOne (f: StoreFactory) =
    test "concurrent reservations through one store: each is decided on its own, a stale one among them included" {
        let cs = connectionString f "group_store"
        use a = SqlBrokerStore.OpenPostgres(cs, TimeProvider.System)
        use b = SqlBrokerStore.OpenPostgres(cs, TimeProvider.System)
        let tenant = Guid.NewGuid()
        // a posts them and remembers them pending; b reserves one, so what a remembers of it is out of date.
        let ids =
            [ for _ in 1..12 -> await (a.PostRequestAsync(StoreClockTests.requestOf tenant, lab tenant)) ]

        let stale = ids[5]

        let byB =
            await (
                b.ExecuteAsync(
                    stale,
                    lab tenant,
                    Nullable tenant,
                    LifecycleCommand.Reserve(Nullable tenant, 30.0),
                    "by b"
                )
            )

        Expect.equal byB.StatusName "reserved" "reserved through b"

        let before = (a :?> PostgresBrokerStore).WriteGroups

        let outcomes =
            [ for rid in ids ->
                  rid,
                  a.ExecuteAsync(
                      rid,
                      lab tenant,
                      Nullable tenant,
                      LifecycleCommand.Reserve(Nullable tenant, 30.0),
                      "by a"
                  ) ]

        for rid, t in outcomes do
            if rid = stale then
                match Expect.throwsC (fun () -> await t |> ignore) (fun (e: exn) -> e) with
                | :? LifecycleRejectedException as e ->
                    Expect.equal e.Kind LifecycleErrorKind.Conflict "refused on the stored state"
                | other -> failtestf "expected a lifecycle rejection, got %O" other
            else
                Expect.equal (await t).StatusName "reserved" "reserved through a"

        let after = (a :?> PostgresBrokerStore).WriteGroups
        Expect.isGreaterThanOrEqual (after.Writes - before.Writes) 11L "the eleven reservations were committed"
        Expect.isEmpty (await (a.AuditAsync())) "the log replays to the stored state"

        for rid in ids do
            let kinds = [ for e in await (a.HistoryAsync rid) -> e.Kind ]
            Expect.equal kinds [ "created"; "reserved" ] (sprintf "one reservation of %O, none twice, none lost" rid)
    }

let tests (f: StoreFactory) =
    [ oneGroupWithAFailure f; orderedByAggregate f; concurrentWithAStaleOne f ]
