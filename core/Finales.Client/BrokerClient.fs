namespace Finales.Client

open System
open System.Collections.Generic
open System.Globalization
open System.Net.Http
open System.Net.Http.Headers
open System.Runtime.InteropServices
open System.Text
open System.Text.Json
open System.Threading
open System.Threading.Tasks

/// A request as the broker returns it (FINALES2 `RequestInfo`).
type RequestInfo =
    {
        Uuid: Guid
        Ctime: string
        Status: string
        Quantity: string
        Methods: IReadOnlyList<string>
        /// method -> parameters object
        Parameters: JsonElement
        TenantUuid: string
        /// The whole `request` object as sent.
        Request: JsonElement
    }

/// A result as the broker returns it (FINALES2 `ResultInfo`).
type ResultInfo =
    {
        Uuid: Guid
        Ctime: string
        Status: string
        RequestUuid: string
        Quantity: string
        Method: string
        Data: JsonElement
        TenantUuid: string
        /// The whole `result` object as sent.
        Result: JsonElement
    }

/// The status code and body of one broker answer.
type BrokerResponse = { StatusCode: int; Body: string }

/// The broker answered with a status the call does not accept (4xx, 5xx). `Detail` is the body's `detail` (or the
/// whole body when it has none).
[<Sealed>]
type BrokerException(statusCode: int, detail: string) =
    inherit Exception(sprintf "the broker answered %d: %s" statusCode detail)

    /// The HTTP status code of the answer.
    member _.StatusCode = statusCode

    /// The FINALES2 `detail` of the answer (a string, or the raw JSON of a structured detail), else the body.
    member _.Detail = detail

