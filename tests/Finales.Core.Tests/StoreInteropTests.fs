module Finales.Core.Tests.StoreInteropTests

open System
open System.Text.Json
open Expecto
open Finales.Core
open Finales.Core.Interop
open Finales.Core.Tests.LifecycleTests

let private dto (a: Actor) : LifecycleActor =
    { User = a.User
      Tenants = List.toArray a.Tenants
      IsAdmin = a.IsAdmin }

let private nullable (state: RequestAggregate option) : AggregateState =
    match state with
    | Some a -> StoreShapes.toState a
    | None -> Unchecked.defaultof<_>

/// Runs `check` on the session before every step of a random command sequence, with the command the step means.
let private everyCommand (steps: Step list) (check: Session -> Guid * Actor * Guid option * Command -> unit) =
    steps
    |> List.indexed
    |> List.fold
        (fun s (n, st) ->
            command s n st |> Option.iter (check s)
            step s n st)
        start
    |> ignore

let private resultBody (data: string) : ResultBody =
    { Data = JsonDocument.Parse(data).RootElement
      Quantity = "conductivity"
      Method = [ "m" ]
      Parameters = []
      TenantUuid = Guid.Empty
      RequestUuid = None }

[<Tests>]
let tests =
    testList
        "StoreInterop"
        [ testPropertyWithConfig
              config
              "BrokerCore.Decide accepts and refuses exactly as the core, and its row and next state are the core's event and fold"
              (fun (steps: Step list) ->
                  everyCommand steps (fun s (id, who, tenant, cmd) ->
                      let state = Map.tryFind id s.States

                      let decision =
                          BrokerCore.Decide(
                              s.Now,
                              dto who,
                              id,
                              Option.toNullable tenant,
                              "m",
                              nullable state,
                              LifecycleCommand.OfCore cmd
                          )

                      match Lifecycle.decide s.Now who state cmd with
                      | Error e ->
                          let kind, text =
                              match e with
                              | Conflict m -> LifecycleErrorKind.Conflict, m
                              | Forbidden m -> LifecycleErrorKind.Forbidden, m
                              | NotFound m -> LifecycleErrorKind.NotFound, m

                          Expect.isFalse decision.Accepted "refused by the core, refused by the facade"
                          Expect.equal (decision.ErrorKind, decision.Message) (kind, text) "the same reason"
                          Expect.isNull (box decision.Event) "no event for a refusal"
                      | Ok kind ->
                          let ev =
                              { RequestId = id
                                Time = s.Now
                                Actor = who.User
                                Tenant = tenant
                                Message = "m"
                                Kind = kind }

                          Expect.isTrue decision.Accepted "accepted by the core, accepted by the facade"

                          Expect.equal
                              (StoreShapes.ofState decision.Next)
                              (Lifecycle.evolve state ev)
                              "the core's fold"

                          Expect.equal
                              (StoreShapes.ofRow decision.Event)
                              (Ok ev)
                              "the row reads back as the core's event"))
          testPropertyWithConfig
              config
              "aggregates round-trip through the C# state, and the rows of a log replay through TryEvolve to the core's replay"
              (fun (steps: Step list) ->
                  let final = steps |> List.indexed |> List.fold (fun s (n, st) -> step s n st) start

                  for KeyValue(_, a) in final.States do
                      Expect.equal (StoreShapes.ofState (StoreShapes.toState a)) a "state round trip"

                  let replayed =
                      final.Log
                      |> List.fold
                          (fun (states: Map<Guid, RequestAggregate>, byRows: Map<Guid, AggregateState>) ev ->
                              let next = Lifecycle.evolve (states.TryFind ev.RequestId) ev
                              let row = StoreShapes.toRow ev next

                              let current =
                                  byRows.TryFind ev.RequestId |> Option.defaultValue Unchecked.defaultof<_>

                              let mutable evolved = Unchecked.defaultof<AggregateState>
                              let mutable error = null
                              let ok = BrokerCore.TryEvolve(current, row, &evolved, &error)
                              Expect.isTrue ok (sprintf "the row of %A reads back: %s" ev.Kind error)
                              states.Add(ev.RequestId, next), byRows.Add(ev.RequestId, evolved))
                          (Map.empty, Map.empty)
                      |> snd

                  for KeyValue(id, a) in final.States do
                      Expect.equal (StoreShapes.ofState replayed[id]) a "the rows replay to the state")
          test "a row of an unknown kind is reported, naming the kind and the request" {
              let row =
                  { RequestId = Guid.Empty
                    Kind = "teleported"
                    Status = "pending"
                    Time = DateTime.UnixEpoch
                    Actor = "a"
                    Tenant = Nullable()
                    Message = ""
                    ResultId = Nullable()
                    LeaseUntil = Nullable()
                    HolderTenant = Nullable()
                    HolderUser = null
                    Requester = Nullable() }

              let mutable next = Unchecked.defaultof<AggregateState>
              let mutable error = null
              Expect.isFalse (BrokerCore.TryEvolve(Unchecked.defaultof<_>, row, &next, &error)) "refused"

              Expect.equal
                  error
                  "event of unknown kind teleported on request 00000000-0000-0000-0000-000000000000"
                  "the audit's wording"
          }
          test "the rating is data.<quantity>.meta.rating, else the first data.*.meta.rating, else none" {
              let own =
                  resultBody """{"other":{"meta":{"rating":1}},"conductivity":{"meta":{"rating":4}}}"""

              Expect.equal (StoreShapes.rating own) (Some 4.0) "the quantity's own rating wins"

              let other =
                  resultBody """{"other":{"meta":{"rating":1}},"more":{"meta":{"rating":3}}}"""

              Expect.equal (StoreShapes.rating other) (Some 1.0) "else the first rating"

              let none = resultBody """{"conductivity":{"meta":{"rating":"high"}},"x":1}"""

              Expect.equal (StoreShapes.rating none) None "a rating that is not a number is none"
          }
          test "a command's status enum maps to the core's and back" {
              for code in Enum.GetValues<RequestStatusCode>() do
                  Expect.equal (StoreShapes.requestStatus (StoreShapes.ofRequestStatus code)) code "request status"

                  Expect.equal
                      ((StoreShapes.toState
                          { Id = Guid.Empty
                            Requester = Guid.Empty
                            Status = StoreShapes.ofRequestStatus code
                            Holder = None
                            LeaseUntil = None
                            Results = []
                            Version = 0 })
                          .StatusName)
                      (RequestStatus.name (StoreShapes.ofRequestStatus code))
                      "the wire name"

              for code in Enum.GetValues<ResultStatusCode>() do
                  Expect.equal (StoreShapes.resultStatus (StoreShapes.ofResultStatus code)) code "result status"
          } ]
