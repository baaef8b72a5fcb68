/// The MD tenant on a real private Slurm (the SlurmCluster fixture of the Hpc tests, linked): a request through
/// sbatch to a schema-valid result; kill -9 of a `finales tenant md` process while its job runs and a restart: one
/// Slurm job and one result; a retracted request cancels its Slurm job; `scancel` from outside gives a failed result
/// naming CANCELLED; a job over its 1-minute limit is requeued from its restart file and gives one result. Primitive
/// model, short runs. Needs root, slurm-wlm, munge and LAMMPS (SlurmCluster.Start fails
/// with a message saying what is missing).
module Finales.Tenants.Tests.MdSlurmTests

open System
open System.IO
open System.Threading
open Expecto
open Finales.Hpc
open Finales.TestSupport
open Finales.Tenants.Md
open Finales.Tenants.Tests.TenantWorld
open Finales.Tenants.Tests.MdTenantTests

let private slurmWorker (dir: string) (productionPs: float) (timeLimitMinutes: float) =
    SlurmCluster.Shared |> ignore

    let options =
        MdOptions(
            Executor = "slurm",
            WorkDirectory = Path.Combine(dir, "jobs"),
            ProductionPs = productionPs,
            PollSeconds = 0.5,
            TimeLimitMinutes = timeLimitMinutes
        )

    let runner =
        SupervisedJobs.Create(
            SlurmExecutor(SlurmOptions.Default),
            Path.Combine(dir, "jobs", "jobs.db"),
            TimeSpan.FromSeconds 0.5
        )

    MdWorker(options, runner, Option.defaultValue "unknown" lammps, "slurm", CancellationToken.None)

/// The job files of a request, as the tenant would write them, with the production run of in.lammps cut into five
/// chunks of a fifth each and `pause` seconds of sleep after each (LAMMPS `shell`): the first attempt then outlasts a
/// 1-minute limit whatever the machine's speed, and the requeued attempt (the tenant's own in.restart.lammps from
/// the newest restart file, no sleeps) takes seconds.
let private slowedFiles (worker: MdWorker) (id: Guid) (pause: int) =
    let p = parameters 298.15 0.085

    let request: Finales.Client.RequestInfo =
        { Uuid = id
          Ctime = ""
          Status = "reserved"
          Quantity = MdWorker.Conductivity.Quantity
          Methods = [| MdWorker.Conductivity.Method |]
          Parameters =
            Text.Json.JsonDocument
                .Parse(sprintf """{"%s":%s}""" MdWorker.Conductivity.Method (p.GetRawText()))
                .RootElement
          TenantUuid = ""
          Request = p }

    let ok, job, refusal =
        worker.TryPrepare(Finales.Hosting.WorkItem(request, MdWorker.Conductivity, p))

    Expect.isTrue ok (sprintf "the request can be simulated: %s" refusal)

    [ for KeyValue(name, text) in job.Files ->
          if name <> "in.lammps" then
              name, text
          else
              let lines = text.Split('\n')

              let production =
                  lines
                  |> Array.findIndexBack (fun l -> l.StartsWith "run " && l.EndsWith " upto")

              let steps = int (lines[production].Split(' ')[1])

              let chunks =
                  [ sprintf "variable upto index %s" (String.Join(" ", [ for k in 1..5 -> string (steps * k / 5) ]))
                    "label production"
                    "run ${upto} upto"
                    sprintf "shell sleep %d" pause
                    "next upto"
                    "jump SELF production" ]

              name,
              String.Join(
                  "\n",
                  Array.concat [ lines[.. production - 1]; List.toArray chunks; lines[production + 1 ..] ]
              ) ]

/// The journaled Slurm job id of a request (null until submitted).
let private journaledJob (journalPath: string) (id: Guid) =
    if not (File.Exists journalPath) then
        null
    else
        use journal = new JobJournal(journalPath)

        match journal.Get(id.ToString "D") with
        | null -> null
        | e -> e.JobId

let private journaledIds (journalPath: string) (id: Guid) =
    use journal = new JobJournal(journalPath)
    (journal.Get(id.ToString "D")).JobIds.Split(' ', StringSplitOptions.RemoveEmptyEntries)

/// The Slurm state of a job (scontrol show job), e.g. "RUNNING", "CANCELLED".
let private slurmState (jobId: string) =
    let show = SlurmCluster.Shared.Run("scontrol", "show", "job", jobId)

    show.Stdout.Split([| ' '; '\n' |], StringSplitOptions.RemoveEmptyEntries)
    |> Array.tryFind (fun t -> t.StartsWith "JobState=")
    |> Option.map (fun t -> t.Substring "JobState=".Length)
    |> Option.defaultValue ""

