/// `finales demo` end to end: the real process tree (broker + tenants as child processes) at a small size, with and
/// without chaos; the report's numbers are recomputed here straight from the SQLite store, independently of the demo.
module Finales.Demo.Tests.DemoTests

open System
open System.Diagnostics
open System.Globalization
open System.IO
open System.Threading
open System.Text.Json.Nodes
open Expecto
open Microsoft.Data.Sqlite
open Finales.Demo.Tests.DemoRun
open Finales.Demo.Tests.DemoCopiedCliTests
open Finales.Demo.Tests.DemoAgreementTests

let private num (n: JsonNode) = n.GetValue<float>()

let private pearson (xs: float list) (ys: float list) =
    let mx, my = List.average xs, List.average ys
    let sxy = List.map2 (fun x y -> (x - mx) * (y - my)) xs ys |> List.sum
    let sxx = xs |> List.sumBy (fun x -> (x - mx) ** 2.0)
    let syy = ys |> List.sumBy (fun y -> (y - my) ** 2.0)
    sxy / sqrt (sxx * syy)

let private mean (data: JsonNode) (q: string) =
    (data[q]["values"]).AsArray() |> Seq.map num |> Seq.average

/// Checks that hold for every run: exit code, audit, report numbers = numbers recomputed from the store.
let private checks (run: Lazy<Run>) =
    [ test "finishes with exit code 0 and a passing audit" {
          let r = run.Value
          Expect.equal r.Code 0 (sprintf "exit code; output:\n%s" r.Output)

          Expect.isTrue
              ((r.Report["audit"]["ok"]).GetValue<bool>())
              (sprintf "audit: %s" ((r.Report["audit"]).ToJsonString()))

          Expect.stringContains r.Output "audit: ok" "the audit line is printed"
          Expect.stringContains r.Output "report: " "the report path is printed"
          Expect.equal ((r.Report["iterations_done"]).GetValue<int>()) 3 "all iterations ran"
      }

      test "every request is resolved with exactly one current result, checked in the store" {
          let r = run.Value

          let rows =
              query
                  r.Store
                  "SELECT s.uuid, s.status, (SELECT COUNT(*) FROM result_state x WHERE x.request_uuid = s.uuid AND x.status = 'original'), (SELECT COUNT(*) FROM results x WHERE x.request_uuid = s.uuid) FROM request_state s"
                  (fun x -> x.GetString 0, x.GetString 1, x.GetInt64 2, x.GetInt64 3)

          Expect.isGreaterThan rows.Length 6 "the campaign posted requests"

          for id, status, current, all in rows do
              Expect.equal status "resolved" (sprintf "request %s status" id)
              Expect.equal current 1L (sprintf "request %s current results" id)
              Expect.equal all 1L (sprintf "request %s results (duplicated work would show here)" id)

          Expect.equal
              ((r.Report["audit"]["requests_checked"]).GetValue<int>())
              rows.Length
              "report counts the stored requests"

          Expect.equal
              ((r.Report["audit"]["campaign_posted"]).GetValue<int>())
              (query
                  r.Store
                  "SELECT COUNT(*) FROM request_state s JOIN tenants t ON t.uuid = s.requester WHERE t.name = 'optimizer'"
                  (fun x -> int (x.GetInt64 0))
               |> List.head)
              "the optimizer tenant's log names every request stored in its name"
      }

      test "the broker's own audit of the store passes" {
          let r = run.Value

          let psi =
              ProcessStartInfo(
                  "dotnet",
                  sprintf "\"%s\" admin --db \"%s\" audit" cliDll r.Store,
                  RedirectStandardOutput = true,
                  UseShellExecute = false
              )

          psi.Environment["FINALES_ADMIN_PASSWORD"] <- "unused"
          use p = Process.Start psi
          let out = p.StandardOutput.ReadToEnd()
          p.WaitForExit()
          Expect.equal p.ExitCode 0 (sprintf "finales admin audit: %s" out)
      }

      test "counts per status and capability equal the store's" {
          let r = run.Value

          let byCap =
              query
                  r.Store
                  "SELECT quantity || '/' || substr(methods, 2, length(methods) - 2), COUNT(*) FROM requests GROUP BY 1"
                  (fun x -> x.GetString 0, x.GetInt64 1)

          for cap, n in byCap do
              let row = r.Report["counts"]["by_capability"]
              Expect.equal ((row[cap]["requests"]).GetValue<int64>()) n (sprintf "requests of %s" cap)

          let results =
              query r.Store "SELECT COUNT(*) FROM results" (fun x -> x.GetInt64 0)
              |> List.head

          Expect.equal ((r.Report["counts"]["results"]).GetValue<int64>()) results "results"

          Expect.isTrue
              (byCap |> List.exists (fun (c, _) -> c = "conductivity/polynomial_interpolation"))
              "the conductivity tenant got work"
      }

      test "Pearson r of density vs viscosity equals the one recomputed from the result bodies" {
          let r = run.Value

          let pairs =
              query
                  r.Store
                  "SELECT r.body FROM results r JOIN result_state s ON s.uuid = r.uuid WHERE r.method = 'vibrating_tube_densimetry' AND s.status = 'original' ORDER BY r.seq"
                  (fun x -> JsonNode.Parse(x.GetString 0)["data"])
              |> List.map (fun d -> mean d "density", mean d "viscosity")

          let expected = pearson (List.map fst pairs) (List.map snd pairs)
          let dv = r.Report["density_viscosity"]
          Expect.equal ((dv["points"]).AsArray().Count) pairs.Length "one point per density result"
          Expect.floatClose Accuracy.high (num dv["pearson_r"]) expected "Pearson r"
          Expect.isGreaterThan expected 0.0 "density and viscosity rise together in this design space"
      }

      test "per-tenant counts and throughput equal those recomputed from the event log" {
          let r = run.Value

          let tenants =
              query r.Store "SELECT uuid, name FROM tenants" (fun x -> x.GetString 0, x.GetString 1)

          let time (s: string) =
              DateTime.Parse(
                  s,
                  CultureInfo.InvariantCulture,
                  DateTimeStyles.AdjustToUniversal ||| DateTimeStyles.AssumeUniversal
              )

          let events =
              query
                  r.Store
                  "SELECT kind, time, COALESCE(tenant_uuid,''), COALESCE(holder_tenant,''), COALESCE(requester,'') FROM events"
                  (fun x -> x.GetString 0, time (x.GetString 1), x.GetString 2, x.GetString 3, x.GetString 4)

          for uuid, name in tenants do
              let row =
                  (r.Report["tenants"]).AsArray()
                  |> Seq.find (fun t -> (t["tenant"]).GetValue<string>() = uuid)

              let resolved =
                  events |> List.filter (fun (k, _, t, _, _) -> k = "result_posted" && t = uuid)

              let claims =
                  events |> List.filter (fun (k, _, _, h, _) -> k = "reserved" && h = uuid)

              let posted =
                  events
                  |> List.filter (fun (k, _, _, _, q) -> k = "created" && q = uuid)
                  |> List.length

              Expect.equal ((row["resolved"]).GetValue<int>()) resolved.Length (sprintf "%s resolved" name)
              Expect.equal ((row["claimed"]).GetValue<int>()) claims.Length (sprintf "%s claimed" name)
              Expect.equal ((row["posted"]).GetValue<int>()) posted (sprintf "%s posted" name)

              if not resolved.IsEmpty then
                  let first = claims |> List.map (fun (_, t, _, _, _) -> t) |> List.min
                  let last = resolved |> List.map (fun (_, t, _, _, _) -> t) |> List.max
                  let perMinute = float resolved.Length / (last - first).TotalMinutes

                  Expect.floatClose
                      { absolute = 0.01; relative = 1e-3 }
                      (num row["throughput_per_minute"])
                      perMinute
                      (sprintf "%s throughput" name)
      }

      test "the HTML report is self-contained and shows the four charts" {
          let r = run.Value
          // Figure 8 (the MD tenant's RDFs) is a chart only when MD results exist; otherwise a sentence says so.
          let rdf =
              if r.Report["md_rdf"].["curves"].AsArray().Count > 0 then
                  1
              else
                  0

          Expect.equal
              (r.Html.Split("<div class=\"finales-chart\"").Length - 1)
              (4 + rdf)
              "four Plotly charts, and Figure 8 with MD results"

          Expect.equal (r.Html.Split(Finales.Plotting.PlotlyJs.Source).Length - 1) 1 "plotly.js inlined once"
          // Everything but the inlined plotly.js (whose code names URLs it never fetches here) is the report's own.
          let own = r.Html.Replace(Finales.Plotting.PlotlyJs.Source, "")
          Expect.isFalse (own.Contains "src=") "no script or image source"
          Expect.isFalse (own.Contains "http") "no network references"
          Expect.stringContains r.Html "Pearson r" "density-viscosity chart with Pearson r"
      } ]

