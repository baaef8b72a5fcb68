namespace Finales.Core

open System

/// Status of a request. `Resolved`, `Retracted` and `Unsolicited` are terminal.
type RequestStatus =
    | Pending
    | Reserved
    | Resolved
    | Retracted
    | Unsolicited

/// Status of a result. `Deleted` and `Amended` are terminal.
type ResultStatus =
    | Original
    | Deleted
    | Amended

/// Who holds a reservation: the tenant it was made for (if any) and the user who made it.
type Holder = { Tenant: Guid option; User: string }

/// The authenticated caller of a command.
type Actor =
    {
        User: string
        /// Tenants the user may act for.
        Tenants: Guid list
        IsAdmin: bool
    }

/// One result of a request, as far as the lifecycle is concerned.
type ResultEntry =
    { Id: Guid
      Tenant: Guid
      Status: ResultStatus }

/// The lifecycle aggregate: a request and its results. Current state = fold of its events.
type RequestAggregate =
    {
        Id: Guid
        Requester: Guid
        Status: RequestStatus
        Holder: Holder option
        LeaseUntil: DateTime option
        /// Results in posting order.
        Results: ResultEntry list
        /// Number of events folded so far.
        Version: int
    }

/// What happened to a request. Exactly one event per accepted command.
type EventKind =
    | Created of requester: Guid * unsolicited: bool
    | ReservationMade of holder: Holder * leaseUntil: DateTime
    | LeaseExtended of leaseUntil: DateTime
    | Released
    | LeaseExpired
    | Retracted
    | ResolvedByHand
    | ResultPosted of resultId: Guid * tenant: Guid
    | ResultStatusChanged of resultId: Guid * status: ResultStatus

/// An event of the append-only log, with time, actor and message.
type LifecycleEvent =
    { RequestId: Guid
      Time: DateTime
      Actor: string
      Tenant: Guid option
      Message: string
      Kind: EventKind }

/// A command against one request aggregate.
type Command =
    | Create of requester: Guid * unsolicited: bool
    | Reserve of tenant: Guid option * leaseSeconds: float
    | Heartbeat of leaseSeconds: float
    | Release
    | Retract
    | Resolve
    | ExpireLease
    | PostResult of resultId: Guid * tenant: Guid
    | SetResultStatus of resultId: Guid * status: ResultStatus

/// Why a command was refused; the host maps these to HTTP statuses in one place.
type LifecycleError =
    /// State conflict (409).
    | Conflict of string
    /// Not allowed for this caller (403).
    | Forbidden of string
    /// Unknown request or result (404).
    | NotFound of string

[<RequireQualifiedAccess>]
module RequestStatus =
    let name (s: RequestStatus) : string =
        match s with
        | Pending -> "pending"
        | Reserved -> "reserved"
        | Resolved -> "resolved"
        | RequestStatus.Retracted -> "retracted"
        | Unsolicited -> "unsolicited"

    let tryParse (s: string) : RequestStatus option =
        match s with
        | "pending" -> Some Pending
        | "reserved" -> Some Reserved
        | "resolved" -> Some Resolved
        | "retracted" -> Some RequestStatus.Retracted
        | "unsolicited" -> Some Unsolicited
        | _ -> None

    let isTerminal (s: RequestStatus) : bool =
        match s with
        | Resolved
        | RequestStatus.Retracted
        | Unsolicited -> true
        | Pending
        | Reserved -> false

[<RequireQualifiedAccess>]
module ResultStatus =
    let name (s: ResultStatus) : string =
        match s with
        | Original -> "original"
        | Deleted -> "deleted"
        | Amended -> "amended"

    let tryParse (s: string) : ResultStatus option =
        match s with
        | "original" -> Some Original
        | "deleted" -> Some Deleted
        | "amended" -> Some Amended
        | _ -> None

