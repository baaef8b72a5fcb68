/// The optimizer tenant end to end against a broker process with a simulated responder, including a broker restart.
module Finales.Tenants.Tests.OptimizerTenantEndToEndTests

open System
open System.Collections.Generic
open System.Net.Http
open System.Text.Json
open System.Threading
open System.Threading.Tasks
open Expecto
open Microsoft.Extensions.Time.Testing
open Finales.Client
open Finales.Core
open Finales.Hosting
open Finales.Tenants.Optimizer
open Finales.Integration.Tests.Harness
open Finales.Tenants.Tests.TenantWorld
open Finales.Tenants.Tests.OptimizerResponder

let private json (s: string) = BrokerClient.ParseJson s

/// A fake clock that counts the timers armed on it. The optimizer tenant arms exactly one (its poll interval or its
/// backoff delay) at the end of every pass, so the count says when it is asleep and a test can wake it pass by pass.
type PassClock() =
    inherit FakeTimeProvider(DateTimeOffset.UtcNow)
    let mutable armed = 0
    member _.Armed = Volatile.Read(&armed)

    override _.CreateTimer(callback, state, dueTime, period) =
        Interlocked.Increment(&armed) |> ignore
        base.CreateTimer(callback, state, dueTime, period)

let private tenantOptions (url: string) (a: Account) =
    TenantOptions(
        BrokerUrl = url,
        Username = a.User,
        Password = a.Password,
        TenantUuid = a.Uuid,
        InitialBackoffSeconds = 0.2,
        MaxBackoffSeconds = 1.0,
        HttpTimeoutSeconds = 5.0,
        Seed = 7
    )

let private optimizerOptions (seed: int) (maxIterations: int) =
    OptimizerOptions(
        Preset = OptimizerOptions.PresetConductivityViscosityDensity,
        BatchSize = 2,
        QueueCap = 4,
        PollIntervalSeconds = 0.2,
        Seed = seed,
        MaxIterations = maxIterations,
        Candidates = 300
    )

/// Forwards every call, but the answer to the `lose`-th POST /requests/ is read and then lost, as when the connection
/// dies after the broker committed the request: the caller sees an outage, the store has the request.
type LosesAnswer(lose: int) =
    let mutable posts = 0
    member val LostId = Guid.Empty with get, set

    member this.Handler =
        new AnswerHook(fun request response ct ->
            task {
                if
                    request.Method = HttpMethod.Post
                    && request.RequestUri.AbsolutePath = "/requests/"
                then
                    posts <- posts + 1

                    if posts = lose then
                        let! body = response.Content.ReadAsStringAsync(ct)
                        this.LostId <- Guid.Parse(JsonSerializer.Deserialize<string>(body: string))
                        raise (HttpRequestException "the connection was reset before the answer arrived (test)")
            })