/// Edits a copy of a finished store, serves it with a broker and re-runs the demo's audit on it, reading the broker's
/// HTTP API as the demo does.
let private tamperedAudit (run: Run) (sql: string) =
    let copy =
        Path.Combine(
            Path.GetDirectoryName run.Store,
            sprintf "tampered-%s.db" (Guid.NewGuid().ToString("N").Substring(0, 6))
        )

    File.Copy(run.Store, copy)

    do
        use c = new SqliteConnection(sprintf "Data Source=%s;Pooling=False" copy)
        c.Open()
        use cmd = c.CreateCommand()
        cmd.CommandText <- sql
        cmd.ExecuteNonQuery() |> ignore

    let posted =
        query
            run.Store
            "SELECT r.uuid, r.quantity, r.methods FROM requests r JOIN request_state s ON s.uuid = r.uuid JOIN tenants t ON t.uuid = s.requester WHERE t.name = 'optimizer' ORDER BY r.seq"
            (fun x -> Guid.Parse(x.GetString 0), x.GetString 1, x.GetString 2)
        |> List.map (fun (id, q, m) -> Finales.Demo.PostedRequest(id, 1, q + "/" + m.Trim('|')))

    let requester =
        query run.Store "SELECT uuid FROM tenants WHERE name = 'optimizer'" (fun x -> Guid.Parse(x.GetString 0))
        |> List.head

    let info =
        Finales.Demo.DemoRunInfo(
            Finales.Demo.DemoPreset.Electrolyte,
            3,
            2,
            5,
            false,
            false,
            0.0,
            ResizeArray posted,
            ResizeArray(),
            readOnlyDict [],
            requester
        )

    let dumpKey = "tamper-dump-key"
    let auditor = "auditor-pw"

    let code, out =
        Finales.Integration.Tests.Harness.run
            "dotnet"
            (sprintf
                "\"%s\" admin --db \"%s\" user add --username auditor --password %s --roles admin"
                cliDll
                copy
                auditor)
            []

    Expect.equal code 0 (sprintf "an admin user for the copy: %s" out)

    use broker =
        (new Finales.Integration.Tests.Harness.BrokerProcess(
            Finales.Integration.Tests.Harness.Sqlite copy,
            sprintf "--dump-key %s" dumpKey
        ))
            .Start()

    use admin = new Finales.Demo.DemoHttp(broker.Url, "auditor", auditor)
    let reader = Finales.Demo.BrokerReader(admin, dumpKey)
    let snapshot = reader.Snapshot(CancellationToken.None).Result
    let brokerAudit = reader.Audit(CancellationToken.None).Result
    (Finales.Demo.DemoReport.Compute(snapshot, brokerAudit, copy, info))["audit"]


