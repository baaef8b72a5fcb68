// Talk to a running broker from F# Interactive:
//   ./finales serve &              (prints the admin password, or set FINALES_ADMIN_PASSWORD)
//   FINALES_URL=http://127.0.0.1:13371 FINALES_USER=admin FINALES_PASSWORD=... dotnet fsi scripts/broker.fsx
#r "../artifacts/bin/Finales.Client/release/Finales.Core.dll"
#r "../artifacts/bin/Finales.Client/release/Finales.Client.dll"

open System
open Finales.Client

let env name fallback =
    match Environment.GetEnvironmentVariable name with
    | null | "" -> fallback
    | v -> v

let client =
    Broker.connect (env "FINALES_URL" "http://127.0.0.1:13371") (env "FINALES_USER" "admin") (env "FINALES_PASSWORD" "admin")

let capabilities = (Broker.capabilities client).Result
printfn "capabilities registered: %d" (capabilities.GetArrayLength())
for c in capabilities.EnumerateArray() do
    printfn "  %s / %s" (c.GetProperty("quantity").GetString()) (c.GetProperty("method").GetString())

let requests = (Broker.allRequests client).Result
printfn "requests: %d" requests.Length
for status, n in requests |> List.countBy (fun r -> r.Status) do
    printfn "  %-12s %d" status n

for r in requests |> List.filter (fun r -> r.Status = "resolved") |> List.truncate 5 do
    match (Broker.resultFor r.Uuid client).Result with
    | Some result -> printfn "  %O %s/%s -> %s" r.Uuid r.Quantity result.Method (result.Data.GetRawText().Substring(0, 80))
    | None -> ()
