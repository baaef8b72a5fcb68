namespace Finales.Core.Interop

open System
open System.Collections.Generic
open System.Runtime.InteropServices
open System.Text.Json
open Finales.Core

// The broker store's view of the lifecycle, in C# shapes: nullable values, enums, IReadOnlyList and one result
// record per decision. The store builds the aggregate from its columns, asks `BrokerCore.Decide`, writes the event
// row it gets back and projects the next state; no F# option, list or union reaches its C#.

/// A request's status (the wire names are the lower-case member names).
type RequestStatusCode =
    | Pending = 0
    | Reserved = 1
    | Resolved = 2
    | Retracted = 3
    | Unsolicited = 4

/// A result's status (the wire names are the lower-case member names).
type ResultStatusCode =
    | Original = 0
    | Deleted = 1
    | Amended = 2

/// Why a lifecycle command was refused; `None` when it was accepted.
type LifecycleErrorKind =
    /// Accepted.
    | None = 0
    /// State conflict (409 on the wire).
    | Conflict = 1
    /// Not allowed for this caller (403).
    | Forbidden = 2
    /// Unknown request or result (404).
    | NotFound = 3

/// One result of a request, as far as the lifecycle is concerned.
type ResultEntryState =
    { Id: Guid
      Tenant: Guid
      Status: ResultStatusCode }

/// The lifecycle aggregate as stored: the holder is present when `HolderUser` is not null (`HolderTenant` is then the
/// tenant the reservation was made for, if any); `Results` in posting order; `Version` counts the folded events.
type AggregateState =
    { Id: Guid
      Requester: Guid
      Status: RequestStatusCode
      HolderTenant: Nullable<Guid>
      HolderUser: string
      LeaseUntil: Nullable<DateTime>
      Results: IReadOnlyList<ResultEntryState>
      Version: int }

    /// The status's wire name.
    member a.StatusName: string = a.Status.ToString().ToLowerInvariant()

/// The caller of a command: the user, the tenants it may act for, and whether it is an admin.
type LifecycleActor =
    { User: string
      Tenants: IReadOnlyList<Guid>
      IsAdmin: bool }

/// One row of the append-only event log. `Kind` is the wire name of the event (`created`, `reserved`, ...);
/// `Status` the request's status after it, or the result's new status for a result status change. The other columns
/// are filled by the kinds that carry them (null otherwise): `ResultId` (result events), `LeaseUntil` (reservation,
/// lease extension), `HolderTenant`/`HolderUser` (reservation), `Requester` (creation).
type EventRow =
    { RequestId: Guid
      Kind: string
      Status: string
      Time: DateTime
      Actor: string
      Tenant: Nullable<Guid>
      Message: string
      ResultId: Nullable<Guid>
      LeaseUntil: Nullable<DateTime>
      HolderTenant: Nullable<Guid>
      HolderUser: string
      Requester: Nullable<Guid> }

/// A lifecycle command, built through its static members.
[<Sealed>]
type LifecycleCommand private (command: Command) =
    /// The core's command (for F# callers).
    member _.Command: Command = command

    /// True for the creation of a request (which has no stored state yet).
    member _.IsCreate: bool =
        match command with
        | Create _ -> true
        | _ -> false

    override _.ToString() = sprintf "%A" command

    static member Create(requester: Guid, unsolicited: bool) =
        LifecycleCommand(Create(requester, unsolicited))

    /// Reserve for `tenant` (null: for the user only) with a lease of `leaseSeconds`.
    static member Reserve(tenant: Nullable<Guid>, leaseSeconds: float) =
        LifecycleCommand(Reserve(Option.ofNullable tenant, leaseSeconds))

    static member Heartbeat(leaseSeconds: float) =
        LifecycleCommand(Heartbeat leaseSeconds)

    static member Release = LifecycleCommand(Command.Release)
    static member Retract = LifecycleCommand(Command.Retract)
    static member Resolve = LifecycleCommand(Command.Resolve)
    static member ExpireLease = LifecycleCommand(Command.ExpireLease)

    static member PostResult(resultId: Guid, tenant: Guid) =
        LifecycleCommand(PostResult(resultId, tenant))

    static member SetResultStatus(resultId: Guid, status: ResultStatusCode) =
        let s =
            match status with
            | ResultStatusCode.Original -> Original
            | ResultStatusCode.Deleted -> Deleted
            | ResultStatusCode.Amended -> Amended
            | other -> invalidArg (nameof status) (sprintf "%A is not a result status" other)

        LifecycleCommand(SetResultStatus(resultId, s))

    /// Wraps a core command (callers that still build the F# union).
    static member OfCore(command: Command) = LifecycleCommand(command)