[<Tests>]
let tests =
    testSequenced
    <| testList
        "demo"
        [ stockTable
          cellTenant
          pointJoin
          chemistry
          testList "small run" (checks plain)
          DemoMdTests.tests
          testList
              "with --chaos"
              (checks chaos
               @ [ test "chaos killed the ASAB tenant while it held a request, and the broker" {
                       let r = chaos.Value

                       let log =
                           (r.Report["chaos"]).AsArray()
                           |> Seq.map (fun n -> n.GetValue<string>())
                           |> List.ofSeq

                       Expect.equal log.Length 2 (sprintf "two chaos events: %A" log)

                       Expect.stringContains
                           log[0]
                           "kill -9 of the ASAB tenant while it held request"
                           "lab killed mid-request"

                       Expect.stringContains log[1] "kill -9 of the broker" "broker killed"
                   }
                   test
                       "same seed, same start: identical first batch (later batches depend on timing and the restarted lab)" {
                       // Iteration 1 is planned on an empty store from the seed alone. Later batches depend on which
                       // results are in when the optimizer tenant looks (queue cap) and, with chaos, on the restarted
                       // ASAB's noise sequence, as a real instrument's readings would differ.
                       let requested (r: Run) =
                           (r.Report["compositions"]).AsArray()
                           |> Seq.map (fun c -> (c["requested"]).ToJsonString())
                           |> Seq.truncate 2
                           |> List.ofSeq

                       Expect.equal
                           (requested chaos.Value)
                           (requested plain.Value)
                           "requested formulations of iteration 1"

                       Expect.equal (requested chaos.Value).Length 2 "one iteration of batch 2"
                   } ])
          testList "a copied CLI with no repository beside it, run twice into one folder" independence
          testList
              "the audit can fail"
              [ test "a second result for a resolved request (duplicated work) is found" {
                    let audit =
                        tamperedAudit
                            plain.Value
                            "INSERT INTO results (uuid, ctime, request_uuid, quantity, method, body, tenant_uuid, rating) SELECT 'dddddddd-0000-0000-0000-000000000001', ctime, request_uuid, quantity, method, body, tenant_uuid, rating FROM results LIMIT 1; INSERT INTO result_state (uuid, seq, request_uuid, tenant_uuid, status) SELECT 'dddddddd-0000-0000-0000-000000000001', 999999, request_uuid, tenant_uuid, 'deleted' FROM results WHERE uuid = 'dddddddd-0000-0000-0000-000000000001'"

                    Expect.isFalse ((audit["ok"]).GetValue<bool>()) "audit fails"
                    Expect.equal ((audit["duplicates"]).GetValue<int>()) 1 (audit.ToJsonString())
                }
                test "a lost request is found" {
                    let audit =
                        tamperedAudit
                            plain.Value
                            "CREATE TEMP TABLE victim AS SELECT s.uuid FROM request_state s JOIN tenants t ON t.uuid = s.requester WHERE t.name = 'optimizer' ORDER BY s.seq LIMIT 1; DELETE FROM request_state WHERE uuid IN (SELECT uuid FROM victim); DELETE FROM requests WHERE uuid IN (SELECT uuid FROM victim)"

                    Expect.isFalse ((audit["ok"]).GetValue<bool>()) "audit fails"
                    Expect.equal ((audit["lost"]).GetValue<int>()) 1 (audit.ToJsonString())
                } ] ]
