module Finales.Asab.Tests.Main

open Expecto

[<EntryPoint>]
let main argv =
    runTestsWithCLIArgs
        [ CLIArguments.Parallel_Workers 2 ]
        argv
        (testList "asab" [ WorkerTests.tests; EndToEndTests.tests ])
