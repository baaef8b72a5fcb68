module Finales.Hpc.Tests.Main

open Expecto

[<EntryPoint>]
let main argv =
    runTestsWithCLIArgs
        [ CLIArguments.Parallel_Workers 4 ]
        argv
        (testList
            "hpc"
            [ LocalExecutorTests.tests
              SlurmTextTests.tests
              SlurmExecutorTests.tests
              JobPolicyTests.tests
              JobJournalTests.tests
              HpcOptionsTests.tests
              SupervisorLocalTests.tests
              SupervisorSlurmTests.tests ])
