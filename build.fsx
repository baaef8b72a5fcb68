// The build pipeline: dotnet fsi build.fsx -t <Target>
// Targets: Clean ==> Restore ==> Format (fantomas --check, dotnet format --verify-no-changes) ==> Build ==> Test,
// plus Bench and Demo.
#r "nuget: Fake.Core.Target, 5.20.3"
#r "nuget: Fake.Core.Process, 5.20.3"
#r "nuget: Fake.IO.FileSystem, 5.20.3"

open System
open Fake.Core
open Fake.IO
open Fake.Core.TargetOperators

// FAKE 5 under `dotnet fsi` needs an execution context (the FAKE runner would create it).
let args = fsi.CommandLineArgs |> Array.skip 1 |> List.ofArray
Context.FakeExecutionContext.Create false "build.fsx" args
|> Context.RuntimeContext.Fake
|> Context.setExecutionContext

let root = __SOURCE_DIRECTORY__

let run (tool: string) (arguments: string) =
    let result =
        CreateProcess.fromRawCommandLine tool arguments
        |> CreateProcess.withWorkingDirectory root
        |> Proc.run
    if result.ExitCode <> 0 then
        failwithf "'%s %s' failed with exit code %d" tool arguments result.ExitCode

/// Test projects are Expecto executables; each one is run from its built assembly.
let testProjects =
    [ "Finales.Core.Tests"; "Finales.Optimizer.Tests"; "Finales.Devices.Tests"; "Finales.Integration.Tests"; "Finales.Tenants.Tests"; "Finales.Asab.Tests"; "Finales.Demo.Tests"; "Finales.Plotting.Tests"; "Finales.Hpc.Tests"; "Finales.Md.Tests"; "Finales.Console.Tests" ]

Target.create "Clean" (fun _ -> Shell.cleanDir (root + "/artifacts"))

Target.create "Restore" (fun _ ->
    run "dotnet" "tool restore"
    run "dotnet" "paket restore")

// Settings of both formatters: .editorconfig. C#: whitespace and the code style rules at warning severity (plus
// analyzer warnings); works offline once Restore has run.
Target.create "Format" (fun _ ->
    run "dotnet" "fantomas --check core tests"
    run "dotnet" "fantomas --check hosts/Finales.OptimizerCli"
    run "dotnet" "fantomas --check hosts/Finales.Plotting.Figures"
    run "dotnet" "format Finales.sln --verify-no-changes --severity warn --verbosity quiet")

Target.create "Build" (fun _ -> run "dotnet" "build Finales.sln -c Release -nologo")

Target.create "Test" (fun _ ->
    // Every project runs even when an earlier one fails, so one red suite does not hide another.
    let failed =
        [ for project in testProjects do
              Trace.log (sprintf "=== %s ===" project)
              let sw = Diagnostics.Stopwatch.StartNew()
              let code =
                  CreateProcess.fromRawCommandLine "dotnet" (sprintf "artifacts/bin/%s/release/%s.dll --summary" project project)
                  |> CreateProcess.withWorkingDirectory root
                  |> Proc.run
                  |> fun r -> r.ExitCode
              Trace.log (sprintf "=== %s: exit code %d after %.0f s ===" project code sw.Elapsed.TotalSeconds)
              if code <> 0 then project ]
    if not failed.IsEmpty then failwithf "test projects failed: %s" (String.Join(", ", failed)))

Target.create "Bench" (fun _ -> run "./finales" "bench broker --self --seconds 10")

Target.create "Demo" (fun _ -> run "./finales" "demo")

"Clean" ==> "Restore" ==> "Format" ==> "Build" ==> "Test" |> ignore
"Build" ==> "Bench" |> ignore
"Build" ==> "Demo" |> ignore

Target.runOrDefaultWithArguments "Test"
