namespace Finales.Client

open System
open System.Net
open System.Net.Http
open System.Net.Http.Headers
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
        Methods: string list
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

/// The broker answered with a non-success status; `Detail` is the body's `detail` (or the body).
exception BrokerError of status: int * detail: string

/// A Task-based client for any FINALES2-compatible broker (ours adds claim, heartbeat, history).
/// Logs in lazily and again when the token is about to expire or is refused. Thread-safe.
type BrokerClient(baseUrl: string, username: string, password: string, ?http: HttpClient) =
    let http =
        match http with
        | Some h -> h
        | None -> new HttpClient(Timeout = TimeSpan.FromSeconds 100.0)

    let baseUrl = baseUrl.TrimEnd('/')
    let gate = new SemaphoreSlim(1, 1)
    let mutable token: string = ""
    let mutable tokenUntil = DateTime.MinValue

    static let parseRequestInfo (e: JsonElement) : RequestInfo =
        let r = e.GetProperty "request"

        { Uuid = Guid.Parse(e.GetProperty("uuid").GetString())
          Ctime = e.GetProperty("ctime").GetString()
          Status = e.GetProperty("status").GetString()
          Quantity = r.GetProperty("quantity").GetString()
          Methods = [ for m in r.GetProperty("methods").EnumerateArray() -> m.GetString() ]
          Parameters = r.GetProperty("parameters").Clone()
          TenantUuid = r.GetProperty("tenant_uuid").GetString()
          Request = r.Clone() }

    static let parseResultInfo (e: JsonElement) : ResultInfo =
        let r = e.GetProperty "result"
        let m = r.GetProperty "method"

        { Uuid = Guid.Parse(e.GetProperty("uuid").GetString())
          Ctime = e.GetProperty("ctime").GetString()
          Status = e.GetProperty("status").GetString()
          RequestUuid = r.GetProperty("request_uuid").GetString()
          Quantity = r.GetProperty("quantity").GetString()
          Method =
            (if m.ValueKind = JsonValueKind.Array && m.GetArrayLength() > 0 then
                 m[0].GetString()
             else
                 "")
          Data = r.GetProperty("data").Clone()
          TenantUuid = r.GetProperty("tenant_uuid").GetString()
          Result = r.Clone() }

    static let query (pairs: (string * string option) list) =
        let parts =
            pairs
            |> List.choose (fun (k, v) -> v |> Option.map (fun v -> k + "=" + Uri.EscapeDataString v))

        if parts.IsEmpty then "" else "?" + String.Join("&", parts)

    /// Parses the `Parsed.Parse(...)` text of a JSON document, cloned so it outlives it.
    static member ParseJson(text: string) : JsonElement =
        use doc = JsonDocument.Parse text
        doc.RootElement.Clone()

    member _.BaseUrl = baseUrl
    member _.Username = username

    /// Logs in now (POST /user_management/authenticate) and keeps the token.
    member _.LoginAsync(?ct: CancellationToken) : Task =
        let ct = defaultArg ct CancellationToken.None

        task {
            use form =
                new FormUrlEncodedContent(dict [ "username", username; "password", password; "grant_type", "password" ])

            use! resp = http.PostAsync(baseUrl + "/user_management/authenticate", form, ct)
            let! body = resp.Content.ReadAsStringAsync(ct)

            if not resp.IsSuccessStatusCode then
                raise (BrokerError(int resp.StatusCode, body))

            use doc = JsonDocument.Parse body
            token <- doc.RootElement.GetProperty("access_token").GetString()
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

    /// Sends one call; on 401 logs in again once. Returns status and body; raises BrokerError on 4xx/5xx
    /// unless the status is in `accept`.
    member this.SendAsync
        (method: HttpMethod, path: string, body: string option, accept: int list, ct: CancellationToken)
        : Task<int * string> =
        task {
            let send () =
                task {
                    do! this.EnsureToken ct
                    use msg = new HttpRequestMessage(method, baseUrl + path)
                    msg.Headers.Authorization <- AuthenticationHeaderValue("Bearer", token)

                    match body with
                    | Some b -> msg.Content <- new StringContent(b, Encoding.UTF8, "application/json")
                    | None -> ()

                    use! resp = http.SendAsync(msg, ct)
                    let! text = resp.Content.ReadAsStringAsync(ct)
                    return int resp.StatusCode, text
                }

            let! status, text = send ()

            let! status, text =
                if status = 401 then
                    token <- ""
                    send ()
                else
                    Task.FromResult((status, text))

            if (status >= 400 || status < 200) && not (List.contains status accept) then
                let detail =
                    try
                        use d = JsonDocument.Parse text

                        match d.RootElement.TryGetProperty "detail" with
                        | true, v when v.ValueKind = JsonValueKind.String -> v.GetString()
                        | true, v -> v.GetRawText()
                        | _ -> text
                    with _ ->
                        text

                raise (BrokerError(status, detail))

            return status, text
        }

    member private this.GetJson(path: string, ct: CancellationToken) : Task<JsonElement> =
        task {
            let! _, text = this.SendAsync(HttpMethod.Get, path, None, [], ct)
            return BrokerClient.ParseJson text
        }

    /// POST /requests/ with a full FINALES2 request body; returns the new id.
    member this.PostRequestJsonAsync(requestJson: string, ?ct: CancellationToken) : Task<Guid> =
        task {
            let! _, text =
                this.SendAsync(
                    HttpMethod.Post,
                    "/requests/",
                    Some requestJson,
                    [],
                    defaultArg ct CancellationToken.None
                )

            return Guid.Parse(JsonSerializer.Deserialize<string> text)
        }

    /// POST /requests/ for one method: {quantity, methods:[method], parameters:{method: parameters}, tenant_uuid}.
    member this.PostRequestAsync
        (quantity: string, methodName: string, parameters: JsonElement, tenant: Guid, ?ct: CancellationToken)
        : Task<Guid> =
        let body =
            sprintf
                """{"quantity":%s,"methods":[%s],"parameters":{%s:%s},"tenant_uuid":"%s"}"""
                (JsonSerializer.Serialize quantity)
                (JsonSerializer.Serialize methodName)
                (JsonSerializer.Serialize methodName)
                (parameters.GetRawText())
                (tenant.ToString "D")

        this.PostRequestJsonAsync(body, defaultArg ct CancellationToken.None)

    /// GET /pending_requests/ (optionally long-polling up to waitSeconds on our broker).
    member this.PendingAsync
        (?quantity: string, ?methodName: string, ?waitSeconds: float, ?ct: CancellationToken)
        : Task<RequestInfo list> =
        task {
            let q =
                query
                    [ "quantity", quantity
                      "method", methodName
                      "wait_seconds",
                      waitSeconds
                      |> Option.map (fun w -> w.ToString(Globalization.CultureInfo.InvariantCulture)) ]

            let! e = this.GetJson("/pending_requests/" + q, defaultArg ct CancellationToken.None)
            return [ for x in e.EnumerateArray() -> parseRequestInfo x ]
        }

    member this.AllRequestsAsync(?ct: CancellationToken) : Task<RequestInfo list> =
        task {
            let! e = this.GetJson("/all_requests/", defaultArg ct CancellationToken.None)
            return [ for x in e.EnumerateArray() -> parseRequestInfo x ]
        }

    member this.RequestAsync(id: Guid, ?ct: CancellationToken) : Task<RequestInfo option> =
        task {
            let! e = this.GetJson("/requests/" + id.ToString "D", defaultArg ct CancellationToken.None)

            return
                if e.ValueKind = JsonValueKind.Null then
                    None
                else
                    Some(parseRequestInfo e)
        }

    /// Sets a request's status with the stock route; false when the broker refuses with 409 (e.g. already reserved).
    member this.UpdateRequestStatusAsync
        (id: Guid, status: string, ?message: string, ?ct: CancellationToken)
        : Task<bool> =
        task {
            let q =
                query
                    [ "request_id", Some(id.ToString "D")
                      "new_status", Some status
                      "status_change_message", message ]

            let! code, _ =
                this.SendAsync(
                    HttpMethod.Post,
                    sprintf "/requests/%O/update_status/%s" id q,
                    None,
                    [ 409 ],
                    defaultArg ct CancellationToken.None
                )

            return code < 300
        }

    member this.ReserveAsync(id: Guid, ?ct: CancellationToken) : Task<bool> =
        this.UpdateRequestStatusAsync(id, "reserved", ?ct = ct)

    /// Our extension: reserve the oldest matching pending request in one round trip. None when nothing is pending.
    /// Raises BrokerError 404/405 on a stock FINALES2 server (use PendingAsync + ReserveAsync there).
    member this.ClaimAsync
        (quantity: string, methodName: string, leaseSeconds: float, ?tenant: Guid, ?ct: CancellationToken)
        : Task<RequestInfo option> =
        task {
            let q =
                query
                    [ "quantity", Some quantity
                      "method", Some methodName
                      "lease_seconds", Some(leaseSeconds.ToString(Globalization.CultureInfo.InvariantCulture))
                      "tenant_uuid", tenant |> Option.map (fun t -> t.ToString "D") ]

            let! code, text =
                this.SendAsync(HttpMethod.Post, "/requests/claim" + q, None, [], defaultArg ct CancellationToken.None)

            return
                if code = 204 || String.IsNullOrWhiteSpace text then
                    None
                else
                    Some(parseRequestInfo (BrokerClient.ParseJson text))
        }

    /// Our extension: extend the lease of a reservation.
    member this.HeartbeatAsync(id: Guid, leaseSeconds: float, ?ct: CancellationToken) : Task =
        task {
            let q =
                sprintf "?lease_seconds=%s" (leaseSeconds.ToString(Globalization.CultureInfo.InvariantCulture))

            let! _ =
                this.SendAsync(
                    HttpMethod.Post,
                    sprintf "/requests/%O/heartbeat%s" id q,
                    None,
                    [],
                    defaultArg ct CancellationToken.None
                )

            return ()
        }
        :> Task

    /// POST /results/ with a full FINALES2 result body; returns the result id.
    member this.PostResultJsonAsync(resultJson: string, ?ct: CancellationToken) : Task<Guid> =
        task {
            let! _, text =
                this.SendAsync(HttpMethod.Post, "/results/", Some resultJson, [], defaultArg ct CancellationToken.None)

            return Guid.Parse(JsonSerializer.Deserialize<string> text)
        }

    member this.ResultForRequestAsync(requestId: Guid, ?ct: CancellationToken) : Task<ResultInfo option> =
        task {
            let! e = this.GetJson("/results_requested/" + requestId.ToString "D", defaultArg ct CancellationToken.None)

            return
                if e.ValueKind = JsonValueKind.Null then
                    None
                else
                    Some(parseResultInfo e)
        }

    member this.ResultsAsync
        (?quantity: string, ?methodName: string, ?minRating: float, ?ct: CancellationToken)
        : Task<ResultInfo list> =
        task {
            let q =
                query
                    [ "quantity", quantity
                      "method", methodName
                      "min_rating",
                      minRating
                      |> Option.map (fun r -> r.ToString(Globalization.CultureInfo.InvariantCulture)) ]

            let! e = this.GetJson("/results_requested/" + q, defaultArg ct CancellationToken.None)
            return [ for x in e.EnumerateArray() -> parseResultInfo x ]
        }

    /// GET /capabilities/ as raw JSON array.
    member this.CapabilitiesAsync(?currentlyAvailable: bool, ?ct: CancellationToken) : Task<JsonElement> =
        this.GetJson(
            "/capabilities/?currently_available="
            + (if defaultArg currentlyAvailable true then
                   "true"
               else
                   "false"),
            defaultArg ct CancellationToken.None
        )

    /// GET /limitations/ as raw JSON array of {quantity, method, limitations}.
    member this.LimitationsAsync(?currentlyAvailable: bool, ?ct: CancellationToken) : Task<JsonElement> =
        this.GetJson(
            "/limitations/?currently_available="
            + (if defaultArg currentlyAvailable true then
                   "true"
               else
                   "false"),
            defaultArg ct CancellationToken.None
        )

    member this.TenantsAsync(?ct: CancellationToken) : Task<JsonElement> =
        this.GetJson("/tenants/", defaultArg ct CancellationToken.None)

    /// Our extension: replace the limitations of a tenant (FINALES2 list of {quantity, method, limitations}).
    member this.SetLimitationsAsync(tenant: Guid, limitationsJson: string, ?ct: CancellationToken) : Task =
        task {
            let! _ =
                this.SendAsync(
                    HttpMethod.Put,
                    sprintf "/tenants/%O/limitations" tenant,
                    Some limitationsJson,
                    [],
                    defaultArg ct CancellationToken.None
                )

            return ()
        }
        :> Task

    /// Admin: POST a JSON body to an /admin route; returns the response body.
    member this.AdminPostAsync(path: string, json: string, ?ct: CancellationToken) : Task<string> =
        task {
            let! _, text = this.SendAsync(HttpMethod.Post, path, Some json, [], defaultArg ct CancellationToken.None)
            return text
        }

    /// Does the broker offer our one-round-trip claim (false for a stock FINALES2 server)?
    member this.SupportsClaimAsync(?ct: CancellationToken) : Task<bool> =
        task {
            try
                use! resp = http.GetAsync(baseUrl + "/healthz", defaultArg ct CancellationToken.None)
                return resp.IsSuccessStatusCode
            with _ ->
                return false
        }

    interface IDisposable with
        member _.Dispose() = gate.Dispose()
