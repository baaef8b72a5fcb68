/// The MD tenant in the demo: the salt series and option checks (properties), a demo run whose MD series the MD tenant
/// answers (checked in the store), and a run with the LAMMPS command pointing at a missing binary.
module Finales.Demo.Tests.DemoMdTests

open System
open System.IO
open System.Text.Json.Nodes
open Expecto
open FsCheck
open Finales.Demo
open Finales.Demo.Tests.DemoRun

let private config =
    { FsCheckConfig.defaultConfig with
        maxTest = 200 }

let private series =
    testList
        "MD salt series"
        [ testPropertyWithConfig config "n points, increasing, inside 0.03..0.15 and the MD tenant's 0.005..0.3"
          <| fun (n: byte) ->
              let n = int n % 21
              let xs = DemoMd.SaltSeries n |> List.ofSeq
              Expect.equal xs.Length n "one salt content per point"

              for x in xs do
                  Expect.isTrue (x >= 0.03 && x <= 0.15) (sprintf "x = %g inside 0.03..0.15" x)

              for a, b in List.pairwise xs do
                  Expect.isLessThan a b "strictly increasing"

          test "two or more points span the whole range, one point is about 1 mol/L" {
              Expect.sequenceEqual (DemoMd.SaltSeries 3) [ 0.03; 0.09; 0.15 ] "3 points"
              Expect.sequenceEqual (DemoMd.SaltSeries 1) [ 0.085 ] "1 point"
          }

          testPropertyWithConfig config "a request is conductivity/molecular_dynamics of LiPF6 in EC summing to 1"
          <| fun (n: byte) ->
              let salt = 0.03 + 0.12 * float n / 255.0
              let body = DemoMd.ConductivityRequest(salt, Guid.Empty)
              Expect.equal (body["quantity"].GetValue<string>()) "conductivity" "quantity"
              Expect.equal (body["methods"].[0].GetValue<string>()) "molecular_dynamics" "method"
              let p = body["parameters"].["molecular_dynamics"]
              Expect.floatClose Accuracy.high (p["temperature"].GetValue<float>()) 298.15 "temperature"

              let fractions =
                  p["formulation"].AsArray()
                  |> Seq.map (fun c -> c["fraction"].GetValue<float>())
                  |> List.ofSeq

              Expect.equal fractions.Length 2 "LiPF6 and EC"
              Expect.floatClose Accuracy.medium (List.sum fractions) 1.0 "fractions sum to 1"

          test "bad MD options are refused naming the option and the value" {
              let problem (o: DemoMdOptions) = o.Problem()
              Expect.isNull (problem DemoMdOptions.Default) "the default is accepted"

              Expect.stringContains
                  (problem (DemoMdOptions(0.001, 3, "lmp", false)))
                  "--md-ns must be 0.02..100"
                  "too short"

              Expect.stringContains
                  (problem (DemoMdOptions(0.02, 21, "lmp", false)))
                  "--md-points must be 0..20, got 21"
                  "too many"

              Expect.stringContains (problem (DemoMdOptions(0.02, 3, " ", false))) "--lammps is empty" "no command"
          }

          test "a --md-share outside (0, 1] is refused naming the value; the default is one point in three" {
              Expect.floatClose Accuracy.high DemoMdOptions.Default.Share (1.0 / 3.0) "default share"

              for bad in [ 0.0; -0.1; 1.5; nan ] do
                  Expect.stringContains
                      (DemoMdOptions(0.02, 3, "lmp", false, Share = bad).Problem())
                      "--md-share must lie in (0, 1]"
                      (sprintf "share %g" bad)

              Expect.isNull (DemoMdOptions(0.02, 3, "lmp", false, Share = 1.0).Problem()) "share 1 is accepted"
          }

          test
              "the electrolyte preset requests MD conductivity for its share of the points, or drops that level without MD" {
              let e = DemoPreset.Electrolyte
              Expect.isTrue e.UsesMd "its conductivity level reads MD results"
              let withMd = e.ForRun(true, 0.25, "unused")

              Expect.sequenceEqual
                  (withMd.Requests |> Seq.map (fun r -> r.Quantity, r.Method, r.Share))
                  [ "conductivity", "molecular_dynamics", 0.25
                    "density", "vibrating_tube_densimetry", 1.0 ]
                  "MD for a quarter of the points, densimetry for every point"

              Expect.equal withMd.Objectives e.Objectives "the same hierarchy"
              let without = e.ForRun(false, 0.25, "no MD here")

              Expect.sequenceEqual
                  (without.Objectives |> Seq.map (fun o -> o.Name))
                  [ "viscosity"; "density" ]
                  "the conductivity level is dropped"

              Expect.stringContains without.Description "(without its conductivity level: no MD here)" "and said so"
              Expect.isFalse without.UsesMd "no MD request"
              Expect.equal (DemoPreset.Paper.ForRun(false, 0.25, "x")) DemoPreset.Paper "the paper preset needs no MD"

              let config = withMd.OptimizerRequests()
              let share = config[0].["Share"].GetValue<float>()
              Expect.equal share 0.25 "the optimizer tenant's Requests carry the share"
          }

          test "LAMMPS is found on PATH or by path, and a missing binary is not" {
              Expect.isNull (DemoMd.FindLammps "/nonexistent/lmp") "a missing path"
              Expect.isNull (DemoMd.FindLammps "finales-no-such-lammps") "a name not on PATH"
              let here = typeof<DemoMdOptions>.Assembly.Location
              Expect.equal (DemoMd.FindLammps here) here "an existing path is taken as it is"
          } ]

