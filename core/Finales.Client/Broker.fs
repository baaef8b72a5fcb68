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

/// A C# list answer as an F# list.
let private listOf (answer: Task<Collections.Generic.IReadOnlyList<'T>>) : Task<'T list> =
    task {
        let! all = answer
        return List.ofSeq all
    }

/// A C# nullable answer as an option.
let private optionOf (answer: Task<'T | null>) : Task<'T option> =
    task {
        let! r = answer
        return orNone r
    }

/// A client with its own HttpClient (dispose it when done).
let connect (url: string) (user: string) (password: string) : BrokerClient = new BrokerClient(url, user, password)

/// GET /capabilities/ (all, not only the currently available ones).
let capabilities (client: BrokerClient) : Task<JsonElement> = client.CapabilitiesAsync(false)

/// GET /limitations/ of the active tenants.
let limitations (client: BrokerClient) : Task<JsonElement> = client.LimitationsAsync(true)

/// GET /all_requests/.
let allRequests (client: BrokerClient) : Task<RequestInfo list> = listOf (client.AllRequestsAsync())

/// GET /pending_requests/ for one capability.
let pending (quantity: string) (methodName: string) (client: BrokerClient) : Task<RequestInfo list> =
    listOf (client.PendingAsync(quantity, methodName))

/// GET /requests/{id}; None when the broker does not know it.
let request (id: Guid) (client: BrokerClient) : Task<RequestInfo option> = optionOf (client.RequestAsync id)

/// Our extension: claim the oldest pending request of one capability with a lease; None when nothing is pending.
let claim
    (quantity: string)
    (methodName: string)
    (leaseSeconds: float)
    (client: BrokerClient)
    : Task<RequestInfo option> =
    optionOf (client.ClaimAsync(quantity, methodName, leaseSeconds))

/// GET /results_requested/ for one capability.
let results (quantity: string) (methodName: string) (client: BrokerClient) : Task<ResultInfo list> =
    listOf (client.ResultsAsync(quantity, methodName))

/// The current result of a request; None when it has none.
let resultFor (requestId: Guid) (client: BrokerClient) : Task<ResultInfo option> =
    optionOf (client.ResultForRequestAsync requestId)

/// POST /results/ with a full FINALES2 result body; the result id.
let postResult (resultJson: string) (client: BrokerClient) : Task<Guid> = client.PostResultJsonAsync resultJson
