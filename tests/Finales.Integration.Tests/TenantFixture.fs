/// A broker process on a fresh SQLite file with one capability registered and a requesting tenant, for the
/// tenant test projects (conductivity, ASAB): accounts, requests, status and results, and a recording logger.
module Finales.Integration.Tests.TenantFixture

open System
open System.Collections.Concurrent
open System.IO
open System.Text.Json
open System.Threading
open Expecto
open Microsoft.Extensions.Logging
open Finales.Hosting
open Finales.Integration.Tests.Harness

/// A broker tenant with its own user.
type Account =
    { Name: string
      Uuid: Guid
      User: string
      Password: string }

/// One broker with `Quantity/Method` registered and a requesting tenant ("lab-planner") whose user posts requests.
type Fixture =
    { Broker: BrokerProcess
      Dir: string
      Admin: Api
      Quantity: string
      Method: string
      Requester: Account
      RequesterApi: Api }

    member fx.Url = fx.Broker.Url

    /// Registers a tenant (no limitations yet: the tenant registers its own) and a user acting for it.
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

    /// Posts a request of the fixture's capability with these parameters as the requester; its id.
    member fx.PostRequest(parameters: JsonElement) : Guid =
        let body =
            sprintf
                """{"quantity":%s,"methods":[%s],"parameters":{%s:%s},"tenant_uuid":"%O"}"""
                (JsonSerializer.Serialize fx.Quantity)
                (JsonSerializer.Serialize fx.Method)
                (JsonSerializer.Serialize fx.Method)
                (parameters.GetRawText())
                fx.Requester.Uuid

        let r = fx.RequesterApi.Post("/requests/", body)
        expectStatus r 200 "post request"
        Guid.Parse r.String

    member fx.Status(id: Guid) =
        fx.Admin.Get(sprintf "/requests/%O" id).Json.GetProperty("status").GetString()

    /// Every result (any status) posted for a request.
    member fx.ResultsFor(id: Guid) : JsonElement list =
        [ for r in fx.Admin.Get("/results_requested/").Json.EnumerateArray() do
              if r.GetProperty("result").GetProperty("request_uuid").GetString() = id.ToString "D" then
                  r ]

    member fx.History(id: Guid) : JsonElement list =
        [ for e in fx.Admin.Get(sprintf "/requests/%O/history" id).Json.EnumerateArray() -> e ]

    interface IDisposable with
        member fx.Dispose() = fx.Broker.Kill()

/// Starts the broker in a fresh temp dir named `dirName` and registers the capability file (a path in the corpus, see RepoData.corpus).
let create (dirName: string) (quantity: string) (methodName: string) (capabilityFile: string) : Fixture =
    let dir = tempDir dirName

    let broker =
        (new BrokerProcess(Sqlite(Path.Combine(dir, "b.db")), "--quiet")).Start()

    let admin = Api.Login(broker.Url, "admin", adminPassword)

    expectStatus
        (admin.Post("/admin/capabilities", Finales.Tests.RepoData.readCorpus capabilityFile))
        201
        (sprintf "register %s/%s" quantity methodName)

    let fx =
        { Broker = broker
          Dir = dir
          Admin = admin
          Quantity = quantity
          Method = methodName
          Requester = Unchecked.defaultof<_>
          RequesterApi = Unchecked.defaultof<_> }

    let requester = fx.AddTenant "lab-planner"

    { fx with
        Requester = requester
        RequesterApi = Api.Login(broker.Url, requester.User, requester.Password) }

/// An ILogger that keeps every line (level + rendered message) for assertions and prints nothing.
type ListLogger() =
    let lines = ConcurrentQueue<string>()
    member _.Lines = List.ofSeq lines

    member this.Count(fragment: string) =
        this.Lines |> List.filter (fun l -> l.Contains(fragment: string)) |> List.length

    member this.Text = String.Join("\n", this.Lines)

    interface ILogger with
        member _.BeginScope<'TState>(_state: 'TState) : IDisposable = null
        member _.IsEnabled(_level) = true

        member _.Log<'TState>
            (level: LogLevel, _id: EventId, state: 'TState, ex: exn, formatter: Func<'TState, exn, string>)
            =
            lines.Enqueue(sprintf "%O %s" level (formatter.Invoke(state, ex)))

/// A TenantRunner running in this process until stopped or disposed (on `time`'s clock if given, else the system's).
type RunningTenant(worker: ITenantWorker, options: TenantOptions, ?time: TimeProvider) =
    let log = ListLogger()
    let cts = new CancellationTokenSource()
    let runner = new TenantRunner(worker, options, log, null, Option.toObj time)
    let run = runner.RunAsync(cts.Token)
    member _.Runner = runner
    member _.Log = log
    member _.Task = run

    member _.WaitReady() =
        if not (runner.Ready.Wait(TimeSpan.FromSeconds 30.0)) then
            failtestf "tenant not ready after 30 s:\n%s" log.Text

    member _.Stop() =
        cts.Cancel()

        if not (run.Wait(TimeSpan.FromSeconds 30.0)) then
            failtest "tenant did not stop within 30 s"

    interface IDisposable with
        member this.Dispose() =
            (try
                this.Stop()
             with _ ->
                 ())

            runner.Dispose()
            cts.Dispose()