/// The MD requests a requester (tenant name) posted in a store: (status, number of results, number of results the MD
/// tenant posted) of each conductivity/molecular_dynamics request.
let private mdRequestsOf (requester: string) (store: string) =
    query
        store
        (sprintf
            "SELECT s.status, (SELECT COUNT(*) FROM results x WHERE x.request_uuid = s.uuid), (SELECT COUNT(*) FROM results x JOIN tenants m ON m.uuid = x.tenant_uuid WHERE x.request_uuid = s.uuid AND m.name = 'md-primitive') FROM request_state s JOIN requests r ON r.uuid = s.uuid JOIN tenants t ON t.uuid = s.requester WHERE r.quantity = 'conductivity' AND r.methods LIKE '%%molecular_dynamics%%' AND t.name = '%s'"
            requester)
        (fun x -> x.GetString 0, x.GetInt64 1, x.GetInt64 2)

/// The demo's own MD series (posted as reference-series): (status, number of results) of each request.
let private mdRequests (store: string) =
    mdRequestsOf "reference-series" store
    |> List.map (fun (status, results, _) -> status, results)

/// Every conductivity/molecular_dynamics request in a store, whoever posted it.
let private allMdRequests (store: string) =
    query
        store
        "SELECT COUNT(*) FROM requests r WHERE r.quantity = 'conductivity' AND r.methods LIKE '%molecular_dynamics%'"
        (fun x -> x.GetInt64 0)
    |> List.head

/// The MD requests behind Figures 7 and 8 (how the report reads their results: tests/Finales.Plotting.Tests/CampaignDataTests.fs).
let private figures =
    testList
        "MD figures"
        [ testPropertyWithConfig config "an RDF request is radial_density_function/molacular_dynamics of the same mix"
          <| fun (n: byte) ->
              let x = 0.03 + 0.12 * float n / 255.0
              let rdf = DemoMd.RdfRequest(x, Guid.Empty)
              let cond = DemoMd.ConductivityRequest(x, Guid.Empty)
              Expect.equal (rdf["quantity"].GetValue<string>()) "radial_density_function" "quantity"
              Expect.equal (rdf["methods"].[0].GetValue<string>()) "molacular_dynamics" "the corpus' spelling"

              Expect.equal
                  (rdf["parameters"].["molacular_dynamics"].ToJsonString())
                  (cond["parameters"].["molecular_dynamics"].ToJsonString())
                  "the conductivity request's formulation and temperature" ]

/// (status, number of results) of each radial_density_function request in a store.
let private rdfRequests (store: string) =
    query
        store
        "SELECT s.status, (SELECT COUNT(*) FROM results x WHERE x.request_uuid = s.uuid) FROM request_state s JOIN requests r ON r.uuid = s.uuid WHERE r.quantity = 'radial_density_function'"
        (fun x -> x.GetString 0, x.GetInt64 1)

let private lammpsInstalled = lazy (DemoMd.FindLammps "lmp" |> isNull |> not)

