/// The optimizer tenant: pure parts (keys, result reading, join, options, planning determinism) and end to end
/// against a broker process with a simulated responder, including a broker restart.
module Finales.Tenants.Tests.OptimizerTenantTests

open System
open System.Collections.Generic
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

let private json (s: string) = BrokerClient.ParseJson s

let private lipf6 =
    """{"SMILES":"[Li+].F[P-](F)(F)(F)(F)F","InChIKey":"AXPLOJNSKRXQPA-UHFFFAOYSA-N"}"""

let private ec =
    """{"SMILES":"C1COC(=O)O1","InChIKey":"KMTRUDSVKNLOMY-UHFFFAOYSA-N"}"""

let private pc =
    """{"SMILES":"CC1COC(=O)O1","InChIKey":"RUOJZAUFBMNUDX-UHFFFAOYSA-N"}"""

let private formulation (parts: (string * float) list) =
    "["
    + String.Join(
        ",",
        parts
        |> List.map (fun (c, x) -> sprintf """{"chemical":%s,"fraction":%.17g,"fraction_type":"molPerMol"}""" c x)
    )
    + "]"

let private result (id: int) (status: string) (q: string) (m: string) (parameters: string) (data: string) : ResultInfo =
    let body =
        sprintf
            """{"data":%s,"quantity":"%s","method":["%s"],"parameters":{"%s":%s},"tenant_uuid":"t","request_uuid":"r%d"}"""
            data
            q
            m
            m
            parameters
            id

    { Uuid = Guid(id, 0s, 0s, 0uy, 0uy, 0uy, 0uy, 0uy, 0uy, 0uy, 0uy)
      Ctime = sprintf "2026-11-25T10:00:%02d.000000" id
      Status = status
      RequestUuid = sprintf "r%d" id
      Quantity = q
      Method = m
      Data = json data
      TenantUuid = "t"
      Result = json body }

let private preset () =
    OptimizerOptions(Preset = OptimizerOptions.PresetConductivityViscosityDensity)

let private densityData (rho: float) (eta: float) (rating: int) =
    sprintf
        """{"run_info":{"formulation":[],"internal_reference":"x"},"density":{"values":[%g,%g],"meta":{"success":true,"rating":%d},"temperature":300},"viscosity":{"values":[%g],"meta":{"success":true,"rating":%d}}}"""
        (rho - 0.001)
        (rho + 0.001)
        rating
        eta
        rating

let private conductivityData (kappa: float) (success: bool) =
    sprintf
        """{"run_info":{"formulation":[],"internal_reference":"x"},"conductivity":{"values":[%s],"meta":{"success":%b,"rating":3}}}"""
        (if success then string kappa else "")
        success

