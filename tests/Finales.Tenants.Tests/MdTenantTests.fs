/// The MD tenant end to end: a real broker on loopback, real LAMMPS through the local executor, the primitive model
/// on short runs. The broker validates every result against its capability's result schema and refuses what does
/// not conform, so a resolved request proves a schema-valid result.
module Finales.Tenants.Tests.MdTenantTests

open System
open System.IO
open System.Text.Json
open System.Threading
open Expecto
open Finales.Client
open Finales.Hosting
open Finales.Hpc
open Finales.Tenants.Md
open Finales.Tenants.Tests.TenantWorld

let lammps = LammpsEngine.TryVersion "lmp" |> Option.ofObj

/// 1 M LiPF6 in EC/EMC 3:7 (mole) at `t` K, as FINALES2 parameters.
let parameters (t: float) (salt: float) =
    let entry key (x: float) =
        let c = Finales.Core.ScienceApi.FindChemical key

        sprintf
            """{"chemical":{"SMILES":%s,"InChIKey":"%s"},"fraction":%.6f,"fraction_type":"molPerMol"}"""
            (JsonSerializer.Serialize c.Smiles)
            c.InChIKey
            x

    JsonDocument
        .Parse(
            sprintf
                """{"formulation":[%s,%s,%s],"temperature":%g}"""
                (entry "LiPF6" salt)
                (entry "EC" ((1.0 - salt) * 0.3))
                (entry "EMC" ((1.0 - salt) * 0.7))
                t
        )
        .RootElement

let private mdOptions (dir: string) (productionPs: float) =
    MdOptions(WorkDirectory = Path.Combine(dir, "jobs"), ProductionPs = productionPs, PollSeconds = 0.2)

let private jobJournal (dir: string) = Path.Combine(dir, "jobs.db")

let private worker (dir: string) (productionPs: float) (stopping: CancellationToken) =
    let options = mdOptions dir productionPs

    let runner =
        SupervisedJobs.Create(LocalExecutor(), jobJournal dir, TimeSpan.FromSeconds 0.2)

    MdWorker(options, runner, Option.defaultValue "unknown" lammps, "local", stopping)

let mdFixture (name: string) =
    let fx =
        Finales.Integration.Tests.TenantFixture.create
            ("md-" + name)
            "conductivity"
            "molecular_dynamics"
            "serialized_quantities/conductivity/molecular_dynamics.json"

    for file in
        [ "serialized_quantities/density/molecular_dynamics.json"
          "serialized_quantities/radial_density_function/molacular_dynamics.json" ] do
        Finales.Integration.Tests.Harness.expectStatus
            (fx.Admin.Post("/admin/capabilities", Finales.Tests.RepoData.readCorpus file))
            201
            ("register " + file)

    fx

let item (capability: TenantCapability) (p: JsonElement) =
    let request: RequestInfo =
        { Uuid = Guid.NewGuid()
          Ctime = ""
          Status = "reserved"
          Quantity = capability.Quantity
          Methods = [| capability.Method |]
          Parameters = JsonDocument.Parse(sprintf """{"%s":%s}""" capability.Method (p.GetRawText())).RootElement
          TenantUuid = ""
          Request = p }

    WorkItem(request, capability, p)