/// The request/result lifecycle as a pure state machine: `decide` turns a command into one event
/// or refuses it; `evolve` folds an event into the aggregate. Stores call both inside one transaction.
[<RequireQualifiedAccess>]
module Lifecycle =
    let private holds (actor: Actor) (holder: Holder) =
        match holder.Tenant with
        | Some t -> List.contains t actor.Tenants
        | None -> holder.User = actor.User

    let private describeHolder (h: Holder) =
        match h.Tenant with
        | Some t -> sprintf "tenant %s" (WireFormat.uuid t)
        | None -> sprintf "user %s" h.User

    /// The current result: the first result still `original`.
    let currentResult (a: RequestAggregate) : ResultEntry option =
        a.Results |> List.tryFind (fun r -> r.Status = Original)

    /// A lease counts as live while `now` is before its end.
    let leaseLive (now: DateTime) (a: RequestAggregate) : bool =
        a.Status = Reserved
        && (match a.LeaseUntil with
            | Some t -> now < t
            | None -> true)

    let private terminalConflict (a: RequestAggregate) =
        Error(
            Conflict(
                sprintf
                    "request %s is %s, a terminal status; it cannot change any more"
                    (WireFormat.uuid a.Id)
                    (RequestStatus.name a.Status)
            )
        )

    let private leaseEnd (now: DateTime) (seconds: float) =
        if Double.IsFinite seconds && seconds > 0.0 then
            now.AddSeconds(min seconds 3.15e8)
        else
            now.AddSeconds 1.0

    /// Decides a command against the aggregate (None when the request does not exist yet).
    let decide
        (now: DateTime)
        (actor: Actor)
        (state: RequestAggregate option)
        (command: Command)
        : Result<EventKind, LifecycleError> =
        match state, command with
        | None, Create(requester, unsolicited) -> Ok(Created(requester, unsolicited))
        | Some a, Create _ -> Error(Conflict(sprintf "request %s already exists" (WireFormat.uuid a.Id)))
        | None, _ -> Error(NotFound "request not found")
        | Some a, Reserve(tenant, lease) ->
            match a.Status with
            | Pending -> Ok(ReservationMade({ Tenant = tenant; User = actor.User }, leaseEnd now lease))
            | Reserved ->
                // Even the holder's own tenant gets 409: two workers of one tenant must not both believe they hold it
                // (extend a lease with a heartbeat instead).
                match a.Holder with
                | Some h ->
                    Error(
                        Conflict(
                            sprintf "request %s is already reserved by %s" (WireFormat.uuid a.Id) (describeHolder h)
                        )
                    )
                | None -> Error(Conflict(sprintf "request %s is already reserved" (WireFormat.uuid a.Id)))
            | _ -> terminalConflict a
        | Some a, Heartbeat lease ->
            match a.Status, a.Holder with
            | Reserved, Some h when holds actor h || actor.IsAdmin -> Ok(LeaseExtended(leaseEnd now lease))
            | Reserved, _ -> Error(Conflict(sprintf "request %s is reserved by someone else" (WireFormat.uuid a.Id)))
            | s, _ ->
                Error(
                    Conflict(
                        sprintf
                            "request %s is %s, not reserved; there is no lease to extend"
                            (WireFormat.uuid a.Id)
                            (RequestStatus.name s)
                    )
                )
        | Some a, Release ->
            match a.Status, a.Holder with
            | Reserved, Some h when holds actor h || actor.IsAdmin -> Ok Released
            | Reserved, Some h ->
                Error(
                    Conflict(
                        sprintf
                            "request %s is reserved by %s; only the holder or an admin may set it back to pending"
                            (WireFormat.uuid a.Id)
                            (describeHolder h)
                    )
                )
            | Reserved, None -> Ok Released
            | Pending, _ -> Error(Conflict(sprintf "request %s is already pending" (WireFormat.uuid a.Id)))
            | _ -> terminalConflict a
        | Some a, Retract ->
            if RequestStatus.isTerminal a.Status then
                terminalConflict a
            elif actor.IsAdmin || List.contains a.Requester actor.Tenants then
                Ok EventKind.Retracted
            else
                Error(
                    Forbidden(
                        sprintf
                            "only the requesting tenant %s or an admin may retract request %s"
                            (WireFormat.uuid a.Requester)
                            (WireFormat.uuid a.Id)
                    )
                )
        | Some a, Resolve ->
            match a.Status, a.Holder with
            | _ when RequestStatus.isTerminal a.Status -> terminalConflict a
            | Reserved, Some h when holds actor h || actor.IsAdmin -> Ok ResolvedByHand
            | Pending, _ when actor.IsAdmin -> Ok ResolvedByHand
            | _ ->
                Error(
                    Conflict(
                        sprintf
                            "request %s is %s; only the holder of a reservation (or an admin) may resolve it"
                            (WireFormat.uuid a.Id)
                            (RequestStatus.name a.Status)
                    )
                )
        | Some a, ExpireLease ->
            match a.Status, a.LeaseUntil with
            | Reserved, Some t when t <= now -> Ok LeaseExpired
            | _ -> Error(Conflict(sprintf "request %s has no expired lease" (WireFormat.uuid a.Id)))
        | Some a, PostResult(resultId, tenant) ->
            if a.Results |> List.exists (fun r -> r.Id = resultId) then
                Error(Conflict(sprintf "result %s already exists" (WireFormat.uuid resultId)))
            else
                match a.Status with
                | Pending -> Ok(ResultPosted(resultId, tenant))
                | Reserved ->
                    match a.Holder with
                    | Some h when
                        h.Tenant = Some tenant
                        || (h.Tenant.IsNone && h.User = actor.User)
                        || actor.IsAdmin
                        ->
                        Ok(ResultPosted(resultId, tenant))
                    | Some h ->
                        Error(
                            Conflict(
                                sprintf
                                    "request %s is reserved by %s, not by tenant %s"
                                    (WireFormat.uuid a.Id)
                                    (describeHolder h)
                                    (WireFormat.uuid tenant)
                            )
                        )
                    | None -> Ok(ResultPosted(resultId, tenant))
                | Unsolicited when a.Results.IsEmpty -> Ok(ResultPosted(resultId, tenant))
                | Resolved when (currentResult a).IsNone ->
                    // Amendment: the current result was deleted or amended; its author (or an admin) posts the new one.
                    match List.tryLast a.Results with
                    | Some last when last.Tenant = tenant || actor.IsAdmin -> Ok(ResultPosted(resultId, tenant))
                    | _ ->
                        Error(
                            Conflict(
                                sprintf
                                    "request %s is resolved; only the tenant of its previous result may post a replacement"
                                    (WireFormat.uuid a.Id)
                            )
                        )
                | Resolved ->
                    Error(
                        Conflict(
                            sprintf
                                "request %s is already resolved with result %s; mark that result amended or deleted first"
                                (WireFormat.uuid a.Id)
                                (currentResult a
                                 |> Option.map (fun r -> WireFormat.uuid r.Id)
                                 |> Option.defaultValue "?")
                        )
                    )
                | s ->
                    Error(
                        Conflict(
                            sprintf
                                "request %s is %s; results are accepted only for pending requests or requests reserved by the posting tenant"
                                (WireFormat.uuid a.Id)
                                (RequestStatus.name s)
                        )
                    )
        | Some a, SetResultStatus(resultId, status) ->
            match a.Results |> List.tryFind (fun r -> r.Id = resultId) with
            | None -> Error(NotFound(sprintf "result %s not found" (WireFormat.uuid resultId)))
            | Some r ->
                match r.Status, status with
                | Original, (Deleted | Amended) when actor.IsAdmin || List.contains r.Tenant actor.Tenants ->
                    Ok(ResultStatusChanged(resultId, status))
                | Original, (Deleted | Amended) ->
                    Error(
                        Forbidden(
                            sprintf
                                "only the tenant that posted result %s or an admin may change its status"
                                (WireFormat.uuid resultId)
                        )
                    )
                | Original, Original ->
                    Error(Conflict(sprintf "result %s is already original" (WireFormat.uuid resultId)))
                | s, _ ->
                    Error(
                        Conflict(
                            sprintf
                                "result %s is %s, a terminal status"
                                (WireFormat.uuid resultId)
                                (ResultStatus.name s)
                        )
                    )

    /// Folds one event into the aggregate.
    let evolve (state: RequestAggregate option) (event: LifecycleEvent) : RequestAggregate =
        let a =
            match state with
            | Some a -> a
            | None ->
                { Id = event.RequestId
                  Requester = Guid.Empty
                  Status = Pending
                  Holder = None
                  LeaseUntil = None
                  Results = []
                  Version = 0 }

        let a = { a with Version = a.Version + 1 }

        match event.Kind with
        | Created(requester, unsolicited) ->
            { a with
                Requester = requester
                Status = (if unsolicited then Unsolicited else Pending) }
        | ReservationMade(h, until) ->
            { a with
                Status = Reserved
                Holder = Some h
                LeaseUntil = Some until }
        | LeaseExtended until -> { a with LeaseUntil = Some until }
        | Released
        | LeaseExpired ->
            { a with
                Status = Pending
                Holder = None
                LeaseUntil = None }
        | EventKind.Retracted ->
            { a with
                Status = RequestStatus.Retracted
                Holder = None
                LeaseUntil = None }
        | ResolvedByHand ->
            { a with
                Status = Resolved
                Holder = None
                LeaseUntil = None }
        | ResultPosted(id, tenant) ->
            { a with
                Status = (if a.Status = Unsolicited then Unsolicited else Resolved)
                Holder = None
                LeaseUntil = None
                Results =
                    a.Results
                    @ [ { Id = id
                          Tenant = tenant
                          Status = Original } ] }
        | ResultStatusChanged(id, s) ->
            { a with
                Results = a.Results |> List.map (fun r -> if r.Id = id then { r with Status = s } else r) }

    /// Replays a request's events (oldest first) into its current state.
    let replay (events: LifecycleEvent seq) : RequestAggregate option =
        events |> Seq.fold (fun s e -> Some(evolve s e)) None

    /// The status name an event leaves the request in, for the readable history.
    let statusAfter (a: RequestAggregate) : string = RequestStatus.name a.Status

    /// The wire name of an event kind (stored in the log's `kind` column).
    let kindName (k: EventKind) : string =
        match k with
        | Created(_, false) -> "created"
        | Created(_, true) -> "created_unsolicited"
        | ReservationMade _ -> "reserved"
        | LeaseExtended _ -> "lease_extended"
        | Released -> "released"
        | LeaseExpired -> "lease_expired"
        | EventKind.Retracted -> "retracted"
        | ResolvedByHand -> "resolved"
        | ResultPosted _ -> "result_posted"
        | ResultStatusChanged(_, s) -> "result_" + ResultStatus.name s