let private withMd =
    test "the MD tenant answers the demo's MD series: every request resolved with one result, audit clean" {
        if not lammpsInstalled.Value then
            skiptest "lmp is not installed"

        let r = plain.Value
        Expect.equal r.Code 0 (sprintf "exit code; output:\n%s" r.Output)
        Expect.isTrue ((r.Report["audit"]["ok"]).GetValue<bool>()) "audit"
        let rows = mdRequests r.Store
        Expect.equal rows.Length 3 (sprintf "the default series has 3 MD requests; output:\n%s" r.Output)

        for status, results in rows do
            Expect.equal status "resolved" "an MD request is resolved"
            Expect.equal results 1L "with exactly one result"

        let counted =
            r.Report.["counts"].["by_capability"].["conductivity/molecular_dynamics"].["requests"]

        Expect.equal
            (counted.GetValue<int64>())
            (allMdRequests r.Store)
            "the report counts them (the series and the optimizer's)"

        Expect.stringContains r.Output "md (primitive model, local executor" "the MD tenant is started"

        let rdfs = rdfRequests r.Store
        Expect.equal rdfs.Length 3 "one RDF request per composition"
        Expect.isTrue (rdfs |> List.forall (fun (status, n) -> status = "resolved" && n = 1L)) "each resolved once"

        let points = r.Report["md_conductivity"].["points"].AsArray()
        let skipped = r.Report["md_conductivity"].["skipped"].GetValue<int>()

        Expect.equal
            (int64 (points.Count + skipped))
            (allMdRequests r.Store)
            "Figure 7 draws every MD conductivity result (the series' and the optimizer's) or counts it as left out"

        Expect.isGreaterThanOrEqual points.Count 3 "Figure 7 has at least the series' three MD conductivities"

        // The error bar is the tenant's Einstein-Helfand standard error as stored; a run too short to estimate one
        // (the default 20 ps gives 11 frames) stores null, and the point has no error bar.
        for p in points do
            let request = p["request"].GetValue<string>()

            let stored =
                query r.Store (sprintf "SELECT body FROM results WHERE request_uuid = '%s'" request) (fun x ->
                    JsonNode.Parse(x.GetString 0))
                |> List.exactlyOne

            let err =
                stored["data"].["run_info"].["analysis"].["conductivity_einstein_helfand_err_s_per_m"]

            if isNull err then
                Expect.isNull p["error"] "no stored error, no error bar"
            else
                Expect.floatClose
                    Accuracy.high
                    (p["error"].GetValue<float>())
                    (abs (err.GetValue<float>()))
                    "the stored error"

            Expect.floatClose
                Accuracy.high
                (p["value"].GetValue<float>())
                (stored["data"].["conductivity"].["values"].[0].GetValue<float>())
                "the stored conductivity"

        let curves = r.Report["md_rdf"].["curves"].AsArray()
        Expect.equal curves.Count 3 "Figure 8 has one Li RDF per composition"

        for c in curves do
            Expect.isTrue (c["pair"].GetValue<string>().StartsWith "Li-") "a Li pair"
            Expect.isGreaterThan (c["g"].AsArray().Count) 10 "a curve, not a point"

        Expect.stringContains r.Html "molecular_dynamics (MD)" "Figure 7 draws the MD trace"
        Expect.stringContains r.Html "(Fig. 8)" "Figure 8 is drawn"
        Expect.isFalse (r.Html.Contains "no MD results") "and not said to be missing"
    }

let private noLammps = lazy (runDemoWith "nolammps" "--lammps /nonexistent/lmp")

let private withoutLammps =
    test "without LAMMPS: one line says so, no MD request is posted, the audit passes" {
        let r = noLammps.Value
        Expect.equal r.Code 0 (sprintf "exit code; output:\n%s" r.Output)
        Expect.isTrue ((r.Report["audit"]["ok"]).GetValue<bool>()) "audit"

        let lines = r.Output.Split('\n') |> Array.filter (fun l -> l.Contains "LAMMPS")

        Expect.equal lines.Length 1 (sprintf "exactly one line about LAMMPS: %A" lines)
        Expect.stringContains lines[0] "/nonexistent/lmp) is not installed" "it names the command"
        Expect.isEmpty (mdRequests r.Store) "no MD request"
        Expect.isEmpty (rdfRequests r.Store) "no RDF request"
        Expect.equal (r.Report["md_conductivity"].["points"].AsArray().Count) 0 "no MD point"
        Expect.equal (r.Report["md_rdf"].["curves"].AsArray().Count) 0 "no RDF curve"
        Expect.stringContains r.Html "Li RDFs per composition (Fig. 8): no MD results." "Figure 8 says so"
        Expect.stringContains r.Html "No MD results." "Figure 7 says so"
        Expect.equal (r.Html.Split("<div class=\"finales-chart\"").Length - 1) 4 "no empty plot for Figure 8"
    }

