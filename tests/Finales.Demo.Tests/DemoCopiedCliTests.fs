/// A copy of the built CLI with no repository beside it runs the demo twice into one folder: each run keeps to its
/// own folder and its audit counts only its own requests.
module Finales.Demo.Tests.DemoCopiedCliTests

open System
open System.Diagnostics
open System.Globalization
open System.IO
open System.Threading
open System.Text.Json.Nodes
open Expecto
open Microsoft.Data.Sqlite
open Finales.Demo.Tests.DemoRun

/// A copy of the built CLI's output folder in a temp dir of its own: no repository and no other data above or
/// beside it, so the demo can only use what the build ships next to finales.dll. Main deletes it after the run.
let copiedCli =
    lazy
        (let source = Path.GetDirectoryName cliDll
         let target = Finales.Integration.Tests.Harness.tempDir "demo-cli-copy"

         for file in Directory.GetFiles(source, "*", SearchOption.AllDirectories) do
             let copy = Path.Combine(target, Path.GetRelativePath(source, file))
             Directory.CreateDirectory(Path.GetDirectoryName copy) |> ignore
             File.Copy(file, copy)

         Path.Combine(target, "finales.dll"))

/// Runs the copied CLI in `cwd` and returns exit code and output.
let private runCopied (cwd: string) (args: string) =
    runDotnet cwd (sprintf "finales %s" args) (sprintf "\"%s\" %s" copiedCli.Value args)

/// The paths a run printed on a line starting with `label` ("report: /x/report.html").
let private printed (label: string) (output: string) =
    output.Split('\n')
    |> Array.filter (fun l -> l.StartsWith(label + ":"))
    |> Array.map (fun l -> l.Substring(label.Length + 1).Trim())
    |> List.ofArray

/// Two small runs, one after the other, into one folder (relative to the working directory, a temp dir), with a
/// copy of the CLI that has no repository beside it.
let private twoRuns =
    lazy
        (let cwd = Finales.Integration.Tests.Harness.tempDir "demo-twice"
         let small = "--iterations 1 --batch 1 --seed 5 --time-scale 0.001 --plain"
         let a = runCopied cwd (sprintf "demo --store runs/a.db %s" small)
         let b = runCopied cwd (sprintf "demo --store runs/b.db %s" small)
         cwd, a, b)

let independence =
    let audit (cwd: string) (name: string) =
        JsonNode.Parse(File.ReadAllText(Path.Combine(cwd, "runs", name, "report", "report.json")))["audit"]

    [ test "a copied CLI runs the demo twice into one folder and both audits are clean" {
          let cwd, (codeA, outA), (codeB, outB) = twoRuns.Value
          Expect.equal codeA 0 (sprintf "first run's exit code; output:\n%s" outA)
          Expect.equal codeB 0 (sprintf "second run's exit code; output:\n%s" outB)

          for name, out in [ "a", outA; "b", outB ] do
              let a = audit cwd name
              Expect.isTrue ((a["ok"]).GetValue<bool>()) (sprintf "audit of run %s: %s" name (a.ToJsonString()))
              Expect.equal ((a["lost"]).GetValue<int>()) 0 (sprintf "run %s lost nothing: %s" name (a.ToJsonString()))
              Expect.stringContains out "audit: ok" (sprintf "run %s prints a passing audit" name)
      }

      test "each run writes into a folder of its own named after its store, and prints only paths it wrote" {
          let cwd, (_, outA), (_, outB) = twoRuns.Value
          let runs = Path.Combine(cwd, "runs")

          Expect.equal
              (Directory.GetDirectories runs |> Array.map Path.GetFileName |> Array.sort)
              [| "a"; "b" |]
              "one run folder per store, nothing shared"

          for name, out in [ "a", outA; "b", outB ] do
              let folder = Path.Combine(runs, name)

              Expect.isTrue
                  (File.Exists(Path.Combine(folder, "logs", "optimizer.log")))
                  (sprintf "run %s has its logs" name)

              Expect.isTrue
                  (File.Exists(Path.Combine(folder, "asab-journal.db")))
                  (sprintf "run %s has its journals" name)

              let paths = [ "store"; "report"; "json" ] |> List.collect (fun l -> printed l out)

              Expect.equal paths.Length 3 (sprintf "store, report and json paths printed:\n%s" out)

              for path in paths do
                  Expect.isTrue (File.Exists path) (sprintf "printed path %s exists" path)

              for path in paths |> List.tail do
                  Expect.isTrue
                      (path.StartsWith(folder + string Path.DirectorySeparatorChar))
                      (sprintf "%s is in run %s's folder" path name)

          // What the second run's audit counts as its campaign is exactly what its own store holds.
          let b = audit cwd "b"

          Expect.equal
              ((b["campaign_posted"]).GetValue<int>())
              (query
                  (Path.Combine(runs, "b.db"))
                  "SELECT COUNT(*) FROM request_state s JOIN tenants t ON t.uuid = s.requester WHERE t.name = 'optimizer'"
                  (fun x -> int (x.GetInt64 0))
               |> List.head)
              "run b's audit counts only run b's requests"
      }

      test "a run on a store whose run folder exists is refused before it writes anything, printing no report path" {
          let cwd, _, _ = twoRuns.Value
          let runs = Path.Combine(cwd, "runs")
          let store = Path.Combine(runs, "a.db")
          let moved = Path.Combine(cwd, "a-moved.db")
          File.Move(store, moved)

          try
              let before =
                  Directory.GetFiles(Path.Combine(runs, "a"), "*", SearchOption.AllDirectories)
                  |> Array.map (fun f -> f, File.GetLastWriteTimeUtc f)

              let code, out =
                  runCopied cwd "demo --store runs/a.db --iterations 1 --batch 1 --plain"

              Expect.equal code 2 (sprintf "refused; output:\n%s" out)
              Expect.stringContains out "run folder" "names the run folder"
              Expect.isEmpty (printed "report" out) "no report path"
              Expect.isFalse (File.Exists store) "no store created"

              Expect.equal
                  (Directory.GetFiles(Path.Combine(runs, "a"), "*", SearchOption.AllDirectories)
                   |> Array.map (fun f -> f, File.GetLastWriteTimeUtc f))
                  before
                  "the earlier run's folder is untouched"
          finally
              File.Move(moved, store)
      } ]
