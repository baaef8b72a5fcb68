module Finales.Demo.Tests.Main

open System.IO
open Expecto

[<EntryPoint>]
let main argv =
    if not (File.Exists DemoRun.cliDll) then
        eprintfn "build the CLI first: %s is missing" DemoRun.cliDll
        2
    else
        let code =
            runTestsWithCLIArgs
                [ CLIArguments.Parallel_Workers 2 ]
                argv
                (TestList([ DemoTests.tests; CliTests.tests; BenchBrokerTests.tests ], Normal))

        // The copied CLI (44 MB) is only needed while the tests run (the runs' own folders go at exit, Harness.tempDir).
        if DemoCopiedCliTests.copiedCli.IsValueCreated then
            Directory.Delete(Path.GetDirectoryName DemoCopiedCliTests.copiedCli.Value, true)

        code
