/// The MD tenant's all-atom level end to end: `Md:Model = "all-atom"` at the smoke size (about 1,500 atoms,
/// 200 steps per stage) through Packmol and LAMMPS on the local executor, the data directory shipped next to the
/// build (data/md/allatom), and a result the broker accepts against the capability's result schema.
module Finales.Tenants.Tests.MdAllAtomTests

open System
open System.IO
open System.Threading
open Expecto
open Finales.Hpc
open Finales.Tenants.Md
open Finales.Tenants.Tests.TenantWorld
open Finales.Tenants.Tests.MdTenantTests

let private onPath (program: string) =
    (Environment.GetEnvironmentVariable "PATH"
     |> Option.ofObj
     |> Option.defaultValue "")
        .Split(':')
    |> Array.exists (fun d -> d <> "" && File.Exists(Path.Combine(d, program)))

let tests =
    testSequencedGroup "md tenant (LAMMPS)"
    <| testList
        "md tenant all-atom"
        [ test "the all-atom smoke size runs through Packmol and LAMMPS and the broker accepts its density result" {
              if lammps.IsNone || not (onPath "packmol") then
                  skiptest "LAMMPS (lmp) or packmol is not installed"

              let options =
                  MdOptions(Model = "all-atom", AllAtomSize = "smoke", PollSeconds = 0.2)

              Expect.isTrue
                  (File.Exists(Path.Combine(options.AllAtomDataDirectory(), "lipf6-carbonates.ff")))
                  "the force field is shipped next to the build"

              use fx = mdFixture "allatom"
              options.WorkDirectory <- Path.Combine(fx.Dir, "jobs")
              let account = fx.AddTenant "md"

              let runner =
                  SupervisedJobs.Create(LocalExecutor(), Path.Combine(fx.Dir, "jobs.db"), TimeSpan.FromSeconds 0.2)

              use tenant =
                  new RunningTenant(
                      MdWorker(options, runner, lammps.Value, "local", CancellationToken.None),
                      TenantWorld.options fx account (Path.Combine(fx.Dir, "j.db"))
                  )

              tenant.WaitReady()

              let id =
                  { fx with
                      Quantity = "density"
                      Method = "molecular_dynamics" }
                      .PostRequest(parameters 298.15 0.086)

              waitUntil 600.0 (sprintf "density request %O resolved" id) (fun () -> fx.Status id = "resolved")
              let results = fx.ResultsFor id
              Expect.equal results.Length 1 "one result"
              let data = results.Head.GetProperty("result").GetProperty("data")
              let meta = data.GetProperty("density").GetProperty "meta"
              Expect.isTrue (meta.GetProperty("success").GetBoolean()) (sprintf "succeeded: %s" (data.GetRawText()))
              let rho = data.GetProperty("density").GetProperty("values").[0].GetDouble()
              Expect.isTrue (rho > 0.8 && rho < 1.8) (sprintf "an NPT liquid density, %g g/cm3" rho)
              let info = data.GetProperty "run_info"
              Expect.equal (info.GetProperty("model").GetString()) "all-atom" "the result states the model"
              Expect.equal (info.GetProperty("steps").GetProperty("production").GetInt32()) 200 "the smoke size"
              let atoms = info.GetProperty("box").GetProperty("atoms").GetInt32()
              Expect.isTrue (atoms > 1000 && atoms < 2000) (sprintf "about 1,500 atoms, %d" atoms)
              Expect.equal (info.GetProperty("analysis").GetProperty("frames").GetInt32()) 11 "every production frame"
          }

          test "the all-atom level refuses a formulation its force field does not cover, naming it, and submits no job" {
              let dir = Finales.Integration.Tests.Harness.tempDir "md-allatom-refuse"

              let options =
                  MdOptions(Model = "all-atom", AllAtomSize = "smoke", WorkDirectory = Path.Combine(dir, "jobs"))

              let runner =
                  SupervisedJobs.Create(LocalExecutor(), Path.Combine(dir, "jobs.db"), TimeSpan.FromSeconds 0.2)

              let w = MdWorker(options, runner, "test", "local", CancellationToken.None)

              let p =
                  System.Text.Json.JsonDocument
                      .Parse(
                          """{"formulation":[{"chemical":{"SMILES":"C1COC(=O)O1","InChIKey":"KMTRUDSVKNLOMY-UHFFFAOYSA-N"},"fraction":1.0,"fraction_type":"molPerMol"}],"temperature":600}"""
                      )
                      .RootElement

              let outcome = w.ProcessAsync(item MdWorker.Density p, CancellationToken.None).Result
              Expect.isFalse outcome.Success "refused"
              Expect.stringContains outcome.Message "temperature is 600 K" "names the field and value"
              Expect.isFalse (Directory.Exists(Path.Combine(dir, "jobs"))) "no job was prepared or submitted"
          } ]