/// What `BrokerCore.Decide` answers: on acceptance the event row to append and the next state (`ErrorKind` None,
/// `Message` empty); on refusal `Event` and `Next` are null and `ErrorKind`/`Message` say why.
[<Sealed; AllowNullLiteral>]
type Decision(event: EventRow, next: AggregateState, errorKind: LifecycleErrorKind, message: string) =
    member _.Event = event
    member _.Next = next
    member _.ErrorKind = errorKind
    member _.Message = message
    member _.Accepted = errorKind = LifecycleErrorKind.None

/// The columns a request is stored with.
type RequestColumns =
    { Quantity: string
      Methods: IReadOnlyList<string>
      TenantUuid: Guid
      Parent: Nullable<Guid>
      Json: string }

/// The columns a result is stored with; `Rating` is the quality the broker filters on (`min_rating`).
type ResultColumns =
    { Quantity: string
      Method: string
      TenantUuid: Guid
      Rating: Nullable<float>
      Json: string }

/// Conversions between the core's lifecycle types and the C# shapes above.
[<RequireQualifiedAccess>]
module StoreShapes =
    let requestStatus (s: RequestStatus) : RequestStatusCode =
        match s with
        | Pending -> RequestStatusCode.Pending
        | Reserved -> RequestStatusCode.Reserved
        | Resolved -> RequestStatusCode.Resolved
        | RequestStatus.Retracted -> RequestStatusCode.Retracted
        | Unsolicited -> RequestStatusCode.Unsolicited

    let ofRequestStatus (s: RequestStatusCode) : RequestStatus =
        match s with
        | RequestStatusCode.Pending -> Pending
        | RequestStatusCode.Reserved -> Reserved
        | RequestStatusCode.Resolved -> Resolved
        | RequestStatusCode.Retracted -> RequestStatus.Retracted
        | RequestStatusCode.Unsolicited -> Unsolicited
        | other -> invalidArg "status" (sprintf "%A is not a request status" other)

    let resultStatus (s: ResultStatus) : ResultStatusCode =
        match s with
        | Original -> ResultStatusCode.Original
        | Deleted -> ResultStatusCode.Deleted
        | Amended -> ResultStatusCode.Amended

    let ofResultStatus (s: ResultStatusCode) : ResultStatus =
        match s with
        | ResultStatusCode.Original -> Original
        | ResultStatusCode.Deleted -> Deleted
        | ResultStatusCode.Amended -> Amended
        | other -> invalidArg "status" (sprintf "%A is not a result status" other)

    let toState (a: RequestAggregate) : AggregateState =
        { Id = a.Id
          Requester = a.Requester
          Status = requestStatus a.Status
          HolderTenant = a.Holder |> Option.bind _.Tenant |> Option.toNullable
          HolderUser =
            match a.Holder with
            | Some h -> h.User
            | None -> null
          LeaseUntil = Option.toNullable a.LeaseUntil
          Results =
            a.Results
            |> List.map (fun (r: ResultEntry) ->
                ({ Id = r.Id
                   Tenant = r.Tenant
                   Status = resultStatus r.Status }
                : ResultEntryState))
            |> List.toArray
            :> IReadOnlyList<_>
          Version = a.Version }

    let ofState (s: AggregateState) : RequestAggregate =
        { Id = s.Id
          Requester = s.Requester
          Status = ofRequestStatus s.Status
          Holder =
            if isNull s.HolderUser then
                None
            else
                Some
                    { Tenant = Option.ofNullable s.HolderTenant
                      User = s.HolderUser }
          LeaseUntil = Option.ofNullable s.LeaseUntil
          Results =
            if isNull s.Results then
                []
            else
                s.Results
                |> Seq.map (fun (r: ResultEntryState) ->
                    ({ Id = r.Id
                       Tenant = r.Tenant
                       Status = ofResultStatus r.Status }
                    : ResultEntry))
                |> List.ofSeq
          Version = s.Version }

    /// The log row of an event, given the state it leads to.
    let toRow (ev: LifecycleEvent) (next: RequestAggregate) : EventRow =
        let row =
            { RequestId = ev.RequestId
              Kind = Lifecycle.kindName ev.Kind
              Status = RequestStatus.name next.Status
              Time = ev.Time
              Actor = ev.Actor
              Tenant = Option.toNullable ev.Tenant
              Message = ev.Message
              ResultId = Nullable()
              LeaseUntil = Nullable()
              HolderTenant = Nullable()
              HolderUser = null
              Requester = Nullable() }

        match ev.Kind with
        | ResultPosted(resultId, _) ->
            { row with
                ResultId = Nullable resultId }
        | ResultStatusChanged(resultId, status) ->
            { row with
                ResultId = Nullable resultId
                Status = ResultStatus.name status }
        | ReservationMade(holder, leaseUntil) ->
            { row with
                LeaseUntil = Nullable leaseUntil
                HolderTenant = Option.toNullable holder.Tenant
                HolderUser = holder.User }
        | LeaseExtended leaseUntil ->
            { row with
                LeaseUntil = Nullable leaseUntil }
        | Created(requester, _) ->
            { row with
                Requester = Nullable requester }
        | Released
        | LeaseExpired
        | EventKind.Retracted
        | ResolvedByHand -> row

    let private need (what: string) (kind: string) (v: Nullable<'T>) : Result<'T, string> =
        if v.HasValue then
            Ok v.Value
        else
            Error(sprintf "event %s has no %s" kind what)

    /// The event a log row records, or why it cannot be read.
    let ofRow (row: EventRow) : Result<LifecycleEvent, string> =
        let kind =
            match row.Kind with
            | "created" ->
                need "requester" row.Kind row.Requester
                |> Result.map (fun r -> Created(r, false))
            | "created_unsolicited" ->
                need "requester" row.Kind row.Requester
                |> Result.map (fun r -> Created(r, true))
            | "reserved" ->
                need "lease end" row.Kind row.LeaseUntil
                |> Result.map (fun until ->
                    ReservationMade(
                        { Tenant = Option.ofNullable row.HolderTenant
                          User = (if isNull row.HolderUser then "" else row.HolderUser) },
                        until
                    ))
            | "lease_extended" -> need "lease end" row.Kind row.LeaseUntil |> Result.map LeaseExtended
            | "released" -> Ok Released
            | "lease_expired" -> Ok LeaseExpired
            | "retracted" -> Ok EventKind.Retracted
            | "resolved" -> Ok ResolvedByHand
            | "result_posted" ->
                match need "result" row.Kind row.ResultId, need "tenant" row.Kind row.Tenant with
                | Ok r, Ok t -> Ok(ResultPosted(r, t))
                | Error e, _
                | _, Error e -> Error e
            | "result_deleted" ->
                need "result" row.Kind row.ResultId
                |> Result.map (fun r -> ResultStatusChanged(r, Deleted))
            | "result_amended" ->
                need "result" row.Kind row.ResultId
                |> Result.map (fun r -> ResultStatusChanged(r, Amended))
            | other -> Error(sprintf "event of unknown kind %s on request %s" other (WireFormat.uuid row.RequestId))

        kind
        |> Result.map (fun k ->
            { RequestId = row.RequestId
              Time = row.Time
              Actor = row.Actor
              Tenant = Option.ofNullable row.Tenant
              Message = row.Message
              Kind = k })

    /// data.<quantity>.meta.rating, else the first data.*.meta.rating: the broker's quality filter (min_rating).
    let rating (r: ResultBody) : float option =
        let ratingOf (v: JsonElement) =
            match v.ValueKind with
            | JsonValueKind.Object ->
                match v.TryGetProperty "meta" with
                | true, meta when meta.ValueKind = JsonValueKind.Object ->
                    match meta.TryGetProperty "rating" with
                    | true, rating when rating.ValueKind = JsonValueKind.Number -> Some(rating.GetDouble())
                    | _ -> None
                | _ -> None
            | _ -> None

        if r.Data.ValueKind <> JsonValueKind.Object then
            None
        else
            let rated =
                r.Data.EnumerateObject()
                |> Seq.choose (fun p -> ratingOf p.Value |> Option.map (fun v -> p.Name, v))
                |> Seq.toList

            match rated |> List.tryFind (fun (name, _) -> name = r.Quantity) with
            | Some(_, v) -> Some v
            | None -> rated |> List.tryHead |> Option.map snd

/// The broker core as the store calls it from C#.
[<AbstractClass; Sealed>]
type BrokerCore =
    /// Decides `command` on `state` (null: the request does not exist yet) at `now` for `actor`, acting for `tenant`
    /// (null: none) with `message`; on acceptance the event row to append and the state it leads to.
    static member Decide
        (
            now: DateTime,
            actor: LifecycleActor,
            requestId: Guid,
            tenant: Nullable<Guid>,
            message: string,
            state: AggregateState,
            command: LifecycleCommand
        ) : Decision =
        if obj.ReferenceEquals(actor, null) then
            nullArg (nameof actor)

        if obj.ReferenceEquals(command, null) then
            nullArg (nameof command)

        let current =
            if obj.ReferenceEquals(state, null) then
                None
            else
                Some(StoreShapes.ofState state)

        let coreActor: Actor =
            { User = actor.User
              Tenants =
                if isNull actor.Tenants then
                    []
                else
                    List.ofSeq actor.Tenants
              IsAdmin = actor.IsAdmin }

        match Lifecycle.decide now coreActor current command.Command with
        | Error e ->
            let kind, text =
                match e with
                | Conflict m -> LifecycleErrorKind.Conflict, m
                | Forbidden m -> LifecycleErrorKind.Forbidden, m
                | NotFound m -> LifecycleErrorKind.NotFound, m

            Decision(Unchecked.defaultof<_>, Unchecked.defaultof<_>, kind, text)
        | Ok kind ->
            let ev =
                { RequestId = requestId
                  Time = now
                  Actor = actor.User
                  Tenant = Option.ofNullable tenant
                  Message = (if isNull message then "" else message)
                  Kind = kind }

            let next = Lifecycle.evolve current ev
            Decision(StoreShapes.toRow ev next, StoreShapes.toState next, LifecycleErrorKind.None, "")

    /// Folds one log row into `state` (null: before the first event). False, with the reason, for a row that does
    /// not record a lifecycle event (unknown kind, missing column).
    static member TryEvolve
        (state: AggregateState, row: EventRow, [<Out>] next: byref<AggregateState>, [<Out>] error: byref<string>)
        : bool =
        match StoreShapes.ofRow row with
        | Error e ->
            next <- Unchecked.defaultof<_>
            error <- e
            false
        | Ok ev ->
            let current =
                if obj.ReferenceEquals(state, null) then
                    None
                else
                    Some(StoreShapes.ofState state)

            next <- StoreShapes.toState (Lifecycle.evolve current ev)
            error <- null
            true

    /// The columns a request body is stored with (its canonical JSON among them).
    static member RequestColumns(body: RequestBody) : RequestColumns =
        { Quantity = body.Quantity
          Methods = List.toArray body.Methods :> IReadOnlyList<_>
          TenantUuid = body.TenantUuid
          Parent = Option.toNullable body.ParentRequest
          Json = Wire.encodeRequest body }

    /// The columns a result body for request `requestId` is stored with (its canonical JSON among them).
    static member ResultColumns(body: ResultBody, requestId: Guid) : ResultColumns =
        { Quantity = body.Quantity
          Method = List.head body.Method
          TenantUuid = body.TenantUuid
          Rating = StoreShapes.rating body |> Option.toNullable
          Json = Wire.encodeResult body requestId }

    /// The request an unsolicited result creates: its quantity, methods and parameters, for its tenant, no parent.
    static member UnsolicitedRequest(result: ResultBody) : RequestBody =
        { Quantity = result.Quantity
          Methods = result.Method
          Parameters = result.Parameters
          TenantUuid = result.TenantUuid
          ParentRequest = None }