/// How many jobs slurmctld knows by that name (finished ones included, MinJobAge=600).
let private jobsNamed (name: string) =
    SlurmCluster.Shared
        .Run("scontrol", "show", "job")
        .Stdout.Split([| ' '; '\n' |], StringSplitOptions.RemoveEmptyEntries)
    |> Array.filter (fun t -> t.Trim() = sprintf "JobName=%s" name)
    |> Array.length

let private startTenant (fx: Fixture) (worker: MdWorker) =
    let account = fx.AddTenant "md"
    let t = new RunningTenant(worker, options fx account (Path.Combine(fx.Dir, "j.db")))
    t.WaitReady()
    t

let tests =
    testSequencedGroup "md tenant (slurm)"
    <| testList
        "md tenant slurm"
        [ test "a request goes through sbatch and comes back as a schema-valid result" {
              if lammps.IsNone then
                  skiptest "LAMMPS (lmp) is not installed"

              use fx = mdFixture "slurm-ok"
              use _tenant = startTenant fx (slurmWorker fx.Dir 20.0 30.0)
              let id = fx.PostRequest(parameters 298.15 0.085)
              waitUntil 300.0 (sprintf "request %O resolved" id) (fun () -> fx.Status id = "resolved")
              let results = fx.ResultsFor id
              Expect.equal results.Length 1 "one result"
              let data = results.Head.GetProperty("result").GetProperty("data")

              Expect.isTrue
                  (data.GetProperty("conductivity").GetProperty("meta").GetProperty("success").GetBoolean())
                  (sprintf "succeeded: %s" (data.GetRawText()))

              let info = data.GetProperty "run_info"
              Expect.equal (info.GetProperty("executor").GetString()) "slurm" "run through Slurm"
              let jobId = info.GetProperty("job_id").GetString()
              Expect.equal (slurmState jobId) "COMPLETED" "the Slurm job of the result completed"
              Expect.equal (jobsNamed (id.ToString "D")) 1 "one Slurm job for the request"
          }

          test "kill -9 of the tenant process while its Slurm job runs, a restart: one job and one result" {
              if lammps.IsNone then
                  skiptest "LAMMPS (lmp) is not installed"

              SlurmCluster.Shared |> ignore
              use fx = mdFixture "slurm-kill"
              let account = fx.AddTenant "md"
              let work = Path.Combine(fx.Dir, "jobs")
              let jobsDb = Path.Combine(work, "jobs.db")
              let config = Path.Combine(fx.Dir, "md.json")

              File.WriteAllText(
                  config,
                  sprintf
                      """{"Tenant":{"BrokerUrl":"%s","Username":"%s","Password":"%s","TenantUuid":"%O","JournalPath":"%s","PollIntervalSeconds":0.2,"LeaseSeconds":30,"InitialBackoffSeconds":0.2,"MaxBackoffSeconds":1,"HttpTimeoutSeconds":5},"Md":{"Executor":"slurm","WorkDirectory":"%s","ProductionPs":600,"PollSeconds":0.5},"Logging":{"LogLevel":{"Default":"Information","Microsoft":"Warning","System.Net.Http":"Warning"}}}"""
                      fx.Url
                      account.User
                      account.Password
                      account.Uuid
                      (Path.Combine(fx.Dir, "md-journal.db"))
                      work
              )

              let first = new TenantProcess(config, "md")

              let id, jobId =
                  try
                      first.WaitFor("Registered limitations", 60.0)
                      let id = fx.PostRequest(parameters 298.15 0.085)

                      waitUntil 120.0 "the Slurm job was journaled" (fun () -> not (isNull (journaledJob jobsDb id)))

                      let jobId = journaledJob jobsDb id
                      waitUntil 60.0 "the Slurm job runs" (fun () -> slurmState jobId = "RUNNING")
                      first.Kill()
                      id, jobId
                  with e ->
                      first.Kill()
                      raise e

              Expect.equal (slurmState jobId) "RUNNING" "the job outlives the killed tenant"
              Expect.isEmpty (fx.ResultsFor id) "nothing posted yet"
              use second = new TenantProcess(config, "md")
              waitUntil 300.0 "resolved after the restart" (fun () -> fx.Status id = "resolved")
              let results = fx.ResultsFor id
              Expect.equal results.Length 1 "exactly one result"
              let data = results.Head.GetProperty("result").GetProperty("data")

              Expect.isTrue
                  (data.GetProperty("conductivity").GetProperty("meta").GetProperty("success").GetBoolean())
                  (sprintf "succeeded: %s" (data.GetRawText()))

              Expect.equal (data.GetProperty("run_info").GetProperty("job_id").GetString()) jobId "the re-attached job"
              second.Kill()
              Expect.equal (journaledIds jobsDb id) [| jobId |] "the job journal holds one job id"
              Expect.equal (jobsNamed (id.ToString "D")) 1 "slurmctld knows one job for the request"
          }

          test "a request whose Slurm job hits its time limit is requeued from its restart file and gets one result" {
              if lammps.IsNone then
                  skiptest "LAMMPS (lmp) is not installed"

              use fx = mdFixture "slurm-timeout"
              let worker = slurmWorker fx.Dir 100.0 1.0
              // Posted before the tenant starts, so that its job directory can hold the slowed input first (the
              // tenant never rewrites a job file that exists).
              let id = fx.PostRequest(parameters 298.15 0.085)
              let jobDir = Path.Combine(fx.Dir, "jobs", id.ToString "D")
              Directory.CreateDirectory jobDir |> ignore

              for name, text in slowedFiles worker id 30 do
                  File.WriteAllText(Path.Combine(jobDir, name), text)

              use _tenant = startTenant fx worker
              waitUntil 600.0 (sprintf "request %O resolved" id) (fun () -> fx.Status id = "resolved")
              let results = fx.ResultsFor id
              Expect.equal results.Length 1 "one result"
              let data = results.Head.GetProperty("result").GetProperty("data")

              Expect.isTrue
                  (data.GetProperty("conductivity").GetProperty("meta").GetProperty("success").GetBoolean())
                  (sprintf "succeeded: %s" (data.GetRawText()))

              let ids = journaledIds (Path.Combine(fx.Dir, "jobs", "jobs.db")) id
              Expect.equal ids.Length 2 "the first Slurm job and its requeue"
              Expect.equal (slurmState ids[0]) "TIMEOUT" "Slurm stopped the first job at its time limit"
              Expect.equal (slurmState ids[1]) "COMPLETED" "the requeued job completed"

              Expect.equal
                  (data.GetProperty("run_info").GetProperty("job_id").GetString())
                  ids[1]
                  "the result is the requeued job's"

              Expect.stringContains
                  (File.ReadAllText(Path.Combine(jobDir, "log.lammps")))
                  "read_restart"
                  "the requeue continued from the restart file"

              Expect.equal (jobsNamed (id.ToString "D")) 2 "slurmctld knows two jobs for the request"
          }

          test "a request retracted while its Slurm job runs cancels the job and gets no result" {
              if lammps.IsNone then
                  skiptest "LAMMPS (lmp) is not installed"

              use fx = mdFixture "slurm-retract"
              use _tenant = startTenant fx (slurmWorker fx.Dir 50000.0 30.0)
              let id = fx.PostRequest(parameters 298.15 0.085)
              let jobsDb = Path.Combine(fx.Dir, "jobs", "jobs.db")
              waitUntil 120.0 "the Slurm job was journaled" (fun () -> not (isNull (journaledJob jobsDb id)))
              let jobId = journaledJob jobsDb id
              waitUntil 60.0 "the Slurm job runs" (fun () -> slurmState jobId = "RUNNING")

              fx.Admin.Post(sprintf "/requests/%O/update_status/?new_status=retracted" id)
              |> ignore

              Expect.equal (fx.Status id) "retracted" "the request is retracted"
              waitUntil 60.0 "the Slurm job was cancelled" (fun () -> slurmState jobId = "CANCELLED")
              Expect.isEmpty (fx.ResultsFor id) "no result for a retracted request"
          }

          test "scancel from outside gives a failed result naming CANCELLED" {
              if lammps.IsNone then
                  skiptest "LAMMPS (lmp) is not installed"

              use fx = mdFixture "slurm-scancel"
              use _tenant = startTenant fx (slurmWorker fx.Dir 50000.0 30.0)
              let id = fx.PostRequest(parameters 298.15 0.085)
              let jobsDb = Path.Combine(fx.Dir, "jobs", "jobs.db")
              waitUntil 120.0 "the Slurm job was journaled" (fun () -> not (isNull (journaledJob jobsDb id)))
              let jobId = journaledJob jobsDb id
              waitUntil 60.0 "the Slurm job runs" (fun () -> slurmState jobId = "RUNNING")
              let cancel = SlurmCluster.Shared.Run("scancel", jobId)
              Expect.equal cancel.Code 0 (sprintf "scancel: %s" cancel.Stderr)
              waitUntil 60.0 "a result was posted" (fun () -> not (List.isEmpty (fx.ResultsFor id)))
              let results = fx.ResultsFor id
              Expect.equal results.Length 1 "one result"
              let data = results.Head.GetProperty("result").GetProperty("data")
              let meta = data.GetProperty("conductivity").GetProperty "meta"
              Expect.isFalse (meta.GetProperty("success").GetBoolean()) "a failed result"
              Expect.stringContains (meta.GetProperty("message").GetString()) "CANCELLED" "names the Slurm state"
              Expect.equal (slurmState jobId) "CANCELLED" "Slurm cancelled it"
          } ]
