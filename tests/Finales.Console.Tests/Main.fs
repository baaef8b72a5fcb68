module Finales.Console.Tests.Main

open Expecto

[<EntryPoint>]
let main argv =
    let code = Tests.runTestsInAssemblyWithCLIArgs [] argv

    if ConsoleWorld.world.IsValueCreated then
        ConsoleWorld.world.Value.Dispose()

    code
