/// A broker with the conductivity capability, a requesting tenant and helpers to run tenants against it,
/// in-process (TenantRunner) or as `finales tenant ...` processes.
module Finales.Tenants.Tests.TenantWorld

open System
open System.Collections.Concurrent
open System.Diagnostics
open System.IO
open System.Text
open System.Text.Json
open System.Threading
open System.Threading.Tasks
open Expecto
open Microsoft.Extensions.Logging
open Finales.Hosting
open Finales.Tenants.Conductivity
open Finales.Integration.Tests.Harness

let capabilityFile =
    "corpus/finales2-schemas/serialized_quantities/conductivity/polynomial_interpolation.json"

let expectStatus (r: Reply) (code: int) (what: string) =
    if r.Status <> code then
        failtestf "%s: expected HTTP %d, got %d: %s" what code r.Status r.Body

/// A broker tenant with its own user.
type Account =
    { Name: string
      Uuid: Guid
      User: string
      Password: string }

/// One broker process on a fresh SQLite file with conductivity/polynomial_interpolation registered and a
/// requesting tenant ("lab-planner") whose user posts the requests.
type Fixture =
    { Broker: BrokerProcess
      Dir: string
      Admin: Api
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

    /// Posts a conductivity/polynomial_interpolation request with these parameters as the requester; its id.
    member fx.PostRequest(parameters: JsonElement) : Guid =
        let body =
            sprintf
                """{"quantity":"conductivity","methods":["polynomial_interpolation"],"parameters":{"polynomial_interpolation":%s},"tenant_uuid":"%O"}"""
                (parameters.GetRawText())
                fx.Requester.Uuid

        let r = fx.RequesterApi.Post("/requests/", body)
        expectStatus r 200 "post request"
        Guid.Parse r.String

    /// N seeded random requests inside the conductivity tenant's limitations.
    member fx.PostRandomRequests(n: int, seed: int) : Guid list =
        let rng = Random seed
        [ for _ in 1..n -> fx.PostRequest(ConductivityRequests.RandomParameters rng) ]

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

let create (name: string) : Fixture =
    let dir = tempDir ("tenants-" + name)

    let broker =
        (new BrokerProcess(Sqlite(Path.Combine(dir, "b.db")), "--quiet")).Start()

    let admin = Api.Login(broker.Url, "admin", adminPassword)

    expectStatus
        (admin.Post("/admin/capabilities", readShared capabilityFile))
        201
        "register conductivity/polynomial_interpolation"

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

/// Tenant options for the fixture's broker with short intervals for tests.
let options (fx: Fixture) (account: Account) (journal: string) =
    TenantOptions(
        BrokerUrl = fx.Url,
        Username = account.User,
        Password = account.Password,
        TenantUuid = account.Uuid,
        JournalPath = journal,
        PollIntervalSeconds = 0.2,
        LeaseSeconds = 10.0,
        InitialBackoffSeconds = 0.2,
        MaxBackoffSeconds = 1.0,
        HttpTimeoutSeconds = 5.0,
        ShutdownGraceSeconds = 0.5,
        Seed = 7
    )

/// A worker wrapper that records which requests it processed (and how often), optionally slowly.
type CountingWorker(inner: ITenantWorker, ?delaySeconds: float) =
    let seen = ConcurrentQueue<Guid>()
    member _.Seen = List.ofSeq seen

    interface ITenantWorker with
        member _.Capabilities = inner.Capabilities
        member _.LimitationsJson() = inner.LimitationsJson()

        member _.ProcessAsync(item, ct) =
            task {
                match delaySeconds with
                | Some d -> do! Task.Delay(TimeSpan.FromSeconds d, ct)
                | None -> ()

                let! outcome = inner.ProcessAsync(item, ct)
                seen.Enqueue item.RequestId
                return outcome
            }

/// A TenantRunner running in this process until disposed.
type RunningTenant(worker: ITenantWorker, options: TenantOptions) =
    let log = ListLogger()
    let cts = new CancellationTokenSource()
    let runner = new TenantRunner(worker, options, log)
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

/// A `finales tenant conductivity --config FILE` process; its output is collected.
type TenantProcess(config: string) =
    let log = StringBuilder()

    let psi =
        ProcessStartInfo(
            "dotnet",
            sprintf "\"%s\" tenant conductivity --config \"%s\"" cliDll config,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false
        )

    let p = Process.Start psi

    do
        p.OutputDataReceived.Add(fun e ->
            if not (isNull e.Data) then
                lock log (fun () -> log.AppendLine e.Data |> ignore))

        p.ErrorDataReceived.Add(fun e ->
            if not (isNull e.Data) then
                lock log (fun () -> log.AppendLine e.Data |> ignore))

        p.BeginOutputReadLine()
        p.BeginErrorReadLine()

    member _.Log = lock log (fun () -> log.ToString())

    member this.WaitFor(fragment: string, seconds: float) =
        waitUntil seconds (sprintf "'%s' in the tenant log; log so far:\n%s" fragment this.Log) (fun () ->
            if p.HasExited && not (this.Log.Contains fragment) then
                failtestf "tenant exited with %d:\n%s" p.ExitCode this.Log

            this.Log.Contains fragment)

    /// SIGKILL: no shutdown code runs.
    member _.Kill() =
        if not p.HasExited then
            p.Kill true
            p.WaitForExit()

    interface IDisposable with
        member this.Dispose() = this.Kill()

/// Writes a tenant config file (JSON) for a process.
let writeConfig (fx: Fixture) (account: Account) (journal: string) (simulatedSeconds: float) (leaseSeconds: float) =
    let path = Path.Combine(fx.Dir, account.Name + ".json")

    let json =
        sprintf
            """{"Tenant":{"BrokerUrl":"%s","Username":"%s","Password":"%s","TenantUuid":"%O","JournalPath":"%s","PollIntervalSeconds":0.2,"LeaseSeconds":%g,"InitialBackoffSeconds":0.2,"MaxBackoffSeconds":1,"HttpTimeoutSeconds":5},"Conductivity":{"SimulatedSeconds":%g},"Logging":{"LogLevel":{"Default":"Information","Microsoft":"Warning","System.Net.Http":"Warning"}}}"""
            fx.Url
            account.User
            account.Password
            account.Uuid
            (journal.Replace("\\", "/"))
            leaseSeconds
            simulatedSeconds

    File.WriteAllText(path, json)
    path

/// The shared polling helper (see Harness.waitUntil).
let waitUntil = Finales.Integration.Tests.Harness.waitUntil