let tests =
    testSequencedGroup "md tenant (LAMMPS)"
    <| testList
        "md tenant"
        [ test "the three MD capabilities are answered from one real LAMMPS run each and the broker accepts the results" {
              if lammps.IsNone then
                  skiptest "LAMMPS (lmp) is not installed"

              use fx = mdFixture "e2e"
              let account = fx.AddTenant "md"

              use tenant =
                  new RunningTenant(
                      worker fx.Dir 100.0 CancellationToken.None,
                      options fx account (Path.Combine(fx.Dir, "j.db"))
                  )

              tenant.WaitReady()

              let ids =
                  [ for quantity, methodName in
                        [ "conductivity", "molecular_dynamics"
                          "density", "molecular_dynamics"
                          "radial_density_function", "molacular_dynamics" ] ->
                        quantity,
                        { fx with
                            Quantity = quantity
                            Method = methodName }
                            .PostRequest(parameters 298.15 0.085) ]

              for q, id in ids do
                  waitUntil 240.0 (sprintf "%s request %O resolved" q id) (fun () -> fx.Status id = "resolved")

              for q, id in ids do
                  let results = fx.ResultsFor id
                  Expect.equal results.Length 1 (sprintf "one result for the %s request" q)
                  let data = results.Head.GetProperty("result").GetProperty("data")

                  let meta =
                      if q = "radial_density_function" then
                          data.GetProperty "meta"
                      else
                          data.GetProperty(q).GetProperty "meta"

                  Expect.isTrue
                      (meta.GetProperty("success").GetBoolean())
                      (sprintf "%s succeeded: %s" q (data.GetRawText()))

                  let rating = meta.GetProperty("rating").GetInt32()
                  Expect.isTrue (rating >= 1 && rating <= 5) (sprintf "%s rating %d in 1..5" q rating)
                  let info = data.GetProperty "run_info"
                  Expect.equal (info.GetProperty("engine").GetString()) "LAMMPS" "engine"
                  Expect.equal (info.GetProperty("model").GetString()) "primitive" "model level"
                  Expect.equal (info.GetProperty("steps").GetProperty("production").GetInt32()) 5000 "100 ps at 20 fs"

                  match q with
                  | "conductivity" ->
                      let sigma = data.GetProperty("conductivity").GetProperty("values").[0].GetDouble()
                      Expect.isTrue (sigma > 0.05 && sigma < 20.0) (sprintf "plausible conductivity %g S/m" sigma)
                  | "radial_density_function" ->
                      let titles =
                          [ for t in data.GetProperty("pair_title").EnumerateArray() -> t.GetString() ]

                      Expect.equal titles [ "Li-P"; "Li-Li"; "P-P" ] "the three RDFs"
                  | _ -> ()

              let jobs = Directory.GetDirectories(Path.Combine(fx.Dir, "jobs"))
              Expect.equal jobs.Length 3 "one job per request"
          }

          test "a request the model cannot simulate gets a failed result naming the field and no job" {
              let dir = Finales.Integration.Tests.Harness.tempDir "md-refuse"
              let w = worker dir 100.0 CancellationToken.None

              for capability, p, field in
                  [ MdWorker.Conductivity, parameters 400.0 0.085, "temperature is 400 K"
                    MdWorker.Density, parameters 298.15 0.6, "formulation gives"
                    MdWorker.Rdf,
                    JsonDocument
                        .Parse(
                            """{"formulation":[{"chemical":{"SMILES":"C1COC(=O)O1","InChIKey":"KMTRUDSVKNLOMY-UHFFFAOYSA-N"},"fraction":0.5,"fraction_type":"molPerMol"}],"temperature":298.15}"""
                        )
                        .RootElement,
                    "formulation: fractions sum to 0.5" ] do
                  let outcome = w.ProcessAsync(item capability p, CancellationToken.None).Result
                  Expect.isFalse outcome.Success (sprintf "%s refused" capability.Quantity)
                  Expect.stringContains outcome.Message field "names the field and value"

              Expect.isFalse (Directory.Exists(Path.Combine(dir, "jobs"))) "no job was prepared or submitted"
          }

          test "a request retracted while its job runs cancels the job and gets no result" {
              if lammps.IsNone then
                  skiptest "LAMMPS (lmp) is not installed"

              use fx = mdFixture "retract"
              let account = fx.AddTenant "md"

              use tenant =
                  new RunningTenant(
                      worker fx.Dir 50000.0 CancellationToken.None,
                      options fx account (Path.Combine(fx.Dir, "j.db"))
                  )

              tenant.WaitReady()
              let id = fx.PostRequest(parameters 298.15 0.085)
              let jobDir = Path.Combine(fx.Dir, "jobs", id.ToString "D")
              use journal = new JobJournal(jobJournal fx.Dir)

              let journaledId () =
                  match journal.Get(id.ToString "D") with
                  | null -> null
                  | e -> e.JobId

              waitUntil 120.0 "the job was submitted and journaled" (fun () -> not (isNull (journaledId ())))
              let jobId = journaledId ()
              let executor = LocalExecutor()

              Expect.equal
                  (executor.StatusAsync(jobId, CancellationToken.None).Result.State)
                  JobState.Running
                  "the 50 ns job runs"

              fx.Admin.Post(sprintf "/requests/%O/update_status/?new_status=retracted" id)
              |> ignore

              Expect.equal (fx.Status id) "retracted" "the request is retracted"

              waitUntil 60.0 "the job was cancelled" (fun () ->
                  executor.StatusAsync(jobId, CancellationToken.None).Result.State = JobState.Cancelled)

              Expect.isEmpty (fx.ResultsFor id) "no result for a retracted request"
          } ]