/// A Task-based client for any FINALES2-compatible broker (ours adds claim, heartbeat, history).
/// Logs in lazily and again when the token is about to expire or is refused. Thread-safe.
/// Every call takes an optional CancellationToken; "none" answers are null (C#) — F# scripts can use the
/// `Broker` module, which speaks options and lists.
[<Sealed>]
type BrokerClient private (baseUrl: string, username: string, password: string, http: HttpClient, ownsHttp: bool) =
    let baseUrl = baseUrl.TrimEnd('/')
    let gate = new SemaphoreSlim(1, 1)
    let mutable token: string = ""
    let mutable tokenUntil = DateTime.MinValue

    static let str (e: JsonElement) : string = e.GetString() |> Unchecked.nonNull

    static let parseRequestInfo (e: JsonElement) : RequestInfo =
        let r = e.GetProperty "request"

        { Uuid = Guid.Parse(str (e.GetProperty "uuid"))
          Ctime = str (e.GetProperty "ctime")
          Status = str (e.GetProperty "status")
          Quantity = str (r.GetProperty "quantity")
          Methods = Array.AsReadOnly [| for m in r.GetProperty("methods").EnumerateArray() -> str m |]
          Parameters = r.GetProperty("parameters").Clone()
          TenantUuid = str (r.GetProperty "tenant_uuid")
          Request = r.Clone() }

    static let parseResultInfo (e: JsonElement) : ResultInfo =
        let r = e.GetProperty "result"
        let m = r.GetProperty "method"

        { Uuid = Guid.Parse(str (e.GetProperty "uuid"))
          Ctime = str (e.GetProperty "ctime")
          Status = str (e.GetProperty "status")
          RequestUuid = str (r.GetProperty "request_uuid")
          Quantity = str (r.GetProperty "quantity")
          Method =
            (if m.ValueKind = JsonValueKind.Array && m.GetArrayLength() > 0 then
                 str m[0]
             else
                 "")
          Data = r.GetProperty("data").Clone()
          TenantUuid = str (r.GetProperty "tenant_uuid")
          Result = r.Clone() }

    static let number (v: float) =
        v.ToString(CultureInfo.InvariantCulture)

    static let query (pairs: (string * (string | null)) list) =
        let parts =
            pairs
            |> List.choose (fun (k, v) ->
                match v with
                | null -> None
                | v -> Some(k + "=" + Uri.EscapeDataString v))

        if parts.IsEmpty then "" else "?" + String.Join("&", parts)

    static let ofNullable (v: Nullable<'T>) (format: 'T -> string) : string | null =
        if v.HasValue then format v.Value else null

    /// A client with its own HttpClient (100 s timeout), disposed with the client.
    new(baseUrl: string, username: string, password: string) =
        new BrokerClient(baseUrl, username, password, new HttpClient(Timeout = TimeSpan.FromSeconds 100.0), true)

    /// A client on the caller's HttpClient (its timeout applies; it is not disposed with the client).
    new(baseUrl: string, username: string, password: string, http: HttpClient) =
        if obj.ReferenceEquals(http, null) then
            nullArg (nameof http)

        new BrokerClient(baseUrl, username, password, http, false)

    /// Parses the text of a JSON document, cloned so it outlives it.
    static member ParseJson(text: string) : JsonElement =
        use doc = JsonDocument.Parse text
        doc.RootElement.Clone()

    member _.BaseUrl = baseUrl
    member _.Username = username

    /// Logs in now (POST /user_management/authenticate) and keeps the token.
    member _.LoginAsync([<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken) : Task =
        task {
            use form =
                new FormUrlEncodedContent(dict [ "username", username; "password", password; "grant_type", "password" ])

            use! resp = http.PostAsync(baseUrl + "/user_management/authenticate", form, ct)
            let! body = resp.Content.ReadAsStringAsync(ct)

            if not resp.IsSuccessStatusCode then
                raise (BrokerException(int resp.StatusCode, body))

            use doc = JsonDocument.Parse body
            token <- str (doc.RootElement.GetProperty "access_token")
            // Renew well before the broker's expiry (we do not know it; FINALES2 uses minutes to hours).
            tokenUntil <- DateTime.UtcNow.AddMinutes 10.0
        }
        :> Task

    member private this.EnsureToken(ct: CancellationToken) : Task =
        task {
            if String.IsNullOrEmpty token || DateTime.UtcNow >= tokenUntil then
                do! gate.WaitAsync(ct)

                try
                    if String.IsNullOrEmpty token || DateTime.UtcNow >= tokenUntil then
                        do! this.LoginAsync(ct)
                finally
                    gate.Release() |> ignore
        }

    /// Sends one call with the JSON `body` (null: none); on 401 logs in again once. Throws BrokerException on a
    /// status outside 2xx-3xx unless it is in `accept`.
    member this.SendAsync
        (
            method: HttpMethod,
            path: string,
            body: string | null,
            accept: IReadOnlyCollection<int>,
            [<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken
        ) : Task<BrokerResponse> =
        task {
            let send () =
                task {
                    do! this.EnsureToken ct
                    use msg = new HttpRequestMessage(method, baseUrl + path)
                    msg.Headers.Authorization <- AuthenticationHeaderValue("Bearer", token)

                    match body with
                    | null -> ()
                    | b -> msg.Content <- new StringContent(b, Encoding.UTF8, "application/json")

                    use! resp = http.SendAsync(msg, ct)
                    let! text = resp.Content.ReadAsStringAsync(ct)

                    return
                        { StatusCode = int resp.StatusCode
                          Body = text }
                }

            let! first = send ()

            let! answer =
                if first.StatusCode = 401 then
                    token <- ""
                    send ()
                else
                    Task.FromResult first

            let status = answer.StatusCode

            if (status >= 400 || status < 200) && not (Seq.contains status accept) then
                let detail =
                    try
                        use d = JsonDocument.Parse answer.Body

                        match d.RootElement.TryGetProperty "detail" with
                        | true, v when v.ValueKind = JsonValueKind.String -> str v
                        | true, v -> v.GetRawText()
                        | _ -> answer.Body
                    with _ ->
                        answer.Body

                raise (BrokerException(status, detail))

            return answer
        }

    member private this.GetJson(path: string, ct: CancellationToken) : Task<JsonElement> =
        task {
            let! answer = this.SendAsync(HttpMethod.Get, path, null, [||], ct)
            return BrokerClient.ParseJson answer.Body
        }

    member private this.GetList
        (path: string, parse: JsonElement -> 'T, ct: CancellationToken)
        : Task<IReadOnlyList<'T>> =
        task {
            let! e = this.GetJson(path, ct)
            return Array.AsReadOnly [| for x in e.EnumerateArray() -> parse x |] :> IReadOnlyList<'T>
        }

    member private this.GetOne<'T when 'T: not struct and 'T: not null>
        (path: string, parse: JsonElement -> 'T, ct: CancellationToken)
        : Task<'T | null> =
        task {
            let! e = this.GetJson(path, ct)

            return
                if e.ValueKind = JsonValueKind.Null then
                    null
                else
                    withNull (parse e)
        }

    /// POST /requests/ with a full FINALES2 request body; returns the new id.
    member this.PostRequestJsonAsync
        (requestJson: string, [<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken)
        : Task<Guid> =
        task {
            let! answer = this.SendAsync(HttpMethod.Post, "/requests/", requestJson, [||], ct)
            return Guid.Parse(JsonSerializer.Deserialize<string> answer.Body |> Unchecked.nonNull)
        }

    /// POST /requests/ for one method: {quantity, methods:[method], parameters:{method: parameters}, tenant_uuid}.
    member this.PostRequestAsync
        (
            quantity: string,
            methodName: string,
            parameters: JsonElement,
            tenant: Guid,
            [<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken
        ) : Task<Guid> =
        let body =
            sprintf
                """{"quantity":%s,"methods":[%s],"parameters":{%s:%s},"tenant_uuid":"%s"}"""
                (JsonSerializer.Serialize quantity)
                (JsonSerializer.Serialize methodName)
                (JsonSerializer.Serialize methodName)
                (parameters.GetRawText())
                (tenant.ToString "D")

        this.PostRequestJsonAsync(body, ct)

    /// GET /pending_requests/, filtered by quantity and method when given (null: any), long-polling up to
    /// `waitSeconds` on our broker.
    member this.PendingAsync
        (
            [<Optional>] quantity: string | null,
            [<Optional>] methodName: string | null,
            [<Optional>] waitSeconds: Nullable<float>,
            [<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken
        ) : Task<IReadOnlyList<RequestInfo>> =
        let q =
            query
                [ "quantity", quantity
                  "method", methodName
                  "wait_seconds", ofNullable waitSeconds number ]

        this.GetList("/pending_requests/" + q, parseRequestInfo, ct)

    /// GET /all_requests/.
    member this.AllRequestsAsync
        ([<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken)
        : Task<IReadOnlyList<RequestInfo>> =
        this.GetList("/all_requests/", parseRequestInfo, ct)

    /// GET /requests/{id}; null when the broker does not know the request.
    member this.RequestAsync
        (id: Guid, [<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken)
        : Task<RequestInfo | null> =
        this.GetOne("/requests/" + id.ToString "D", parseRequestInfo, ct)

    /// Sets a request's status with the stock route (`message`: the status change message, null for none);
    /// false when the broker refuses with 409 (e.g. already reserved).
    member this.UpdateRequestStatusAsync
        (
            id: Guid,
            status: string,
            [<Optional>] message: string | null,
            [<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken
        ) : Task<bool> =
        task {
            let q =
                query
                    [ "request_id", id.ToString "D"
                      "new_status", status
                      "status_change_message", message ]

            let! answer =
                this.SendAsync(HttpMethod.Post, sprintf "/requests/%O/update_status/%s" id q, null, [| 409 |], ct)

            return answer.StatusCode < 300
        }

    /// Reserves a pending request with the stock route; false when someone else was first (409).
    member this.ReserveAsync
        (id: Guid, [<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken)
        : Task<bool> =
        this.UpdateRequestStatusAsync(id, "reserved", null, ct)

    /// Our extension: reserve the oldest matching pending request in one round trip, for `tenant` when given.
    /// Null when nothing is pending. Throws BrokerException 404/405 on a stock FINALES2 server (use PendingAsync +
    /// ReserveAsync there).
    member this.ClaimAsync
        (
            quantity: string,
            methodName: string,
            leaseSeconds: float,
            [<Optional>] tenant: Nullable<Guid>,
            [<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken
        ) : Task<RequestInfo | null> =
        task {
            let q =
                query
                    [ "quantity", quantity
                      "method", methodName
                      "lease_seconds", number leaseSeconds
                      "tenant_uuid", ofNullable tenant (fun t -> t.ToString "D") ]

            let! answer = this.SendAsync(HttpMethod.Post, "/requests/claim" + q, null, [||], ct)

            let claimed: RequestInfo | null =
                if answer.StatusCode = 204 || String.IsNullOrWhiteSpace answer.Body then
                    null
                else
                    parseRequestInfo (BrokerClient.ParseJson answer.Body)

            return claimed
        }

    /// Our extension: extend the lease of a reservation.
    member this.HeartbeatAsync
        (id: Guid, leaseSeconds: float, [<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken)
        : Task =
        this.SendAsync(
            HttpMethod.Post,
            sprintf "/requests/%O/heartbeat?lease_seconds=%s" id (number leaseSeconds),
            null,
            [||],
            ct
        )
        :> Task

    /// POST /results/ with a full FINALES2 result body; returns the result id.
    member this.PostResultJsonAsync
        (resultJson: string, [<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken)
        : Task<Guid> =
        task {
            let! answer = this.SendAsync(HttpMethod.Post, "/results/", resultJson, [||], ct)
            return Guid.Parse(JsonSerializer.Deserialize<string> answer.Body |> Unchecked.nonNull)
        }

    /// GET /results_requested/{requestId}: the request's current result; null when it has none.
    member this.ResultForRequestAsync
        (requestId: Guid, [<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken)
        : Task<ResultInfo | null> =
        this.GetOne("/results_requested/" + requestId.ToString "D", parseResultInfo, ct)

    /// GET /results_requested/, filtered by quantity, method and minimum rating when given (null: any).
    member this.ResultsAsync
        (
            [<Optional>] quantity: string | null,
            [<Optional>] methodName: string | null,
            [<Optional>] minRating: Nullable<float>,
            [<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken
        ) : Task<IReadOnlyList<ResultInfo>> =
        let q =
            query
                [ "quantity", quantity
                  "method", methodName
                  "min_rating", ofNullable minRating number ]

        this.GetList("/results_requested/" + q, parseResultInfo, ct)

    /// GET /capabilities/ as raw JSON array.
    member this.CapabilitiesAsync
        (
            [<Optional; DefaultParameterValue(true)>] currentlyAvailable: bool,
            [<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken
        ) : Task<JsonElement> =
        this.GetJson(
            "/capabilities/?currently_available="
            + (if currentlyAvailable then "true" else "false"),
            ct
        )

    /// GET /limitations/ as raw JSON array of {quantity, method, limitations}.
    member this.LimitationsAsync
        (
            [<Optional; DefaultParameterValue(true)>] currentlyAvailable: bool,
            [<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken
        ) : Task<JsonElement> =
        this.GetJson(
            "/limitations/?currently_available="
            + (if currentlyAvailable then "true" else "false"),
            ct
        )

    /// GET /tenants/ as raw JSON array.
    member this.TenantsAsync
        ([<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken)
        : Task<JsonElement> =
        this.GetJson("/tenants/", ct)

    /// Our extension: replace the limitations of a tenant (FINALES2 list of {quantity, method, limitations}).
    member this.SetLimitationsAsync
        (
            tenant: Guid,
            limitationsJson: string,
            [<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken
        ) : Task =
        this.SendAsync(HttpMethod.Put, sprintf "/tenants/%O/limitations" tenant, limitationsJson, [||], ct) :> Task

    /// Admin: POST a JSON body to an /admin route; returns the response body.
    member this.AdminPostAsync
        (path: string, json: string, [<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken)
        : Task<string> =
        task {
            let! answer = this.SendAsync(HttpMethod.Post, path, json, [||], ct)
            return answer.Body
        }

    /// Does the broker offer our one-round-trip claim (false for a stock FINALES2 server)?
    member this.SupportsClaimAsync
        ([<Optional; DefaultParameterValue(CancellationToken())>] ct: CancellationToken)
        : Task<bool> =
        task {
            try
                use! resp = http.GetAsync(baseUrl + "/healthz", ct)
                return resp.IsSuccessStatusCode
            with _ ->
                return false
        }

    interface IDisposable with
        member _.Dispose() =
            gate.Dispose()

            if ownsHttp then
                http.Dispose()
