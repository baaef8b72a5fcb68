/// The demo runs the suites share: `finales demo` end to end as a real process tree (broker + tenants as child
/// processes) at a small size, with and without chaos, and a read-only look into a run's SQLite store.
module Finales.Demo.Tests.DemoRun

open System
open System.Diagnostics
open System.Globalization
open System.IO
open System.Threading
open System.Text.Json.Nodes
open Expecto
open Microsoft.Data.Sqlite

let repoRoot = Finales.Integration.Tests.Harness.repoRoot
let cliDll = Finales.Integration.Tests.Harness.cliDll

/// One finished demo run: exit code, output, store and report.
type Run =
    { Code: int
      Output: string
      Store: string
      Report: JsonNode
      Html: string }

/// Runs `dotnet <args>` in `cwd` and returns its exit code and its stdout followed by its stderr; fails the test
/// (naming `what`) when it takes more than 3 minutes.
let runDotnet (cwd: string) (what: string) (args: string) : int * string =
    let psi =
        ProcessStartInfo(
            "dotnet",
            args,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = cwd
        )

    use p = Process.Start psi
    let out = p.StandardOutput.ReadToEndAsync()
    let err = p.StandardError.ReadToEndAsync()

    if not (p.WaitForExit(TimeSpan.FromMinutes 3.0)) then
        p.Kill true
        failwithf "%s did not finish within 3 minutes:\n%s" what out.Result

    p.ExitCode, out.Result + err.Result

let private runDemo (name: string) (extra: string) =
    // Deleted when the test process exits, as every Harness.tempDir (FINALES_KEEP_TEST_DIRS=1 keeps them).
    let dir = Finales.Integration.Tests.Harness.tempDir ("demo-test-" + name)

    let store = Path.Combine(dir, "demo.db")

    let args =
        sprintf
            "\"%s\" demo --store \"%s\" --iterations 3 --batch 2 --seed 5 --time-scale 0.001 --plain %s"
            cliDll
            store
            extra

    let code, output =
        runDotnet Environment.CurrentDirectory (sprintf "demo %s" name) args

    // The run folder of demo.db is demo/ beside it; the report goes into it.
    let reportDir = Path.Combine(dir, "demo", "report")

    { Code = code
      Output = output
      Store = store
      Report = JsonNode.Parse(File.ReadAllText(Path.Combine(reportDir, "report.json")))
      Html = File.ReadAllText(Path.Combine(reportDir, "report.html")) }

/// A demo run at the tests' small size with extra options (runs write into folders of their own).
let runDemoWith (name: string) (extra: string) = runDemo name extra

let plain = lazy (runDemo "plain" "")
let chaos = lazy (runDemo "chaos" "--chaos")

let query (store: string) (sql: string) (map: SqliteDataReader -> 'T) =
    use c =
        new SqliteConnection(sprintf "Data Source=%s;Mode=ReadOnly;Pooling=False" store)

    c.Open()
    use cmd = c.CreateCommand()
    cmd.CommandText <- sql
    use r = cmd.ExecuteReader()

    [ while r.Read() do
          yield map r ]
