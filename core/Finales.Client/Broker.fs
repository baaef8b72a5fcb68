/// The client for F# scripts and F# Interactive: curried, client last (for piping), options instead of nulls and
/// lists instead of IReadOnlyList. Each function returns a Task (`.Result` in F# Interactive, `let!` in `task {}`).
/// ```
/// use client = Broker.connect "http://127.0.0.1:13371" "admin" password
/// let requests = (Broker.allRequests client).Result
/// match (Broker.request id client).Result with Some r -> r.Status | None -> "unknown"
/// ```
[<RequireQualifiedAccess>]
module Finales.Client.Broker

open System
open System.Text.Json
open System.Threading.Tasks

let private orNone (value: 'T | null) : 'T option =
    match value with
    | null -> None
    | v -> Some v

/// A client with its own HttpClient (dispose it when done).
let connect (url: string) (user: string) (password: string) : BrokerClient = new BrokerClient(url, user, password)

/// GET /capabilities/ (all, not only the currently available ones).
let capabilities (client: BrokerClient) : Task<JsonElement> = client.CapabilitiesAsync(false)

/// GET /limitations/ of the active tenants.
let limitations (client: BrokerClient) : Task<JsonElement> = client.LimitationsAsync(true)

/// GET /all_requests/.
let allRequests (client: BrokerClient) : Task<RequestInfo list> =
    task {
        let! all = client.AllRequestsAsync()
        return List.ofSeq all
    }

/// GET /pending_requests/ for one capability.
let pending (quantity: string) (methodName: string) (client: BrokerClient) : Task<RequestInfo list> =
    task {
        let! all = client.PendingAsync(quantity, methodName)
        return List.ofSeq all
    }

/// GET /requests/{id}; None when the broker does not know it.
let request (id: Guid) (client: BrokerClient) : Task<RequestInfo option> =
    task {
        let! r = client.RequestAsync id
        return orNone r
    }

/// Our extension: claim the oldest pending request of one capability with a lease; None when nothing is pending.
let claim
    (quantity: string)
    (methodName: string)
    (leaseSeconds: float)
    (client: BrokerClient)
    : Task<RequestInfo option> =
    task {
        let! r = client.ClaimAsync(quantity, methodName, leaseSeconds)
        return orNone r
    }

/// GET /results_requested/ for one capability.
let results (quantity: string) (methodName: string) (client: BrokerClient) : Task<ResultInfo list> =
    task {
        let! all = client.ResultsAsync(quantity, methodName)
        return List.ofSeq all
    }

/// The current result of a request; None when it has none.
let resultFor (requestId: Guid) (client: BrokerClient) : Task<ResultInfo option> =
    task {
        let! r = client.ResultForRequestAsync requestId
        return orNone r
    }

/// POST /results/ with a full FINALES2 result body; the result id.
let postResult (resultJson: string) (client: BrokerClient) : Task<Guid> = client.PostResultJsonAsync resultJson