let private optimizerMd =
    test "the optimizer requests MD conductivity for a third of its points; the MD tenant resolves each, audit clean" {
        if not lammpsInstalled.Value then
            skiptest "lmp is not installed"

        let r = plain.Value

        Expect.equal
            r.Code
            0
            (sprintf
                "exit code; output:
%s"
                r.Output)

        Expect.isTrue ((r.Report["audit"]["ok"]).GetValue<bool>()) "audit"
        let md = mdRequestsOf "optimizer" r.Store

        let points =
            query
                r.Store
                "SELECT COUNT(*) FROM request_state s JOIN requests r ON r.uuid = s.uuid JOIN tenants t ON t.uuid = s.requester WHERE t.name = 'optimizer' AND r.quantity = 'density'"
                (fun x -> int (x.GetInt64 0))
            |> List.head

        Expect.isGreaterThanOrEqual points 3 "the optimizer posted a point per iteration"

        Expect.isTrue
            (md.Length = points / 3 || md.Length = (points + 2) / 3)
            (sprintf "%d MD requests for %d points: a third, rounded either way" md.Length points)

        Expect.isNonEmpty md "at least one of the optimizer's points went to the MD tenant"

        for status, results, byMd in md do
            Expect.equal status "resolved" "an optimizer MD request is resolved"
            Expect.equal results 1L "with exactly one result"
            Expect.equal byMd 1L "posted by the MD tenant"

        Expect.stringContains
            (r.Report["goal"].GetValue<string>())
            "conductivity simulated by the MD tenant (primitive model) at a share 0.333 of the points"
            "the report's goal states the share"

        let objectives =
            r.Report["objectives"].AsArray()
            |> Seq.map (fun o -> o["quantity"].GetValue<string>() + "/" + o["method"].GetValue<string>())
            |> List.ofSeq

        Expect.contains
            objectives
            "conductivity/molecular_dynamics"
            "the conductivity level reads the MD tenant's results"

        let standIn =
            query r.Store "SELECT COUNT(*) FROM tenants WHERE name = 'conductivity-cell-standin'" (fun x ->
                x.GetInt64 0)
            |> List.head

        Expect.equal standIn 0L "the stand-in cell is not part of the demo"

        let twoElectrode =
            query r.Store "SELECT COUNT(*) FROM requests WHERE methods LIKE '%two_electrode%'" (fun x -> x.GetInt64 0)
            |> List.head

        Expect.equal twoElectrode 0L "nothing asks for two-electrode conductivity"
    }

let private withoutLammpsGoal =
    test "without LAMMPS: the electrolyte preset runs without its conductivity level, and the report says so" {
        let r = noLammps.Value

        Expect.equal
            r.Code
            0
            (sprintf
                "exit code; output:
%s"
                r.Output)

        Expect.stringContains
            (r.Report["goal"].GetValue<string>())
            "without its conductivity level: no MD tenant, /nonexistent/lmp not found"
            "the report's goal states what the run does instead"

        let names =
            r.Report["objectives"].AsArray()
            |> Seq.map (fun o -> o["name"].GetValue<string>())
            |> List.ofSeq

        Expect.equal names [ "viscosity"; "density" ] "viscosity, then density"

        Expect.stringContains
            r.Output
            "the demo runs without the MD tenant and the electrolyte preset without its MD conductivity level"
            "the one line says what the run does instead"

        let conductivity =
            query
                r.Store
                "SELECT COUNT(*) FROM request_state s JOIN tenants t ON t.uuid = s.requester WHERE t.name = 'optimizer' AND s.quantity = 'conductivity'"
                (fun x -> x.GetInt64 0)
            |> List.head

        Expect.equal conductivity 0L "the optimizer asks for no conductivity"
    }

/// Run inside the demo suite's sequenced list, so the demo runs never overlap.
let tests =
    testList "md" [ series; figures; withMd; optimizerMd; withoutLammps; withoutLammpsGoal ]
