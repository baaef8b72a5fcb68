module Finales.Demo.Tests.Main

open System.IO
open Expecto

[<EntryPoint>]
let main argv =
    if not (File.Exists DemoTests.cliDll) then
        eprintfn "build the CLI first: %s is missing" DemoTests.cliDll
        2
    else
        runTestsWithCLIArgs [ CLIArguments.Parallel_Workers 2 ] argv DemoTests.tests
