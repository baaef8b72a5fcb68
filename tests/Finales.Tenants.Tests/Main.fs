module Finales.Tenants.Tests.Main

open System.IO
open Expecto
open Finales.Integration.Tests.Harness

[<EntryPoint>]
let main argv =
    if not (File.Exists cliDll) then
        eprintfn "build the CLI first: %s is missing" cliDll
        2
    else
        runTestsWithCLIArgs
            [ CLIArguments.Parallel_Workers 3 ]
            argv
            (testList
                "tenants"
                [ ConductivityTests.tests
                  ConductivityTests.endToEnd
                  KitTests.tests
                  ProcessTests.tests
                  OptimizerTenantTests.unit
                  OptimizerTenantEndToEndTests.endToEnd
                  OptimizerShareTests.unit
                  OptimizerShareTests.endToEnd
                  MdTenantTests.tests
                  MdAllAtomTests.tests
                  MdSlurmTests.tests ])
