namespace Finales.Core

open System
open System.Text.Json

/// A registered capability version (FINALES2 `CapabilityInfo` plus bookkeeping).
type Capability =
    { Id: int64
      Quantity: string
      Method: string
      Specification: JsonElement
      ResultOutput: JsonElement
      CompiledSpecification: CapabilitySchema.Compiled
      CompiledResultOutput: CapabilitySchema.Compiled
      IsActive: bool }

/// One (quantity, method) limitation document of a tenant, parsed.
type TenantLimitation =
    { Quantity: string
      Method: string
      Document: JsonElement
      Parsed: Limitations.Parsed }

/// A registered tenant (FINALES2 `TenantInfo`).
type Tenant =
    { Uuid: Guid
      Name: string
      Limitations: TenantLimitation list
      ContactPerson: string
      IsActive: bool }

/// What the broker does with a request that no active tenant's limitations admit (FINALES2#112).
type LimitationPolicy =
    | Reject
    | Warn
    | Off

/// The active capabilities and tenants: everything validation needs, as one immutable snapshot.
type Catalog =
    { Capabilities: Capability list
      Tenants: Tenant list }

[<RequireQualifiedAccess>]
module Catalog =
    let empty: Catalog = { Capabilities = []; Tenants = [] }

    /// Compiles a capability's two schemas; the error names which schema is broken.
    let compileCapability
        (id: int64)
        (quantity: string)
        (methodName: string)
        (spec: JsonElement)
        (output: JsonElement)
        (isActive: bool)
        : Result<Capability, string> =
        match CapabilitySchema.compile spec, CapabilitySchema.compile output with
        | Ok s, Ok o ->
            Ok
                { Id = id
                  Quantity = quantity
                  Method = methodName
                  Specification = spec.Clone()
                  ResultOutput = output.Clone()
                  CompiledSpecification = s
                  CompiledResultOutput = o
                  IsActive = isActive }
        | Error e, _ ->
            Error(sprintf "json_schema_specifications of %s/%s is not a usable JSON schema: %s" quantity methodName e)
        | _, Error e ->
            Error(sprintf "json_schema_result_output of %s/%s is not a usable JSON schema: %s" quantity methodName e)

    /// The active capability version for (quantity, method), if any.
    let activeCapability (catalog: Catalog) (quantity: string) (methodName: string) : Capability option =
        catalog.Capabilities
        |> List.tryFind (fun c -> c.IsActive && c.Quantity = quantity && c.Method = methodName)

    /// Limitation documents of the active tenants offering (quantity, method).
    let offeredBy (catalog: Catalog) (quantity: string) (methodName: string) : TenantLimitation list =
        catalog.Tenants
        |> List.filter (fun t -> t.IsActive)
        |> List.collect (fun t ->
            t.Limitations
            |> List.filter (fun l -> l.Quantity = quantity && l.Method = methodName))

    /// Whether the tenant is registered, active, and its limitations include `quantity` with one of `methods`.
    let offers (catalog: Catalog) (tenant: Guid) (quantity: string) (methods: string list) : bool =
        catalog.Tenants
        |> List.exists (fun t ->
            t.Uuid = tenant
            && t.IsActive
            && t.Limitations
               |> List.exists (fun l -> l.Quantity = quantity && List.contains l.Method methods))

    /// The reservation policy (stock `update_status` reserve and claim): a tenant reserves only what its registered
    /// limitations offer (the request's quantity and one of its methods); admins are excepted. A non-admin user
    /// acting for no tenant may not reserve. The error says why (the host answers 403).
    let mayReserve
        (catalog: Catalog)
        (isAdmin: bool)
        (tenant: Guid option)
        (quantity: string)
        (methods: string list)
        : Result<unit, string> =
        match tenant with
        | _ when isAdmin -> Ok()
        | None -> Error "only a tenant (or an admin) may reserve requests; this user acts for no tenant"
        | Some t when offers catalog t quantity methods -> Ok()
        | Some t ->
            Error(
                sprintf
                    "tenant %s does not offer %s with method %s (its registered limitations do not include it), so it may not reserve this request"
                    (WireFormat.uuid t)
                    quantity
                    (String.Join(" or ", methods))
            )

    let private prefix (path: string list) (issues: ValidationIssue list) =
        issues |> List.map (fun i -> { i with Path = path @ i.Path })

    /// Arrays in request parameters longer than the limits allow (any array; `formulation` rows), in one walk.
    let private oversizedArrays (limits: InputLimits) (path: string list) (value: JsonElement) : ValidationIssue list =
        let issues = ResizeArray<ValidationIssue>()

        let rec walk (path: string list) (field: string) (e: JsonElement) =
            if issues.Count < 10 then
                match e.ValueKind with
                | JsonValueKind.Object ->
                    for p in e.EnumerateObject() do
                        walk (path @ [ p.Name ]) p.Name p.Value
                | JsonValueKind.Array ->
                    let n = e.GetArrayLength()

                    let cap, what =
                        if field = "formulation" then
                            limits.MaxFormulationRows, "formulation rows"
                        else
                            limits.MaxParameterArrayItems, "items"

                    if n > cap then
                        issues.Add
                            { Path = path
                              Message =
                                sprintf
                                    "%s holds %d %s; at most %d are allowed"
                                    (ValidationIssue.renderPath path)
                                    n
                                    what
                                    cap
                              Kind = "value_error.list.max_items" }
                    else
                        e.EnumerateArray() |> Seq.iteri (fun i x -> walk (path @ [ string i ]) field x)
                | _ -> ()

        walk path "" value
        List.ofSeq issues

    /// One set of offers judged with its failures contained: an offer whose evaluation fails (it cannot, once parsed
    /// strictly, but a stored document is shared state) does not admit and names itself, and never fails the request.
    /// The verdict, and whether it is an evaluation failure rather than a refusal.
    let private checkOffer (offer: TenantLimitation) (parameters: JsonElement) =
        try
            Limitations.check [ offer.Parsed ] parameters, false
        with e ->
            Error
                [ { Path = []
                    Message =
                      sprintf
                          "a tenant's limitations for %s/%s could not be evaluated (%s)"
                          offer.Quantity
                          offer.Method
                          e.Message
                    Kind = "limitations" } ],
            true

    /// Validates a decoded request: every method has an active capability, its parameters satisfy the
    /// active schema, and (policy `Reject`) some active tenant's limitations admit at least one method.
    /// Returns warnings (policy `Warn`) on success. Paths are relative to the request body.
    /// Parameter arrays beyond `limits` are refused first (422 naming the array and the limit).
    let validateRequestWithin
        (limits: InputLimits)
        (catalog: Catalog)
        (policy: LimitationPolicy)
        (request: RequestBody)
        : Result<string list, ValidationIssue list> =
        let byMethod = dict request.Parameters

        let sizeIssues =
            request.Parameters
            |> List.collect (fun (m, parameters) -> oversizedArrays limits [ "parameters"; m ] parameters)

        let perMethod =
            if not sizeIssues.IsEmpty then
                [ Error sizeIssues ]
            else
                request.Methods
                |> List.mapi (fun i m ->
                    match activeCapability catalog request.Quantity m with
                    | None ->
                        Error
                            [ { Path = [ "methods"; i.ToString() ]
                                Message =
                                  sprintf "no active capability for quantity %s and method %s" request.Quantity m
                                Kind = "value_error" } ]
                    | Some cap ->
                        let parameters = byMethod.[m]

                        match CapabilitySchema.validate cap.CompiledSpecification parameters with
                        | [] -> Ok(m, parameters)
                        | issues -> Error(prefix [ "parameters"; m ] issues))

        let schemaIssues =
            perMethod
            |> List.collect (function
                | Error es -> es
                | Ok _ -> [])

        if not schemaIssues.IsEmpty then
            Error schemaIssues
        else
            let verdicts =
                perMethod
                |> List.choose (function
                    | Ok v -> Some v
                    | Error _ -> None)
                |> List.map (fun (m, parameters) ->
                    match offeredBy catalog request.Quantity m with
                    | [] -> Ok()
                    | offers ->
                        // Each tenant's offer on its own (the same verdict as all alternatives at once: admitted by
                        // any, else the closest refusal), so one tenant's offer can never fail another's.
                        // Stops at the first offer that admits; refusals are kept only while none does.
                        let refusals = ResizeArray()
                        let mutable admitted = false
                        let mutable rest = offers

                        while not admitted && not rest.IsEmpty do
                            match checkOffer rest.Head parameters with
                            | Ok(), _ -> admitted <- true
                            | verdict -> refusals.Add verdict

                            rest <- rest.Tail

                        if admitted then
                            Ok()
                        else
                            // The closest refusal among the offers that could be evaluated (else the failures).
                            let verdicts = List.ofSeq refusals
                            let judged = verdicts |> List.filter (snd >> not)

                            (if judged.IsEmpty then verdicts else judged)
                            |> List.map (function
                                | Error es, _ -> es
                                | Ok(), _ -> [])
                            |> List.minBy List.length
                            |> prefix [ "parameters"; m ]
                            |> Error)

            if policy = Off || verdicts |> List.exists Result.isOk then
                Ok []
            else
                let issues =
                    verdicts
                    |> List.collect (function
                        | Error es -> es
                        | Ok _ -> [])

                match policy with
                | Warn ->
                    Ok(
                        issues
                        |> List.map (fun i -> sprintf "%s: %s" (String.Join(".", i.Path)) i.Message)
                    )
                | _ -> Error issues

    /// `validateRequestWithin` under the default input limits.
    let validateRequest
        (catalog: Catalog)
        (policy: LimitationPolicy)
        (request: RequestBody)
        : Result<string list, ValidationIssue list> =
        validateRequestWithin InputLimits.defaults catalog policy request

    /// Validates a result against its request (quantity and method must be the request's, always) and the
    /// active capability's result schema (under `schemaPolicy`: `Warn` accepts and returns the problems as
    /// warnings, for community examples whose data break their own schema). Paths are relative to the result body.
    let validateResult
        (catalog: Catalog)
        (schemaPolicy: LimitationPolicy)
        (request: RequestBody option)
        (result: ResultBody)
        : Result<string list, ValidationIssue list> =
        let m = List.head result.Method

        let matchIssues =
            match request with
            | None -> []
            | Some r ->
                [ if r.Quantity <> result.Quantity then
                      { Path = [ "quantity" ]
                        Message =
                          sprintf "quantity %s does not match the request's quantity %s" result.Quantity r.Quantity
                        Kind = "value_error" }
                  if not (List.contains m r.Methods) then
                      { Path = [ "method"; "0" ]
                        Message =
                          sprintf "method %s is not among the request's methods %s" m (String.Join(", ", r.Methods))
                        Kind = "value_error" } ]

        if not matchIssues.IsEmpty then
            Error matchIssues
        else
            match activeCapability catalog result.Quantity m with
            | None ->
                Error
                    [ { Path = [ "method"; "0" ]
                        Message = sprintf "no active capability for quantity %s and method %s" result.Quantity m
                        Kind = "value_error" } ]
            | Some cap ->
                match schemaPolicy, CapabilitySchema.validate cap.CompiledResultOutput result.Data with
                | _, []
                | Off, _ -> Ok []
                | Warn, issues ->
                    Ok(
                        prefix [ "data" ] issues
                        |> List.map (fun i -> sprintf "%s: %s" (String.Join(".", i.Path)) i.Message)
                    )
                | Reject, issues -> Error(prefix [ "data" ] issues)
