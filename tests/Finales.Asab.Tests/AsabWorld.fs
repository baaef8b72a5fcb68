/// Simulated ASAB labs for tests, and a broker with density/vibrating_tube_densimetry registered.
module Finales.Asab.Tests.AsabWorld

open System
open System.Collections.Concurrent
open System.IO
open System.Text.Json
open System.Threading
open Expecto
open Microsoft.Extensions.Logging
open Finales.Hosting
open Finales.Tenants.Asab
open Finales.Integration.Tests.Harness

let graphDir = Path.Combine(repoRoot, "tests", "fixtures", "asab-graph")

let stocksFile =
    Path.Combine(repoRoot, "tenants", "Finales.Tenants.Asab", "stocks-2022.json")

let stocks = StockSet.Load stocksFile

let capabilityFile =
    "corpus/finales2-schemas/serialized_quantities/density/vibrating_tube_densimetry.json"

/// Simulated settings: 1000x faster than real time, a fresh work directory.
let settings (seed: int) =
    AsabTenant.SimulatedConfig(graphDir, stocksFile, 0.001, seed, tempDir "asab-lab")

/// A worker over a simulated lab built from these settings.
let worker (s: AsabSettings) = AsabTenant.CreateWorker(s)

let lab (w: AsabWorker) = w.Hardware :?> SimulatedAsabLab

let fractions (pairs: (string * float) list) = readOnlyDict pairs

let parameters (pairs: (string * float) list) (t: float option) =
    AsabTenant.Parameters(fractions pairs, Option.toNullable t)

let run (w: AsabWorker) (p: JsonElement) =
    let id = Guid.NewGuid()

    let outcome =
        w.ProcessLockedAsync(id, p, CancellationToken.None).GetAwaiter().GetResult()

    id, outcome

let dispose (w: AsabWorker) = w.DisposeAsync().AsTask().Wait()

let expectStatus (r: Reply) (code: int) (what: string) =
    if r.Status <> code then
        failtestf "%s: expected HTTP %d, got %d: %s" what code r.Status r.Body

type Account =
    { Name: string
      Uuid: Guid
      User: string
      Password: string }

/// A broker on a fresh SQLite file with density/vibrating_tube_densimetry and a requesting tenant.
type Fixture =
    { Broker: BrokerProcess
      Dir: string
      Admin: Api
      Requester: Account
      RequesterApi: Api }

    member fx.Url = fx.Broker.Url

    member fx.AddTenant(name: string) : Account =
        let r =
            fx.Admin.Post(
                "/admin/tenants",
                sprintf """{"name":%s,"limitations":[],"contact_person":"tests"}""" (JsonSerializer.Serialize name)
            )

        expectStatus r 201 ("create tenant " + name)
        let uuid = Guid.Parse r.String
        let user = name + "-user"

        let body =
            JsonSerializer.Serialize(
                dict
                    [ "username", box user
                      "password", box (user + "-pw")
                      "roles", box [ "tenant" ]
                      "tenants", box [ uuid.ToString "D" ] ]
            )

        expectStatus (fx.Admin.Post("/admin/users", body)) 201 ("create user " + user)

        { Name = name
          Uuid = uuid
          User = user
          Password = user + "-pw" }

    member fx.PostRequest(parameters: JsonElement) : Guid =
        let body =
            sprintf
                """{"quantity":"density","methods":["vibrating_tube_densimetry"],"parameters":{"vibrating_tube_densimetry":%s},"tenant_uuid":"%O"}"""
                (parameters.GetRawText())
                fx.Requester.Uuid

        let r = fx.RequesterApi.Post("/requests/", body)
        expectStatus r 200 "post request"
        Guid.Parse r.String

    member fx.Status(id: Guid) =
        fx.Admin.Get(sprintf "/requests/%O" id).Json.GetProperty("status").GetString()

    member fx.ResultsFor(id: Guid) : JsonElement list =
        [ for r in fx.Admin.Get("/results_requested/").Json.EnumerateArray() do
              if r.GetProperty("result").GetProperty("request_uuid").GetString() = id.ToString "D" then
                  r ]

    interface IDisposable with
        member fx.Dispose() = fx.Broker.Kill()

let create (name: string) : Fixture =
    let dir = tempDir ("asab-" + name)

    let broker =
        (new BrokerProcess(Sqlite(Path.Combine(dir, "b.db")), "--quiet")).Start()

    let admin = Api.Login(broker.Url, "admin", adminPassword)

    expectStatus
        (admin.Post("/admin/capabilities", readShared capabilityFile))
        201
        "register density/vibrating_tube_densimetry"

    let fx =
        { Broker = broker
          Dir = dir
          Admin = admin
          Requester = Unchecked.defaultof<_>
          RequesterApi = Unchecked.defaultof<_> }

    let requester = fx.AddTenant "lab-planner"

    { fx with
        Requester = requester
        RequesterApi = Api.Login(broker.Url, requester.User, requester.Password) }

type ListLogger() =
    let lines = ConcurrentQueue<string>()
    member _.Text = String.Join("\n", lines)

    interface ILogger with
        member _.BeginScope<'TState>(_state: 'TState) : IDisposable = null
        member _.IsEnabled(_level) = true

        member _.Log<'TState>
            (level: LogLevel, _id: EventId, state: 'TState, ex: exn, formatter: Func<'TState, exn, string>)
            =
            lines.Enqueue(sprintf "%O %s" level (formatter.Invoke(state, ex)))

let options (fx: Fixture) (account: Account) (journal: string) =
    TenantOptions(
        BrokerUrl = fx.Url,
        Username = account.User,
        Password = account.Password,
        TenantUuid = account.Uuid,
        JournalPath = journal,
        PollIntervalSeconds = 0.1,
        LeaseSeconds = 30.0,
        InitialBackoffSeconds = 0.2,
        MaxBackoffSeconds = 1.0,
        HttpTimeoutSeconds = 10.0,
        ShutdownGraceSeconds = 1.0,
        Seed = 7
    )

/// A TenantRunner running in this process until disposed.
type RunningTenant(worker: ITenantWorker, options: TenantOptions) =
    let log = ListLogger()
    let cts = new CancellationTokenSource()
    let runner = new TenantRunner(worker, options, log)
    let task = runner.RunAsync(cts.Token)
    member _.Log = log

    member _.WaitReady() =
        if not (runner.Ready.Wait(TimeSpan.FromSeconds 30.0)) then
            failtestf "tenant not ready after 30 s:\n%s" log.Text

    interface IDisposable with
        member _.Dispose() =
            cts.Cancel()

            (try
                task.Wait(TimeSpan.FromSeconds 30.0) |> ignore
             with _ ->
                 ())

            runner.Dispose()
            cts.Dispose()

/// The shared polling helper (see Harness.waitUntil).
let waitUntil = Finales.Integration.Tests.Harness.waitUntil