let unit =
    testList
        "OptimizerTenant (pure)"
        [ test "point keys name a chemical the same by SMILES, InChIKey or name and round fractions to 1e-6" {
              let a =
                  Dictionary<string, float>(dict [ "C1COC(=O)O1", 0.3000001; "AXPLOJNSKRXQPA-UHFFFAOYSA-N", 0.7 ])

              let ok, b, err =
                  Formulations.TryParse(
                      json (
                          formulation
                              [ ec, 0.3000004
                                """{"SMILES":"[Li+].F[P-](F)(F)(F)(F)F","InChIKey":"AXPLOJNSKRXQPA-UHFFFAOYSA-N"}""",
                                0.7 ]
                      )
                  )

              Expect.isTrue ok err

              let ka =
                  Formulations.PointKey(
                      Formulations.Round(
                          a
                          |> Seq.map (fun kv ->
                              KeyValuePair(Finales.Optimizer.OptimizerFacade.ChemicalKey kv.Key, kv.Value))
                          |> Dictionary,
                          6
                      ),
                      298.151,
                      6,
                      2
                  )

              let kb = Formulations.PointKey(b, 298.149, 6, 2)
              Expect.equal ka kb "same chemicals, fractions equal at 1e-6 and temperatures equal at 0.01 K give one key"
              Expect.notEqual (Formulations.PointKey(b, 299.0, 6, 2)) kb "another temperature is another point"
              Expect.stringContains kb "KMTRUDSVKNLOMY-UHFFFAOYSA-N=0.300000" "keys use InChIKeys"
          }

          test "a formulation in mass fractions or without a chemical id is refused with the entry named" {
              let ok, _, err =
                  Formulations.TryParse(
                      json """[{"chemical":{"SMILES":"C1COC(=O)O1"},"fraction":1,"fraction_type":"mass fraction"}]"""
                  )

              Expect.isFalse ok "mass fractions are not read as mole fractions"

              Expect.stringContains
                  err
                  "formulation[0].fraction_type is 'mass fraction'"
                  "the entry and value are named"

              let ok2, _, err2 =
                  Formulations.TryParse(json """[{"chemical":{},"fraction":1,"fraction_type":"molPerMol"}]""")

              Expect.isFalse ok2 "no chemical id"
              Expect.stringContains err2 "formulation[0].chemical" "the entry is named"
          }

          test
              "results: deleted and low-rated are dropped, unrated kept, failures marked, values averaged, viscosity read from densimetry" {
              let p =
                  sprintf """{"formulation":%s,"temperature":300}""" (formulation [ lipf6, 0.1; ec, 0.5; pc, 0.4 ])

              let p2 =
                  sprintf """{"formulation":%s,"temperature":310}""" (formulation [ lipf6, 0.1; ec, 0.5; pc, 0.4 ])

              let results =
                  [ result 1 "original" "density" "vibrating_tube_densimetry" p (densityData 1.3 4.0 3)
                    result 2 "original" "conductivity" "polynomial_interpolation" p (conductivityData 0.9 true)
                    result 3 "deleted" "conductivity" "polynomial_interpolation" p2 (conductivityData 0.5 true)
                    result 4 "amended" "density" "vibrating_tube_densimetry" p2 (densityData 1.2 3.0 0)
                    result 5 "original" "conductivity" "polynomial_interpolation" p2 (conductivityData 0.0 false)
                    result 6 "original" "conductivity" "other_method" p2 (conductivityData 7.0 true) ]

              let o = preset ()

              let x =
                  ResultReader.Extract(results, o.EffectiveObjectives, Dictionary(), 1.0, 6, 2)

              Expect.equal x.Deleted 1 "one deleted result"
              Expect.equal x.BelowMinRating 2 "density and viscosity of the rating-0 result are below min rating 1"
              Expect.isEmpty x.Unreadable "everything else is readable"

              let byName n =
                  x.Values |> Seq.filter (fun v -> v.Objective = n) |> List.ofSeq

              Expect.floatClose
                  Accuracy.high
                  (byName "density" |> List.exactlyOne).Value
                  1.3
                  "density is the mean of its values"

              Expect.floatClose
                  Accuracy.high
                  (byName "viscosity" |> List.exactlyOne).Value
                  4.0
                  "viscosity comes from the densimetry result"

              let failed =
                  byName "conductivity" |> List.filter (fun v -> not v.Success) |> List.exactlyOne

              Expect.equal failed.Temperature 310.0 "the failure is at its point"
              let joined = ResultReader.Join(x.Values, o.EffectiveObjectives)
              Expect.equal joined.Count 2 "two points"

              Expect.isTrue
                  (joined |> Seq.exists (fun j -> j.Complete && j.Temperature = 300.0))
                  "values from two capabilities join into one complete point"

              Expect.isTrue
                  (joined |> Seq.exists (fun j -> j.Failed && j.Temperature = 310.0))
                  "a failed result marks its point"
          }

          test "options: a preset fills objectives and requests; conflicts and bad values are named" {
              let o = preset ()
              Expect.isEmpty (o.Problems()) "the preset alone is valid"

              Expect.equal
                  [ for r in o.EffectiveRequests -> string r ]
                  [ "conductivity/polynomial_interpolation"; "density/vibrating_tube_densimetry" ]
                  "requests follow from the objectives"

              Expect.equal
                  [ for x in o.EffectiveObjectives -> x.EffectiveName ]
                  [ "conductivity"; "viscosity"; "density" ]
                  "hierarchy order"

              let bad = OptimizerOptions(Preset = "paper", BatchSize = 0)

              bad.Objectives.Add(
                  ObjectiveOptions(Quantity = "density", Method = "m", Path = "density.values", Goal = "up")
              )

              let text = String.Join("; ", bad.Problems())

              Expect.stringContains
                  text
                  "Optimizer:Preset is 'paper' and Optimizer:Objectives lists 1"
                  "preset and objectives together"

              Expect.stringContains text "Optimizer:BatchSize is 0" "batch size named"
              let bad2 = OptimizerOptions()

              bad2.Objectives.Add(
                  ObjectiveOptions(
                      Quantity = "density",
                      Method = "m",
                      Path = "density.values",
                      Goal = "up",
                      Kind = "relative",
                      Tolerance = 2.0
                  )
              )

              let text2 = String.Join("; ", bad2.Problems())
              Expect.stringContains text2 "Optimizer:Objectives:0:Goal is 'up'" "goal named"
              Expect.stringContains text2 "Optimizer:Objectives:0:Tolerance is 2" "tolerance named"
          }

          test "rounded fractions sum to exactly 1 and drop zeros" {
              let f =
                  OptimizerPlanner.RoundToSum(
                      Dictionary(dict [ "a", 0.33333333; "b", 0.33333333; "c", 0.33333334; "d", 1e-9 ]),
                      6
                  )

              Expect.equal f.Count 3 "the 1e-9 fraction is dropped"
              Expect.floatClose Accuracy.veryHigh (f.Values :> seq<float> |> Seq.sum) 1.0 "sum is 1"
          }

          test "the dedupe set holds own non-retracted requests per capability and point" {
              let p =
                  sprintf """{"formulation":%s,"temperature":300}""" (formulation [ lipf6, 0.1; ec, 0.9 ])

              let req (status: string) (m: string) : RequestInfo =
                  let body =
                      sprintf
                          """{"quantity":"q","methods":["%s"],"parameters":{"%s":%s},"tenant_uuid":"%O"}"""
                          m
                          m
                          p
                          Guid.Empty

                  let r = json body

                  { Uuid = Guid.NewGuid()
                    Ctime = ""
                    Status = status
                    Quantity = "q"
                    Methods = [ m ]
                    Parameters = r.GetProperty "parameters"
                    TenantUuid = ""
                    Request = r }

              let planner = OptimizerPlanner(preset (), Guid.NewGuid())

              let taken =
                  planner.Taken([ req "resolved" "a"; req "retracted" "b"; req "reserved" "c" ])

              Expect.equal taken.Count 2 "resolved and reserved count, retracted does not"
              Expect.isTrue (taken |> Seq.exists (fun k -> k.StartsWith "q/a|")) "keyed by capability"
          } ]

