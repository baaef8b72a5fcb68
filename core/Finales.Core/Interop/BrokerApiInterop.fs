namespace Finales.Core.Interop

open System
open System.Collections.Generic
open System.Runtime.InteropServices
open System.Text.Json
open Finales.Core

/// One validation problem as C# sees it: the JSON path of the offending value (object keys, array indices as
/// decimal strings), a message naming the field and the value, and the FastAPI-style kind ("value_error", ...).
[<Sealed>]
type Issue(path: IReadOnlyList<string>, message: string, kind: string) =
    member _.Path = path
    member _.Message = message
    member _.Kind = kind
    /// The path the way a reader writes it: `formulation[2].fraction`; `<root>` for the empty path.
    member _.RenderedPath = ValidationIssue.renderPath (List.ofSeq path)

    static member internal Of(issue: ValidationIssue) =
        Issue(List.toArray issue.Path, issue.Message, issue.Kind)

    static member internal All(issues: ValidationIssue list) : IReadOnlyList<Issue> =
        issues |> List.map Issue.Of |> List.toArray :> IReadOnlyList<Issue>

/// A (quantity, method) capability a tenant offers.
[<Sealed>]
type Offering(quantity: string, methodName: string) =
    member _.Quantity = quantity
    member _.Method = methodName

/// Per capability, the limitation documents of the tenants offering it (what `GET /limitations/` lists).
[<Sealed>]
type LimitationGroup(quantity: string, methodName: string, documents: IReadOnlyList<JsonElement>) =
    member _.Quantity = quantity
    member _.Method = methodName
    /// The limitation entries in tenant order (a tenant's array document contributes each of its items).
    member _.Documents = documents

