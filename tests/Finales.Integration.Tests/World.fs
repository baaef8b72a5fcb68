/// A broker with the corpus capabilities, two tenants, their users and an observer: the fixture of the suites.
module Finales.Integration.Tests.World

open System
open System.IO
open System.Text.Json
open System.Text.Json.Nodes
open Expecto
open Finales.Tests
open Finales.Integration.Tests.Harness

let expectStatus (r: Reply) (code: int) (what: string) =
    if r.Status <> code then
        failtestf "%s: expected HTTP %d, got %d: %s" what code r.Status r.Body

let polyRequestTemplate =
    RepoData.readCorpus "examples/requests/conductivity/polynomial_interpolation.json"

let polyResultTemplate =
    RepoData.readCorpus "examples/results/conductivity/polynomial_interpolation.json"

let polyLimitations =
    RepoData.readCorpus "examples/limitations/conductivity/polynomial_interpolation.json"

/// The corpus polynomial_interpolation request for a tenant, with its temperature replaced when one is given.
let polyRequestOf (tenant: Guid) (temperature: float option) =
    let n = jsonNode polyRequestTemplate
    n["tenant_uuid"] <- JsonValue.Create(tenant.ToString "D")

    match temperature with
    | Some t -> n["parameters"].["polynomial_interpolation"].["temperature"] <- JsonValue.Create t
    | None -> ()

    n.ToJsonString()

type World =
    {
        Broker: BrokerProcess
        Admin: Api
        /// user "alice", acting for tenant A (offers conductivity/polynomial_interpolation)
        A: Api
        /// user "bob", acting for tenant B (offers conductivity/polynomial_interpolation too, with the same
        /// limitations, so it may reserve and claim those requests)
        B: Api
        Observer: Api
        TenantA: Guid
        TenantB: Guid
    }

    member w.Url = w.Broker.Url

    /// The corpus polynomial_interpolation request for a tenant, with optional edits of its parameters.
    member w.PolyRequest(tenant: Guid, ?temperature: float) = polyRequestOf tenant temperature

    member w.PolyResult(tenant: Guid, requestId: string) =
        let n = jsonNode polyResultTemplate
        n["tenant_uuid"] <- JsonValue.Create(tenant.ToString "D")
        n["request_uuid"] <- JsonValue.Create requestId
        n.ToJsonString()

    /// Posts a polynomial request as tenant A; returns its id.
    member w.NewRequest(?temperature: float) =
        let r = w.A.Post("/requests/", w.PolyRequest(w.TenantA, ?temperature = temperature))
        expectStatus r 200 "post request"
        r.String

    member w.RequestCount() =
        w.Admin.Get("/all_requests/").Json.GetArrayLength()

    member w.ResultCount() =
        w.Admin.Get("/results_requested/").Json.GetArrayLength()

    interface IDisposable with
        member w.Dispose() = w.Broker.Kill()

/// A value of /metrics.
let metric (w: World) (name: string) =
    let text = w.Admin.Get("/metrics").Body

    text.Split('\n')
    |> Array.tryPick (fun l ->
        if l.StartsWith(name + " ") then
            Some(Double.Parse(l.Substring(name.Length + 1), Globalization.CultureInfo.InvariantCulture))
        else
            None)
    |> Option.defaultWith (fun () -> failtestf "metric %s missing from /metrics:\n%s" name text)

let addUser (admin: Api) (name: string) (roles: string list) (tenants: Guid list) =
    let body =
        JsonSerializer.Serialize(
            dict
                [ "username", box name
                  "password", box (name + "-pw")
                  "roles", box roles
                  "tenants", box (tenants |> List.map (fun t -> t.ToString "D")) ]
        )

    expectStatus (admin.Post("/admin/users", body)) 201 ("create user " + name)

let addTenant (admin: Api) (name: string) (limitations: string) =
    let body =
        sprintf """{"name":%s,"limitations":%s,"contact_person":"test"}""" (JsonSerializer.Serialize name) limitations

    let r = admin.Post("/admin/tenants", body)
    expectStatus r 201 ("create tenant " + name)
    Guid.Parse r.String

/// Registers the corpus capabilities, tenants A and B, users alice, bob, olga (observer) on the broker at `url` (a
/// process or an InProcessBroker); returns their sessions and the tenants.
let populate (url: string) =
    let admin = Api.Login(url, "admin", adminPassword)

    for f in capabilityFiles () do
        expectStatus (admin.Post("/admin/capabilities", File.ReadAllText f)) 201 ("register " + f)

    let a = addTenant admin "tenant-a" polyLimitations
    let b = addTenant admin "tenant-b" polyLimitations
    addUser admin "alice" [ "tenant" ] [ a ]
    addUser admin "bob" [ "tenant" ] [ b ]
    addUser admin "olga" [ "observer" ] []

    {| Admin = admin
       A = Api.Login(url, "alice", "alice-pw")
       B = Api.Login(url, "bob", "bob-pw")
       Observer = Api.Login(url, "olga", "olga-pw")
       TenantA = a
       TenantB = b |}

/// Starts a broker on `store` and registers the corpus capabilities, tenants A and B, users alice, bob, olga (observer).
let create (store: StoreKind) (extraArgs: string) : World =
    let broker = (new BrokerProcess(store, extraArgs + " --quiet")).Start()
    let p = populate broker.Url

    { Broker = broker
      Admin = p.Admin
      A = p.A
      B = p.B
      Observer = p.Observer
      TenantA = p.TenantA
      TenantB = p.TenantB }

/// How a suite gets a fresh store of its kind.
type StoreFactory =
    { Name: string
      Make: string -> StoreKind }