// ------------------------------------------------------------------ end to end

let densityFile = "serialized_quantities/density/vibrating_tube_densimetry.json"

let private comp (key: string) (lo: float) (hi: float) =
    let c = ScienceApi.FindChemical key

    sprintf
        """{"chemical":{"SMILES":%s,"InChIKey":"%s"},"fraction":[{"min":%g,"max":%g}],"fraction_type":"molPerMol"}"""
        (JsonSerializer.Serialize c.Smiles)
        c.InChIKey
        lo
        hi

/// The responder's limitations: density for LiPF6/EC/EMC/DMC/PC, conductivity without DMC.
let responderLimitations =
    let body (withDmc: bool) =
        let comps =
            [ comp "LiPF6" 0.02 0.15; comp "EC" 0.0 0.6; comp "EMC" 0.0 0.9 ]
            @ (if withDmc then [ comp "DMC" 0.0 0.9 ] else [])
            @ [ comp "PC" 0.0 0.6 ]

        sprintf """{"formulation":[[%s]],"temperature":[{"min":253.15,"max":333.15}]}""" (String.Join(",", comps))

    sprintf
        """[{"quantity":"density","method":"vibrating_tube_densimetry","limitations":%s},{"quantity":"conductivity","method":"polynomial_interpolation","limitations":%s}]"""
        (body true)
        (body false)