let endToEnd =
    testSequenced
    <| testList
        "OptimizerTenant (broker)"
        [ test
              "posts only feasible, schema-valid, non-duplicate requests under the queue cap, survives a broker restart, finds a better point; plans are deterministic" {
              use fx = create "optimizer-e2e"

              let responder, optimizer, rApi = densityWorld fx

              let log = ListLogger()
              let progress = ResizeArray<OptimizerProgress>()
              // The tenant polls and backs off on this clock: the test wakes it, one pass at a time.
              let clock = PassClock()

              use tenant =
                  new OptimizerTenant(tenantOptions fx.Url optimizer, optimizerOptions 3 8, log, null, null, clock)

              tenant.add_ProgressChanged (Action<OptimizerProgress>(fun p -> lock progress (fun () -> progress.Add p)))
              use cts = new CancellationTokenSource()
              let run = tenant.RunAsync(cts.Token)
              let mutable broker = fx.Broker

              let own () =
                  let api = Api.Login(broker.Url, "admin", adminPassword)

                  [ for r in api.Get("/all_requests/").Json.EnumerateArray() do
                        if
                            r.GetProperty("request").GetProperty("tenant_uuid").GetString() = optimizer.Uuid.ToString
                                "D"
                        then
                            r ]

              let openCount () =
                  own ()
                  |> List.filter (fun r -> r.GetProperty("status").GetString() <> "resolved")
                  |> List.length

              /// The tenant sleeps at the end of every pass (its one timer on the clock): wait for that sleep.
              let asleep (passes: int) =
                  waitUntil 30.0 (sprintf "pass %d of the tenant; log:\n%s" passes log.Text) (fun () ->
                      clock.Armed >= passes || run.IsCompleted)

              /// Wakes the sleeping tenant (1 s covers its poll interval and any backoff delay) for one more pass.
              let pass () =
                  let before = clock.Armed
                  clock.Advance(TimeSpan.FromSeconds 1.0)
                  asleep (before + 1)

              /// The barrier: every own request answered, then one pass, so each plan sees all earlier results.
              let answeredThenPass () =
                  waitUntil 30.0 (sprintf "the responder answers everything; log:\n%s" log.Text) (fun () ->
                      openCount () = 0)

                  pass ()

              let restarted = ref None

              try
                  // 1. nobody answers: the tenant fills its queue up to the cap and waits
                  asleep 1
                  let mutable passes = 0

                  while not (tenant.Progress.Detail.StartsWith "queue full") && passes < 5 do
                      pass ()
                      passes <- passes + 1

                  Expect.stringStarts
                      tenant.Progress.Detail
                      "queue full"
                      (sprintf "the queue fills up; log:\n%s" log.Text)

                  Expect.equal (openCount ()) 4 "exactly QueueCap requests are open while nobody answers"
                  // 2. a responder answers; the broker goes away for 5 s (on the tenant's clock) after iteration 3
                  use _responder = new Responder(fx.Url, responder)

                  while tenant.Progress.Iteration < 3 && not run.IsCompleted do
                      answeredThenPass ()

                  waitUntil 30.0 "the responder answers iteration 3" (fun () -> openCount () = 0)
                  fx.Broker.Kill()

                  for _ in 1..5 do
                      pass ()

                  Expect.isFalse run.IsCompleted (sprintf "the tenant survives the outage:\n%s" log.Text)
                  let b2 = (new BrokerProcess(fx.Broker.Store, "--quiet", fx.Broker.Port)).Start()
                  restarted.Value <- Some b2
                  broker <- b2
                  let mutable guard = 0

                  while not run.IsCompleted && guard < 40 do
                      answeredThenPass ()
                      guard <- guard + 1

                  if not (run.Wait(TimeSpan.FromSeconds 45.0)) then
                      failtestf "8 iterations not done in time:\n%s" log.Text

                  Expect.equal tenant.Progress.State "done" "the tenant stops after MaxIterations"
                  waitUntil 20.0 "the responder answers everything" (fun () -> openCount () = 0)
                  Expect.equal (log.Count "unreachable while") 1 (sprintf "the outage is logged once:\n%s" log.Text)
                  Expect.equal (log.Count "reachable again") 1 "the recovery is logged once"

                  // 3. what was posted
                  let requests = own ()
                  Expect.isLessThanOrEqual requests.Length (8 * 2 * 2) "at most batch x capabilities per iteration"
                  Expect.isGreaterThanOrEqual requests.Length 8 "it posted"

                  let limits =
                      [ for e in (json responderLimitations).EnumerateArray() ->
                            (e.GetProperty("quantity").GetString(), e.GetProperty("method").GetString()),
                            (match Limitations.parse (e.GetProperty "limitations") with
                             | Ok p -> p
                             | Error m -> failtestf "limitations do not parse: %s" m) ]
                      |> dict

                  let schemas =
                      [ for f in [ densityFile; capabilityFile ] ->
                            let c = json (Finales.Tests.RepoData.readCorpus f)

                            (c.GetProperty("quantity").GetString(), c.GetProperty("method").GetString()),
                            (match CapabilitySchema.compile (c.GetProperty "json_schema_specifications") with
                             | Ok s -> s
                             | Error m -> failtestf "schema: %s" m) ]
                      |> dict

                  let keys = HashSet<string>()

                  for r in requests do
                      let body = r.GetProperty "request"
                      let q = body.GetProperty("quantity").GetString()
                      let m = (body.GetProperty "methods").[0].GetString()
                      let p = body.GetProperty("parameters").GetProperty m

                      Expect.isEmpty
                          (CapabilitySchema.validate schemas[(q, m)] p)
                          (sprintf "schema-valid: %s" (p.GetRawText()))

                      Expect.equal
                          (Limitations.check [ limits[(q, m)] ] p)
                          (Ok())
                          (sprintf "within the limitations: %s" (p.GetRawText()))

                      Expect.isFalse
                          (p.GetRawText().Contains "IEJIGPNLZYLLBP")
                          "no DMC: conductivity does not admit it, so the design space excludes it"

                      let ok, f, err = Formulations.TryParse(p.GetProperty "formulation")
                      Expect.isTrue ok err

                      let key =
                          sprintf
                              "%s/%s|%s"
                              q
                              m
                              (Formulations.PointKey(f, p.GetProperty("temperature").GetDouble(), 6, 2))

                      Expect.isTrue (keys.Add key) (sprintf "no duplicate request: %s" key)

                  let maxOpen = progress |> Seq.map (fun p -> p.OpenRequests) |> Seq.max
                  Expect.isLessThanOrEqual maxOpen 4 "the queue cap held at every observation"

                  // 4. the best point: better than anything in the first (random) batch
                  let snap = tenant.ReadAsync(CancellationToken.None).Result
                  let plan = tenant.Planner.Decide snap
                  Expect.equal plan.CompletePoints (requests.Length / 2) "every posted point has all three objectives"
                  let best = plan.Best
                  Expect.isNotNull (box best) "a best point exists"

                  Expect.isGreaterThanOrEqual
                      best.Values["conductivity"]
                      0.8
                      "the best point meets the conductivity target"

                  let firstBatch =
                      requests
                      |> List.sortBy (fun r -> r.GetProperty("ctime").GetString())
                      |> List.truncate 4
                      |> List.map (fun r ->
                          (r.GetProperty("request").GetProperty("parameters").EnumerateObject() |> Seq.head).Value)
                      |> List.map (fun p ->
                          let _, f, _ = Formulations.TryParse(p.GetProperty "formulation") in
                          Formulations.PointKey(f, p.GetProperty("temperature").GetDouble(), 6, 2))
                      |> set

                  let firstFeasible =
                      plan.Joined
                      |> Seq.filter (fun j ->
                          firstBatch.Contains j.PointKey && j.Complete && j.Values["conductivity"] >= 0.8)
                      |> List.ofSeq
                  // Improvement: the initial batch had no point meeting the target and the best does, or the best has a lower viscosity.
                  match firstFeasible |> List.map (fun j -> j.Values["viscosity"]) with
                  | [] -> ()
                  | vs ->
                      Expect.isLessThan
                          best.Values["viscosity"]
                          (List.min vs)
                          "the optimizer found a feasible point with lower viscosity than the initial batch"

                  Expect.equal tenant.Progress.BestMerit 0.0 "progress reports the best merit"
                  Expect.isGreaterThan tenant.Progress.BestFormulation.Count 1 "progress reports the best formulation"

                  // 5. determinism: same seed and results, same plan, whatever the order of the results
                  let again = OptimizerPlanner(optimizerOptions 3 8, optimizer.Uuid)

                  let shuffled =
                      BrokerSnapshot(
                          snap.Capabilities,
                          snap.Limitations,
                          (snap.Results |> Seq.rev |> ResizeArray),
                          snap.Requests
                      )

                  let bodies (p: Plan) =
                      [ for x in p.Points do
                            for r in x.Requests -> r.Body ]

                  Expect.isNonEmpty (bodies plan) "there is something to post"

                  Expect.equal
                      (bodies (again.Decide shuffled))
                      (bodies plan)
                      "same seed + same results = same suggestions"

                  let other = OptimizerPlanner(optimizerOptions 4 8, optimizer.Uuid)
                  Expect.notEqual (bodies (other.Decide snap)) (bodies plan) "another seed gives other suggestions"
              finally
                  cts.Cancel()

                  match restarted.Value with
                  | Some b -> b.Kill()
                  | None -> ()
          }
          test
              "a request the broker stored though the answer to its post was lost is adopted: logged once, counted as posted, not posted again" {
              use fx = create "optimizer-adopt"
              let _, optimizer, _ = densityWorld fx
              let log = ListLogger()
              let handler = LosesAnswer(2)
              use http = new HttpClient(handler.Handler)

              let options =
                  OptimizerOptions(
                      Preset = OptimizerOptions.PresetConductivityViscosityDensity,
                      BatchSize = 2,
                      QueueCap = 20,
                      PollIntervalSeconds = 0.05,
                      Seed = 5,
                      MaxIterations = 2,
                      Candidates = 300
                  )

              use tenant =
                  new OptimizerTenant(tenantOptions fx.Url optimizer, options, log, null, http)

              let run = tenant.RunAsync(CancellationToken.None)

              if not (run.Wait(TimeSpan.FromSeconds 60.0)) then
                  failtestf "2 iterations not done in time:\n%s" log.Text

              let lost = handler.LostId
              Expect.notEqual lost Guid.Empty "the answer to the second post was lost"

              let own =
                  [ for r in fx.Admin.Get("/all_requests/").Json.EnumerateArray() do
                        let body = r.GetProperty "request"

                        if body.GetProperty("tenant_uuid").GetString() = optimizer.Uuid.ToString "D" then
                            Guid.Parse(r.GetProperty("uuid").GetString()) ]

              Expect.contains own lost (sprintf "the broker stored the request whose answer was lost:\n%s" log.Text)

              let mentions (verb: string) =
                  [ for id in own do
                        yield! List.replicate (log.Count(sprintf ": %s %O " verb id)) id ]

              Expect.equal (mentions "adopted") [ lost ] (sprintf "only the lost one is adopted, once:\n%s" log.Text)

              Expect.equal
                  (List.sort (mentions "posted" @ mentions "adopted"))
                  (List.sort own)
                  "every stored request is logged exactly once, as posted or adopted"

              Expect.equal (log.Count "adopted") 1 "nothing else is adopted"
              Expect.equal tenant.Progress.Posted own.Length "the posted count includes the adopted request"
              Expect.isGreaterThan own.Length 2 "the second iteration posted after the outage"
          } ]