/// The broker core for the C# host: decoding, validation, the reservation policy, status commands and catalog
/// assembly, with C# shapes only (Try-pattern methods with `out` values and `IReadOnlyList`, `Nullable`, enums).
[<AbstractClass; Sealed>]
type BrokerApiCore =
    static member private Empty: IReadOnlyList<Issue> = Array.empty<Issue>
    static member private NoWarnings: IReadOnlyList<string> = Array.empty<string>

    /// The Try-pattern's out-values from a decoder's or validator's result.
    static member private Out
        (r: Result<'T, ValidationIssue list>, value: byref<'T>, issues: byref<IReadOnlyList<Issue>>)
        : bool =
        match r with
        | Ok v ->
            value <- v
            issues <- BrokerApiCore.Empty
            true
        | Error es ->
            issues <- Issue.All es
            false

    /// `Out` for validators, whose success value is the list of warnings.
    static member private Checked
        (
            r: Result<string list, ValidationIssue list>,
            warnings: byref<IReadOnlyList<string>>,
            issues: byref<IReadOnlyList<Issue>>
        ) : bool =
        let mutable ws = []
        let ok = BrokerApiCore.Out(r, &ws, &issues)

        warnings <-
            if ok then
                List.toArray ws :> IReadOnlyList<string>
            else
                BrokerApiCore.NoWarnings

        ok

    static member private Option(value: Nullable<Guid>) =
        if value.HasValue then Some value.Value else None

    static member private Nullable(value: Guid option) =
        match value with
        | Some g -> Nullable g
        | None -> Nullable()

    /// A JSON body read by the core's one strict reader (duplicate members, non-finite numbers, invalid UTF-8,
    /// lone surrogates and NULs refused); `issue` names the path under `root` otherwise.
    static member TryParseJson
        (
            utf8: ReadOnlyMemory<byte>,
            root: IReadOnlyList<string>,
            [<Out>] document: byref<JsonDocument>,
            [<Out>] issue: byref<Issue>
        ) : bool =
        match StrictJson.parseBytes StrictJson.defaultLimits (List.ofSeq root) utf8 with
        | Ok d ->
            document <- d
            true
        | Error e ->
            issue <- Issue.Of e
            false

    /// Text read by the strict reader, as <see cref="TryParseJson"/>.
    static member TryParseJsonText
        (text: string, root: IReadOnlyList<string>, [<Out>] document: byref<JsonDocument>, [<Out>] issue: byref<Issue>)
        : bool =
        match StrictJson.parseText StrictJson.defaultLimits (List.ofSeq root) text with
        | Ok d ->
            document <- d
            true
        | Error e ->
            issue <- Issue.Of e
            false

    /// The UUID spellings FINALES2 (Python's uuid.UUID) accepts: dashed, 32 hex digits, braces, `urn:uuid:`.
    static member TryParseUuid(text: string, [<Out>] value: byref<Guid>) : bool =
        match WireFormat.tryParseUuid text with
        | Some g ->
            value <- g
            true
        | None -> false

    /// A request body decoded under `limits`; `issues` name every problem otherwise.
    static member TryDecodeRequest
        (
            limits: InputLimits,
            body: JsonElement,
            [<Out>] request: byref<RequestBody>,
            [<Out>] issues: byref<IReadOnlyList<Issue>>
        ) : bool =
        BrokerApiCore.Out(Wire.requestWithin limits [] body, &request, &issues)

    /// A result body decoded under `limits` (`solicited`: its request_uuid is required).
    static member TryDecodeResult
        (
            limits: InputLimits,
            solicited: bool,
            body: JsonElement,
            [<Out>] result: byref<ResultBody>,
            [<Out>] issues: byref<IReadOnlyList<Issue>>
        ) : bool =
        BrokerApiCore.Out(Wire.resultWithin limits solicited [] body, &result, &issues)

    /// The request's optional `parent_request`.
    static member ParentRequest(request: RequestBody) : Nullable<Guid> =
        BrokerApiCore.Nullable request.ParentRequest

    /// The tenant a request is posted for.
    static member TenantOf(request: RequestBody) : Guid = request.TenantUuid

    /// The tenant a result is posted for.
    static member TenantOf(result: ResultBody) : Guid = result.TenantUuid

    /// The request a result answers (null for an unsolicited result).
    static member RequestOf(result: ResultBody) : Nullable<Guid> =
        BrokerApiCore.Nullable result.RequestUuid

    /// Validates a decoded request against the catalog (capabilities, schemas, limitations under `policy`);
    /// `warnings` are what policy Warn let through.
    static member TryValidateRequest
        (
            limits: InputLimits,
            catalog: Catalog,
            policy: LimitationPolicy,
            request: RequestBody,
            [<Out>] warnings: byref<IReadOnlyList<string>>,
            [<Out>] issues: byref<IReadOnlyList<Issue>>
        ) : bool =
        BrokerApiCore.Checked(Catalog.validateRequestWithin limits catalog policy request, &warnings, &issues)

    /// Validates a result against the request it answers, given as the request body the broker stored (null for
    /// an unsolicited result), and the capability's result schema under `policy`.
    static member TryValidateResult
        (
            catalog: Catalog,
            policy: LimitationPolicy,
            storedRequest: string,
            result: ResultBody,
            [<Out>] warnings: byref<IReadOnlyList<string>>,
            [<Out>] issues: byref<IReadOnlyList<Issue>>
        ) : bool =
        let request =
            if isNull storedRequest then
                None
            else
                // What the broker stored itself, possibly under other limits: read back without caps.
                use doc = JsonDocument.Parse storedRequest

                match Wire.requestWithin InputLimits.none [] doc.RootElement with
                | Ok r -> Some r
                | Error _ -> None

        BrokerApiCore.Checked(Catalog.validateResult catalog policy request result, &warnings, &issues)

    /// The reservation policy (`Catalog.mayReserve`): false with the reason when the caller may not reserve.
    static member MayReserve
        (
            catalog: Catalog,
            isAdmin: bool,
            tenant: Nullable<Guid>,
            quantity: string,
            methods: IEnumerable<string>,
            [<Out>] refusal: byref<string>
        ) : bool =
        match Catalog.mayReserve catalog isAdmin (BrokerApiCore.Option tenant) quantity (List.ofSeq methods) with
        | Ok() -> true
        | Error why ->
            refusal <- why
            false

    /// The distinct capabilities the tenant's limitations offer, in registration order (none for no tenant).
    static member Offerings(catalog: Catalog, tenant: Nullable<Guid>) : IReadOnlyList<Offering> =
        catalog.Tenants
        |> List.filter (fun t -> tenant.HasValue && t.Uuid = tenant.Value)
        |> List.collect (fun t -> t.Limitations |> List.map (fun l -> l.Quantity, l.Method))
        |> List.distinct
        |> List.map Offering
        |> List.toArray
        :> IReadOnlyList<Offering>

    /// Whether some active tenant offers (quantity, method).
    static member IsOffered(catalog: Catalog, quantity: string, methodName: string) : bool =
        not (Catalog.offeredBy catalog quantity methodName).IsEmpty

    /// Whether the broker knows (quantity, method) at all: an active capability or an active tenant offering it.
    static member IsKnown(catalog: Catalog, quantity: string, methodName: string) : bool =
        (Catalog.activeCapability catalog quantity methodName).IsSome
        || BrokerApiCore.IsOffered(catalog, quantity, methodName)

    /// Per (quantity, method), in order of first appearance, the limitation entries of the tenants (the active ones
    /// when `onlyActive`) offering it; an array document contributes each of its items.
    static member LimitationGroups(catalog: Catalog, onlyActive: bool) : IReadOnlyList<LimitationGroup> =
        let order = ResizeArray<string * string>()
        let groups = Dictionary<string * string, ResizeArray<JsonElement>>()

        for t in catalog.Tenants do
            if t.IsActive || not onlyActive then
                for l in t.Limitations do
                    let key = l.Quantity, l.Method

                    let list =
                        match groups.TryGetValue key with
                        | true, list -> list
                        | _ ->
                            let list = ResizeArray()
                            groups[key] <- list
                            order.Add key
                            list

                    if l.Document.ValueKind = JsonValueKind.Array then
                        list.AddRange(l.Document.EnumerateArray())
                    else
                        list.Add l.Document

        order
        |> Seq.map (fun (q, m) -> LimitationGroup(q, m, groups[q, m].ToArray()))
        |> Seq.toArray
        :> IReadOnlyList<LimitationGroup>

    /// A status name of the stock update_status route.
    static member TryParseRequestState(text: string, [<Out>] state: byref<RequestStatusCode>) : bool =
        match RequestStatus.tryParse text with
        | Some Pending ->
            state <- RequestStatusCode.Pending
            true
        | Some Reserved ->
            state <- RequestStatusCode.Reserved
            true
        | Some Resolved ->
            state <- RequestStatusCode.Resolved
            true
        | Some RequestStatus.Retracted ->
            state <- RequestStatusCode.Retracted
            true
        | Some Unsolicited ->
            state <- RequestStatusCode.Unsolicited
            true
        | None -> false

    /// The lifecycle command that moves a request to `state` (a reservation for `tenant` with `leaseSeconds`);
    /// false with the reason for `Unsolicited`, which only posting an unsolicited result sets.
    static member TryCommandFor
        (
            state: RequestStatusCode,
            tenant: Nullable<Guid>,
            leaseSeconds: float,
            [<Out>] command: byref<Command>,
            [<Out>] refusal: byref<string>
        ) : bool =
        let chosen =
            match state with
            | RequestStatusCode.Reserved -> Some(Reserve(BrokerApiCore.Option tenant, leaseSeconds))
            | RequestStatusCode.Pending -> Some Release
            | RequestStatusCode.Retracted -> Some Retract
            | RequestStatusCode.Resolved -> Some Resolve
            | _ -> None

        match chosen with
        | Some c ->
            command <- c
            true
        | None ->
            refusal <- "the status 'unsolicited' is set only by posting an unsolicited result"
            false

    /// The heartbeat command: extend the caller's lease by `leaseSeconds`.
    static member Heartbeat(leaseSeconds: float) : Command = Heartbeat leaseSeconds

    /// A result status name of the stock update_status route (original, deleted, amended).
    static member TryParseResultStatus(text: string, [<Out>] status: byref<ResultStatus>) : bool =
        match ResultStatus.tryParse text with
        | Some s ->
            status <- s
            true
        | None -> false

    /// Compiles a capability's two schemas; the error names which schema is broken.
    static member TryCompileCapability
        (
            id: int64,
            quantity: string,
            methodName: string,
            specification: JsonElement,
            resultOutput: JsonElement,
            [<Out>] capability: byref<Capability>,
            [<Out>] error: byref<string>
        ) : bool =
        match Catalog.compileCapability id quantity methodName specification resultOutput true with
        | Ok c ->
            capability <- c
            true
        | Error e ->
            error <- e
            false

    /// Compiles a stored capability version, reading its schemas as strictly as a request body; `problem` says
    /// why it is unusable (the path of bad JSON, or the broken schema).
    static member TryCompileStored
        (
            id: int64,
            quantity: string,
            methodName: string,
            specification: string,
            resultOutput: string,
            [<Out>] capability: byref<Capability>,
            [<Out>] problem: byref<string>
        ) : bool =
        let describe (i: ValidationIssue) =
            sprintf "%s: %s" (ValidationIssue.renderPath i.Path) i.Message

        match
            StrictJson.parseText StrictJson.defaultLimits [ "json_schema_specifications" ] specification,
            StrictJson.parseText StrictJson.defaultLimits [ "json_schema_result_output" ] resultOutput
        with
        | Ok spec, Ok output ->
            use spec = spec
            use output = output

            BrokerApiCore.TryCompileCapability(
                id,
                quantity,
                methodName,
                spec.RootElement,
                output.RootElement,
                &capability,
                &problem
            )
        | Error e, other ->
            match other with
            | Ok d -> d.Dispose()
            | Error _ -> ()

            problem <- describe e
            false
        | Ok spec, Error e ->
            spec.Dispose()
            problem <- describe e
            false

    /// A registered tenant with its usable limitation entries.
    static member Tenant
        (uuid: Guid, name: string, limitations: IEnumerable<TenantLimitation>, contactPerson: string, isActive: bool)
        : Tenant =
        { Uuid = uuid
          Name = name
          Limitations = List.ofSeq limitations
          ContactPerson = contactPerson
          IsActive = isActive }

    /// The catalog snapshot of compiled capabilities and tenants.
    static member Catalog(capabilities: IEnumerable<Capability>, tenants: IEnumerable<Tenant>) : Catalog =
        { Capabilities = List.ofSeq capabilities
          Tenants = List.ofSeq tenants }