let private fnv (s: string) =
    let mutable h = 14695981039346656037UL

    for ch in s do
        h <- (h ^^^ uint64 ch) * 1099511628211UL

    h

/// Result data computed from the virtual electrolyte (seeded noise from the request parameters: same request, same result).
let simulate (quantity: string) (parameters: JsonElement) (requestId: Guid) : string =
    let f = parameters.GetProperty "formulation"
    let t = parameters.GetProperty("temperature").GetDouble()
    let d = Dictionary<string, float>()

    for c in f.EnumerateArray() do
        d[c.GetProperty("chemical").GetProperty("InChIKey").GetString()] <- c.GetProperty("fraction").GetDouble()

    let total = Seq.sum d.Values

    for k in List.ofSeq d.Keys do
        d[k] <- d[k] / total

    let noise = SeededNoise(fnv (parameters.GetRawText()))
    let e = ScienceApi.MeasureElectrolyte(d, t, Func<float>(noise.NextStandardNormal))

    let runInfo =
        sprintf """{"formulation":%s,"internal_reference":"sim-%O"}""" (f.GetRawText()) requestId

    let meta = """{"success":true,"rating":3}"""

    if quantity = "density" then
        sprintf
            """{"run_info":%s,"density":{"values":[%.17g],"meta":%s,"temperature":%.17g},"viscosity":{"values":[%.17g],"meta":%s,"temperature":%.17g}}"""
            runInfo
            e.DensityGramsPerCubicCentimeter
            meta
            t
            e.ViscosityMillipascalSeconds
            meta
            t
    else
        sprintf
            """{"run_info":%s,"conductivity":{"values":[%.17g],"temperature":%.17g,"meta":%s}}"""
            runInfo
            e.ConductivitySiemensPerMeter
            t
            meta

/// A responder in this process: claims density and conductivity requests and posts simulated results; survives outages.
type Responder(url: string, account: Account) =
    let cts = new CancellationTokenSource()

    let client =
        new BrokerClient(
            url,
            account.User,
            account.Password,
            new Net.Http.HttpClient(Timeout = TimeSpan.FromSeconds 5.0)
        )

    let caps =
        [ "density", "vibrating_tube_densimetry"
          "conductivity", "polynomial_interpolation" ]

    let loop =
        Task.Run(fun () ->
            task {
                while not cts.IsCancellationRequested do
                    let mutable worked = false

                    for (q, m) in caps do
                        try
                            match! Broker.claim q m 30.0 client with
                            | Some r ->
                                worked <- true
                                let p = r.Parameters.GetProperty m

                                let body =
                                    sprintf
                                        """{"data":%s,"quantity":"%s","method":["%s"],"parameters":{"%s":%s},"tenant_uuid":"%O","request_uuid":"%O"}"""
                                        (simulate q p r.Uuid)
                                        q
                                        m
                                        m
                                        (p.GetRawText())
                                        account.Uuid
                                        r.Uuid

                                let! _ = client.PostResultJsonAsync body
                                ()
                            | None -> ()
                        with _ ->
                            ()

                    if not worked then
                        try
                            do! Task.Delay(100, cts.Token)
                        with _ ->
                            ()
            }
            :> Task)

    interface IDisposable with
        member _.Dispose() =
            cts.Cancel()
            loop.Wait(TimeSpan.FromSeconds 10.0) |> ignore

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

let endToEnd =
    testSequenced
    <| testList
        "OptimizerTenant (broker)"
        [ test
              "posts only feasible, schema-valid, non-duplicate requests under the queue cap, survives a broker restart, finds a better point; plans are deterministic" {
              use fx = create "optimizer-e2e"

              expectStatus
                  (fx.Admin.Post("/admin/capabilities", Finales.Tests.RepoData.readCorpus densityFile))
                  201
                  "register density/vibrating_tube_densimetry"

              let responder = fx.AddTenant "responder"
              let optimizer = fx.AddTenant "optimizer"
              let rApi = Api.Login(fx.Url, responder.User, responder.Password)

              expectStatus
                  (rApi.Put(sprintf "/tenants/%O/limitations" responder.Uuid, responderLimitations))
                  200
                  "responder limitations"

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
          } ]
