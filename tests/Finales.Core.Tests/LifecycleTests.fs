module Finales.Core.Tests.LifecycleTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Finales.Core

/// A step of a random session against the lifecycle: indices pick requests, results and actors.
type Step =
    | Post of requester: int * unsolicited: bool
    | Reserve of request: int * actor: int * lease: int
    | Heartbeat of request: int * actor: int * lease: int
    | Release of request: int * actor: int
    | Retract of request: int * actor: int
    | Resolve of request: int * actor: int
    | Expire of request: int
    | Result of request: int * actor: int
    | ResultStatus of request: int * result: int * actor: int * deleted: bool
    | Wait of seconds: int

let tenants =
    [| for i in 0..2 -> Guid(sprintf "00000000-0000-0000-0000-00000000000%d" (i + 1)) |]

/// Actors 0..2 act for tenants 0..2; actor 3 is an admin bound to no tenant.
let actor (i: int) : Actor =
    if i = 3 then
        { User = "admin"
          Tenants = []
          IsAdmin = true }
    else
        { User = sprintf "user%d" i
          Tenants = [ tenants[i] ]
          IsAdmin = false }

type Arbitraries =
    static member Steps() : Arbitrary<Step list> =
        let idx = Gen.choose (0, 5)
        let who = Gen.choose (0, 3)

        let step =
            Gen.frequency
                [ 4, Gen.map2 (fun r u -> Post(r, u)) (Gen.choose (0, 2)) (Gen.elements [ false; false; false; true ])
                  4, Gen.map3 (fun r a l -> Reserve(r, a, l)) idx who (Gen.choose (1, 20))
                  2, Gen.map3 (fun r a l -> Heartbeat(r, a, l)) idx who (Gen.choose (1, 20))
                  2, Gen.map2 (fun r a -> Release(r, a)) idx who
                  1, Gen.map2 (fun r a -> Retract(r, a)) idx who
                  1, Gen.map2 (fun r a -> Resolve(r, a)) idx who
                  2, Gen.map Expire idx
                  4, Gen.map2 (fun r a -> Result(r, a)) idx who
                  2,
                  Gen.map2
                      (fun (r, x) (a, d) -> ResultStatus(r, x, a, d))
                      (Gen.zip idx (Gen.choose (0, 2)))
                      (Gen.zip who (Gen.elements [ true; false ]))
                  2, Gen.map Wait (Gen.choose (1, 15)) ]

        Gen.listOf step |> Gen.resize 80 |> Arb.fromGen

let config =
    { FsCheckConfig.defaultConfig with
        maxTest = 300
        arbitrary = [ typeof<Arbitraries> ] }

/// The in-memory store the properties run against: aggregates, the log, the clock.
type Session =
    { States: Map<Guid, RequestAggregate>
      Order: Guid list
      Log: LifecycleEvent list
      Now: DateTime
      Accepted: int
      Refused: int }

let start =
    { States = Map.empty
      Order = []
      Log = []
      Now = DateTime(2026, 11, 25, 12, 0, 0, DateTimeKind.Utc)
      Accepted = 0
      Refused = 0 }

let private pick (s: Session) (i: int) =
    if s.Order.IsEmpty then
        None
    else
        Some s.Order[i % s.Order.Length]

/// The command a step means in the current session, with the actor and the request it targets.
let command (s: Session) (n: int) (step: Step) : (Guid * Actor * Guid option * Command) option =
    match step with
    | Post(r, unsolicited) ->
        Some(
            Guid(n, 0s, 0s, 0uy, 0uy, 0uy, 0uy, 0uy, 0uy, 0uy, 1uy),
            actor r,
            Some tenants[r],
            Create(tenants[r], unsolicited)
        )
    | Reserve(r, a, l) ->
        pick s r
        |> Option.map (fun id ->
            id, actor a, (actor a).Tenants |> List.tryHead, Command.Reserve((actor a).Tenants |> List.tryHead, float l))
    | Heartbeat(r, a, l) -> pick s r |> Option.map (fun id -> id, actor a, None, Command.Heartbeat(float l))
    | Release(r, a) -> pick s r |> Option.map (fun id -> id, actor a, None, Command.Release)
    | Retract(r, a) -> pick s r |> Option.map (fun id -> id, actor a, None, Command.Retract)
    | Resolve(r, a) -> pick s r |> Option.map (fun id -> id, actor a, None, Command.Resolve)
    | Expire r -> pick s r |> Option.map (fun id -> id, actor 3, None, ExpireLease)
    | Result(r, a) ->
        let tenant = if a = 3 then tenants[0] else tenants[a]

        pick s r
        |> Option.map (fun id ->
            id, actor a, Some tenant, PostResult(Guid(n, 1s, 0s, 0uy, 0uy, 0uy, 0uy, 0uy, 0uy, 0uy, 2uy), tenant))
    | ResultStatus(r, x, a, deleted) ->
        pick s r
        |> Option.bind (fun id ->
            let results = s.States[id].Results

            if results.IsEmpty then
                None
            else
                Some(
                    id,
                    actor a,
                    None,
                    SetResultStatus(results[x % results.Length].Id, (if deleted then Deleted else Amended))
                ))
    | Wait _ -> None

