/// Shared helpers: expecting typed exceptions from tasks, temp directories, polling with a deadline.
module Finales.Devices.Tests.TestHelpers

open System
open System.IO
open System.Threading.Tasks
open Expecto

/// Runs a task-returning action and returns the exception of type 'E it throws; fails the test otherwise.
let throwsAsync<'E when 'E :> exn> (message: string) (action: unit -> Task) : Task<'E> =
    task {
        let! outcome =
            task {
                try
                    do! action ()
                    return Error "nothing was thrown"
                with
                | :? 'E as e -> return Ok e
                | :? AggregateException as ae when (ae.InnerException :? 'E) -> return Ok(ae.InnerException :?> 'E)
                | e -> return Error(sprintf "%s was thrown: %s" (e.GetType().Name) e.Message)
            }

        match outcome with
        | Ok e -> return e
        | Error what -> return failtestf "%s: expected %s, but %s" message typeof<'E>.Name what
    }

/// Same as throwsAsync for a synchronous action.
let throws<'E when 'E :> exn> (message: string) (action: unit -> unit) : 'E =
    let outcome =
        try
            action ()
            Error "nothing was thrown"
        with
        | :? 'E as e -> Ok e
        | e -> Error(sprintf "%s was thrown: %s" (e.GetType().Name) e.Message)

    match outcome with
    | Ok e -> e
    | Error what -> failtestf "%s: expected %s, but %s" message typeof<'E>.Name what

/// A fresh temporary directory, deleted on dispose.
type TempDir() =
    let path =
        Path.Combine(Path.GetTempPath(), "finales-devices-" + Guid.NewGuid().ToString("N"))

    do Directory.CreateDirectory path |> ignore
    member _.Path = path

    member _.Sub(name: string) =
        let p = Path.Combine(path, name)
        Directory.CreateDirectory p |> ignore
        p

    interface IDisposable with
        member _.Dispose() =
            try
                Directory.Delete(path, true)
            with _ ->
                ()

/// Polls a condition every 5 ms until it holds or the wall-clock timeout passes.
let waitUntil (timeout: TimeSpan) (condition: unit -> bool) : Task<bool> =
    task {
        let deadline = DateTime.UtcNow + timeout
        let mutable ok = condition ()

        while not ok && DateTime.UtcNow < deadline do
            do! Task.Delay 5
            ok <- condition ()

        return ok
    }

let contains (text: string) (part: string) (message: string) =
    Expect.stringContains text part (sprintf "%s (message was: %s)" message text)
