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
open Finales.Integration.Tests.TenantFixture

let capabilityFile =
    "serialized_quantities/conductivity/polynomial_interpolation.json"

/// Forwards every call over the network; `answered` sees each request with its answer before the caller does, to hold
/// the answer back or to lose it (as a connection that dies after the broker committed).
type AnswerHook(answered: Net.Http.HttpRequestMessage -> Net.Http.HttpResponseMessage -> CancellationToken -> Task) =
    inherit Net.Http.DelegatingHandler(new Net.Http.HttpClientHandler())

    override _.SendAsync(request: Net.Http.HttpRequestMessage, ct: CancellationToken) =
        let sending = base.SendAsync(request, ct) // base calls cannot be made inside the task

        task {
            let! (response: Net.Http.HttpResponseMessage) = sending
            do! answered request response ct
            return response
        }

type Fixture = Finales.Integration.Tests.TenantFixture.Fixture
type Account = Finales.Integration.Tests.TenantFixture.Account
type ListLogger = Finales.Integration.Tests.TenantFixture.ListLogger
type RunningTenant = Finales.Integration.Tests.TenantFixture.RunningTenant

let create (name: string) : Fixture =
    Finales.Integration.Tests.TenantFixture.create
        ("tenants-" + name)
        "conductivity"
        "polynomial_interpolation"
        capabilityFile

/// N seeded random requests inside the conductivity tenant's limitations.
let postRandomRequests (fx: Fixture) (n: int) (seed: int) : Guid list =
    let rng = Random seed
    [ for _ in 1..n -> fx.PostRequest(ConductivityRequests.RandomParameters rng) ]

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

/// A `finales tenant KIND --config FILE` process (KIND conductivity unless given); its output is collected.
type TenantProcess(config: string, ?kind: string) =
    let log = StringBuilder()

    let psi =
        ProcessStartInfo(
            "dotnet",
            sprintf "\"%s\" tenant %s --config \"%s\"" cliDll (defaultArg kind "conductivity") config,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false
        )

    let p = startLogged psi log

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
