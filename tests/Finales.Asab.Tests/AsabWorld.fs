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
open Finales.Integration.Tests.TenantFixture

let graphDir = Path.Combine(repoRoot, "tests", "fixtures", "asab-graph")

let stocksFile =
    Path.Combine(repoRoot, "tenants", "Finales.Tenants.Asab", "stocks-2022.json")

let stocks = StockSet.Load stocksFile

let capabilityFile = "serialized_quantities/density/vibrating_tube_densimetry.json"

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

type Fixture = Finales.Integration.Tests.TenantFixture.Fixture
type Account = Finales.Integration.Tests.TenantFixture.Account
type ListLogger = Finales.Integration.Tests.TenantFixture.ListLogger
type RunningTenant = Finales.Integration.Tests.TenantFixture.RunningTenant

let create (name: string) : Fixture =
    Finales.Integration.Tests.TenantFixture.create ("asab-" + name) "density" "vibrating_tube_densimetry" capabilityFile


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

/// The shared polling helper (see Harness.waitUntil).
let waitUntil = Finales.Integration.Tests.Harness.waitUntil