/// Runs one step; returns the new session. Invariants are checked by the caller.
let step (s: Session) (n: int) (st: Step) : Session =
    match st with
    | Wait secs ->
        { s with
            Now = s.Now.AddSeconds(float secs) }
    | _ ->
        match command s n st with
        | None -> s
        | Some(id, who, tenant, cmd) ->
            let state = Map.tryFind id s.States

            match Lifecycle.decide s.Now who state cmd with
            | Error _ -> { s with Refused = s.Refused + 1 }
            | Ok kind ->
                let ev =
                    { RequestId = id
                      Time = s.Now
                      Actor = who.User
                      Tenant = tenant
                      Message = ""
                      Kind = kind }

                { s with
                    States = s.States.Add(id, Lifecycle.evolve state ev)
                    Order = (if state.IsNone then s.Order @ [ id ] else s.Order)
                    Log = s.Log @ [ ev ]
                    Accepted = s.Accepted + 1 }

let private invariants (before: Session) (after: Session) =
    for KeyValue(id, a) in after.States do
        if (a.Status = Reserved) <> a.Holder.IsSome then
            failtestf "request %O: status %A with holder %A" id a.Status a.Holder

        let current = a.Results |> List.filter (fun r -> r.Status = Original) |> List.length

        if current > 1 then
            failtestf "request %O has %d current results" id current

        match before.States.TryFind id with
        | Some b when RequestStatus.isTerminal b.Status && b.Status <> a.Status ->
            failtestf "terminal %A became %A" b.Status a.Status
        | _ -> ()

        for r in a.Results do
            match
                before.States.TryFind id
                |> Option.bind (fun b -> b.Results |> List.tryFind (fun x -> x.Id = r.Id))
            with
            | Some old when old.Status <> Original && old.Status <> r.Status ->
                failtestf "terminal result status %A became %A" old.Status r.Status
            | _ -> ()

    if after.Log.Length < before.Log.Length then
        failtest "the log shrank"

    if List.take before.Log.Length after.Log <> before.Log then
        failtest "the log was rewritten"

    if after.Log.Length - before.Log.Length <> after.Accepted - before.Accepted then
        failtest "an accepted command without exactly one event"

[<Tests>]
let tests =
    testList
        "Lifecycle"
        [ testPropertyWithConfig
              config
              "random command sequences keep every invariant and the log replays to the state"
              (fun (steps: Step list) ->
                  let final =
                      steps
                      |> List.indexed
                      |> List.fold
                          (fun s (n, st) ->
                              let next = step s n st
                              invariants s next
                              next)
                          start

                  for KeyValue(id, a) in final.States do
                      let replayed =
                          Lifecycle.replay (final.Log |> List.filter (fun e -> e.RequestId = id))

                      Expect.equal replayed (Some a) "replaying the log gives the same state"

                  Expect.equal final.Log.Length final.Accepted "one event per accepted command")
          testPropertyWithConfig
              config
              "a live reservation is exclusive: only its holder can post or release before it expires"
              (fun (steps: Step list) ->
                  steps
                  |> List.indexed
                  |> List.fold
                      (fun s (n, st) ->
                          match command s n st with
                          | Some(id, who, _, (PostResult(_, tenant) as cmd)) ->
                              match s.States.TryFind id with
                              | Some a when a.Status = Reserved && Lifecycle.leaseLive s.Now a && not who.IsAdmin ->
                                  let holderTenant = a.Holder |> Option.bind (fun h -> h.Tenant)

                                  if holderTenant <> Some tenant then
                                      Expect.isError
                                          (Lifecycle.decide s.Now who (Some a) cmd)
                                          "a result by a non-holder is refused"
                              | _ -> ()

                              step s n st
                          | _ -> step s n st)
                      start
                  |> ignore)
          test "reserve twice by the same tenant is refused (two workers of one tenant never both hold it)" {
              let a = actor 0
              let s = step start 0 (Post(0, false))
              let s = step s 1 (Reserve(0, 0, 10))
              let id = s.Order.Head

              Expect.isError
                  (Lifecycle.decide s.Now a (Some s.States[id]) (Command.Reserve(Some tenants[0], 10.0)))
                  "second reserve"
          }
          test "found by the property: posting a result clears the reservation's holder" {
              let s = step start 0 (Post(0, false))
              let s = step s 1 (Reserve(0, 3, 10))
              let s = step s 2 (Result(0, 3))
              let a = s.States[s.Order.Head]
              Expect.equal (a.Status, a.Holder, a.LeaseUntil) (Resolved, None, None) "resolved, nobody holds it"
          }
          test "an expired lease can be expired, then anyone may reserve" {
              let s = step start 0 (Post(0, false))
              let s = step s 1 (Reserve(0, 1, 5))
              let s = step s 2 (Expire 0)
              Expect.equal s.States[s.Order.Head].Status Reserved "not expired before its time"
              let s = step s 3 (Wait 6)
              let s = step s 4 (Expire 0)
              Expect.equal s.States[s.Order.Head].Status Pending "expired"
              let s = step s 5 (Reserve(0, 2, 5))

              Expect.equal
                  (s.States[s.Order.Head].Holder |> Option.bind (fun h -> h.Tenant))
                  (Some tenants[2])
                  "new holder"
          }
          test "an amendment: after the current result is amended its author posts a replacement; others may not" {
              let s = step start 0 (Post(0, false))
              let s = step s 1 (Result(0, 1))
              let s = step s 2 (ResultStatus(0, 0, 1, false))
              let id = s.Order.Head

              Expect.isError
                  (Lifecycle.decide s.Now (actor 2) (Some s.States[id]) (PostResult(Guid.NewGuid(), tenants[2])))
                  "another tenant"

              let s = step s 3 (Result(0, 1))

              Expect.equal
                  (s.States[id].Results
                   |> List.filter (fun r -> r.Status = Original)
                   |> List.length)
                  1
                  "one current result"

              Expect.equal s.States[id].Results.Length 2 "both results kept"
          } ]
