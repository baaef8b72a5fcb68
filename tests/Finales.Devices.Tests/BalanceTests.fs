module Finales.Devices.Tests.BalanceTests

open System
open System.Threading
open System.Threading.Tasks
open Expecto
open Finales.Devices
open Finales.Devices.Balance
open Finales.Devices.Tests.TestHelpers

let fast = DeviceClock(0.001)

let simOptions () =
    SimulatedSbiBalanceOptions(Clock = fast)

let driverOptionsWith (timeoutMs: float) =
    SbiBalanceOptions(ResponseTimeout = TimeSpan.FromMilliseconds timeoutMs)

/// The simulator answers within milliseconds; the 5 s timeout only bounds a test on a stalled machine (the silence
/// test, which waits for the timeout, sets its own).
let driverOptions () = driverOptionsWith 5000.0

/// A driver with `options` talking to a simulator through an in-memory pipe.
let inMemoryWith (options: SbiBalanceOptions) (sim: SimulatedSbiBalance) =
    new SbiBalance(sim.ConnectInMemory(), options, endpoint = "in-memory")

/// A driver talking to a simulator through an in-memory pipe.
let inMemory (sim: SimulatedSbiBalance) = inMemoryWith (driverOptions ()) sim

/// A driver talking to a simulator over TCP on 127.0.0.1, with the server to dispose.
let overTcp (sim: SimulatedSbiBalance) =
    task {
        let server = new SimulatedSbiBalanceServer(sim)
        let! balance = SbiBalance.ConnectTcpAsync(server.Host, server.Port, driverOptions ())
        return server, balance
    }

let protocolTests =
    testList
        "SBI line"
        [ test "a net data line has 22 characters and parses back" {
              let line = SbiLine.FormatReading(BalanceValueKind.Net, 12.3456, 4, "g", true)

              Expect.equal
                  line
                  "N     +  12.3456 g  \r\n"
                  "the SBI layout: id, sign, 9 value columns, space, unit, CR LF"

              Expect.equal line.Length SbiLine.LineLength "22 characters including CR LF"
              let r = SbiLine.ParseReading line
              Expect.equal r.Kind BalanceValueKind.Net "id N is a net value"
              Expect.floatClose Accuracy.veryHigh r.MassGrams 12.3456 "value from cols 8-16"
              Expect.isTrue r.IsStable "a printed unit means a stable value"
          }
          test "negative gross values and mg units parse" {
              let r = SbiLine.ParseReading "G     -   1.2000 mg \r\n"
              Expect.equal r.Kind BalanceValueKind.Gross "id G is a gross value"
              Expect.floatClose Accuracy.veryHigh r.MassGrams -0.0012 "-1.2 mg is -0.0012 g"
          }
          test "a line without unit is an unstable value in the default unit" {
              let r = SbiLine.ParseReading("G     +   5.0000    \r\n", "g")
              Expect.isFalse r.IsStable "no unit means the value is still moving"
              Expect.equal r.Unit "g" "the default unit is reported"
          }
          test "formatting then parsing returns the value rounded to the resolution" {
              let rng = Random(7)

              for _ in 1..500 do
                  let v = (rng.NextDouble() - 0.3) * 400.0
                  let decimals = rng.Next(0, 5)

                  let r =
                      SbiLine.ParseReading(SbiLine.FormatReading(BalanceValueKind.Gross, v, decimals, "g", true))

                  Expect.floatClose
                      { absolute = 0.5 * Math.Pow(10.0, float -decimals) + 1e-12
                        relative = 0.0 }
                      r.Value
                      v
                      (sprintf "round trip of %f with %d decimals" v decimals)
          }
          test "special outputs become typed errors" {
              throws<BalanceBusyException> "Stat" (fun () -> SbiLine.ParseReading(SbiLine.FormatStat()) |> ignore)
              |> ignore

              let high =
                  throws<BalanceRangeException> "High" (fun () ->
                      SbiLine.ParseReading(SbiLine.FormatRange true) |> ignore)

              Expect.isTrue high.IsOverload "High is an overload"

              let low =
                  throws<BalanceRangeException> "Low" (fun () ->
                      SbiLine.ParseReading(SbiLine.FormatRange false) |> ignore)

              Expect.isFalse low.IsOverload "Low is an underload"

              let err =
                  throws<BalanceErrorCodeException> "ERR" (fun () ->
                      SbiLine.ParseReading "Stat     ERR 054    \r\n" |> ignore)

              Expect.equal err.Code 54 "the error number is parsed"
              contains err.Message "054" "the message names the code"
          }
          test "malformed lines name the offending field" {
              let cases =
                  [ "G     +  12.3456 g\r\n", "characters"
                    "X     +  12.3456 g  \r\n", "cols 1-6"
                    "G     *  12.3456 g  \r\n", "col 7"
                    "G     +  12.3a56 g  \r\n", "cols 8-16"
                    "G     +  12.3456-g  \r\n", "col 17"
                    "G     +  12.3456 g1 \r\n", "cols 18-20" ]

              for line, field in cases do
                  let e =
                      throws<BalanceProtocolException> (sprintf "line %A" line) (fun () ->
                          SbiLine.ParseReading line |> ignore)

                  contains e.Message field (sprintf "the message for %A names %s" line field)
                  contains e.Message "<CR><LF>" "control characters are shown escaped"
          }
          test "values too wide for nine columns are refused when formatting" {
              throws<ArgumentOutOfRangeException> "10^9 g" (fun () ->
                  SbiLine.FormatReading(BalanceValueKind.Gross, 1e9, 4, "g", true) |> ignore)
              |> ignore
          } ]

let driverTests =
    testList
        "SBI driver against the simulator"
        [ testCaseTask "reads the pan load over an in-memory pipe"
          <| fun () ->
              task {
                  let sim = SimulatedSbiBalance(simOptions ())
                  sim.PanLoadGrams <- 12.34567
                  use balance = inMemory sim
                  let! r = balance.ReadAsync()
                  Expect.floatClose Accuracy.veryHigh r.MassGrams 12.3457 "0.1 mg resolution rounds 12.34567 to 12.3457"
                  Expect.equal r.Kind BalanceValueKind.Gross "no tare: gross"
              }
          testCaseTask "reads over TCP when the balance writes one byte at a time"
          <| fun () ->
              task {
                  let sim =
                      SimulatedSbiBalance(SimulatedSbiBalanceOptions(Clock = fast, WriteChunkSize = 1))

                  sim.PanLoadGrams <- 99.5
                  let! server, balance = overTcp sim
                  use _ = balance

                  use _ =
                      { new IDisposable with
                          member _.Dispose() = server.DisposeAsync().AsTask().Wait() }

                  for i in 1..3 do
                      sim.AddLoad 0.25
                      let! r = balance.ReadAsync()

                      Expect.floatClose
                          Accuracy.veryHigh
                          r.MassGrams
                          (99.5 + 0.25 * float i)
                          (sprintf "read %d after adding 0.25 g" i)

                  let! model = balance.GetModelAsync()
                  Expect.equal model "ENTRIS224I-1S" "ESC x1_ answers the model"
                  let! serial = balance.GetSerialNumberAsync()
                  Expect.equal serial "SIM0000001" "ESC x2_ answers the serial number"
              }
          testCaseTask "tare makes net values and zero clears the tare"
          <| fun () ->
              task {
                  let sim = SimulatedSbiBalance(simOptions ())
                  sim.PanLoadGrams <- 30.0
                  use balance = inMemory sim
                  do! balance.TareAsync()
                  // SBI does not acknowledge ESC T: a print round trip guarantees the balance has tared.
                  let! tared = balance.ReadAsync()
                  Expect.floatClose Accuracy.veryHigh tared.MassGrams 0.0 "right after the tare the net value is 0"
                  sim.AddLoad 1.5
                  let! net = balance.ReadAsync()
                  Expect.equal net.Kind BalanceValueKind.Net "after ESC T values are net"
                  Expect.floatClose Accuracy.veryHigh net.MassGrams 1.5 "net = load - tare"
                  do! balance.ZeroAsync()
                  let! zero = balance.ReadAsync()
                  Expect.equal zero.Kind BalanceValueKind.Gross "ESC V clears the tare"
                  Expect.floatClose Accuracy.veryHigh zero.MassGrams 0.0 "ESC V zeroes the display"
              }
          testCaseTask "filter, beep and restart commands reach the balance"
          <| fun () ->
              task {
                  let sim = SimulatedSbiBalance(simOptions ())
                  use balance = inMemory sim
                  do! balance.SetFilterAsync BalanceFilter.VeryUnstable
                  do! balance.BeepAsync()
                  do! balance.RestartAsync()
                  let! _ = balance.ReadAsync() // round trip: earlier commands are processed
                  Expect.equal sim.Filter BalanceFilter.VeryUnstable "ESC N selects the very unstable filter"
                  Expect.equal sim.Beeps 1 "ESC Q beeps once"
                  Expect.equal sim.Restarts 1 "ESC S restarts once"
              }
          testCaseTask "Stat, ERR, High and Low reach the caller as typed errors over TCP"
          <| fun () ->
              task {
                  let sim =
                      SimulatedSbiBalance(SimulatedSbiBalanceOptions(Clock = fast, WriteChunkSize = 3))

                  let! server, balance = overTcp sim
                  use _ = balance

                  use _ =
                      { new IDisposable with
                          member _.Dispose() = server.DisposeAsync().AsTask().Wait() }

                  sim.InjectFault(SbiFault.Stat())
                  let! _ = throwsAsync<BalanceBusyException> "Stat" (fun () -> balance.ReadAsync())
                  sim.InjectFault(SbiFault.Error 42)
                  let! err = throwsAsync<BalanceErrorCodeException> "ERR 042" (fun () -> balance.ReadAsync())
                  Expect.equal err.Code 42 "the error code travels"
                  sim.PanLoadGrams <- 500.0
                  let! high = throwsAsync<BalanceRangeException> "overload" (fun () -> balance.ReadAsync())
                  Expect.isTrue high.IsOverload "500 g on a 220 g balance prints High"
                  sim.PanLoadGrams <- -10.0
                  let! low = throwsAsync<BalanceRangeException> "underload" (fun () -> balance.ReadAsync())
                  Expect.isFalse low.IsOverload "a pan 10 g below zero prints Low"
                  sim.PanLoadGrams <- 1.0
                  let! ok = balance.ReadAsync()

                  Expect.floatClose
                      Accuracy.veryHigh
                      ok.MassGrams
                      1.0
                      "the connection keeps working after special outputs"
              }
          testCaseTask "a garbage line is a protocol error and the next read recovers"
          <| fun () ->
              task {
                  let sim =
                      SimulatedSbiBalance(SimulatedSbiBalanceOptions(Clock = fast, WriteChunkSize = 1))

                  sim.PanLoadGrams <- 2.0
                  use balance = inMemory sim
                  sim.InjectFault(SbiFault.Garbage "G     +  ##.#### g  \r\n")
                  let! e = throwsAsync<BalanceProtocolException> "garbage" (fun () -> balance.ReadAsync())
                  contains e.Message "cols 8-16" "the message names the value columns"
                  let! r = balance.ReadAsync()
                  Expect.floatClose Accuracy.veryHigh r.MassGrams 2.0 "the next line parses"
              }
          testCaseTask "bytes without a line feed are garbage after 256 bytes"
          <| fun () ->
              task {
                  let sim = SimulatedSbiBalance(simOptions ())
                  use balance = inMemory sim
                  sim.InjectFault(SbiFault.Garbage(String('x', 300)))
                  let! e = throwsAsync<BalanceProtocolException> "no line feed" (fun () -> balance.ReadAsync())
                  contains e.Message "without a line feed" "the message says what is wrong"
              }
          testCaseTask "silence is a timeout naming the command, and the driver recovers"
          <| fun () ->
              task {
                  let sim = SimulatedSbiBalance(simOptions ())
                  sim.PanLoadGrams <- 3.0
                  use balance = inMemoryWith (driverOptionsWith 300.0) sim
                  sim.InjectFault(SbiFault.Silence())
                  let! e = throwsAsync<DeviceTimeoutException> "silence" (fun () -> balance.ReadAsync())
                  contains e.Message "ESC P" "the message names the command"
                  contains e.Message "300 ms" "the message names the timeout"
                  let! r = balance.ReadAsync()
                  Expect.floatClose Accuracy.veryHigh r.MassGrams 3.0 "the next request works"
              }
          testCaseTask "cancellation is not reported as a timeout"
          <| fun () ->
              task {
                  let sim = SimulatedSbiBalance(simOptions ())

                  use balance =
                      new SbiBalance(
                          sim.ConnectInMemory(),
                          SbiBalanceOptions(ResponseTimeout = TimeSpan.FromSeconds 10.0)
                      )

                  sim.InjectFault(SbiFault.Silence())
                  use cts = new CancellationTokenSource(TimeSpan.FromMilliseconds 50.0)

                  let! _ =
                      throwsAsync<OperationCanceledException> "cancelled read" (fun () -> balance.ReadAsync(cts.Token))

                  ()
              }
          testCaseTask "unstable values are retried until stable"
          <| fun () ->
              task {
                  let sim = SimulatedSbiBalance(simOptions ())
                  sim.PanLoadGrams <- 7.0

                  use balance =
                      new SbiBalance(
                          sim.ConnectInMemory(),
                          SbiBalanceOptions(StablePollInterval = TimeSpan.FromMilliseconds 1.0)
                      )

                  sim.InjectFault(SbiFault.Unstable())
                  sim.InjectFault(SbiFault.Unstable())
                  let! r = balance.ReadStableAsync(TimeSpan.FromSeconds 5.0)
                  Expect.isTrue r.IsStable "the third value is stable"
                  Expect.isGreaterThanOrEqual sim.CommandsReceived 3 "two unstable answers were skipped"
              }
          testCaseTask "a closed connection is a device error"
          <| fun () ->
              task {
                  let struct (host, device) = InMemoryDuplexStream.CreatePair()
                  use balance = new SbiBalance(host, driverOptions ())
                  device.Dispose()
                  let! e = throwsAsync<DeviceException> "closed" (fun () -> balance.ReadAsync())
                  contains e.Message "closed" "the message says the connection closed"
              }
          testCaseTask "auto-print streams values that follow the load source"
          <| fun () ->
              task {
                  let mutable load = 10.0

                  let sim =
                      SimulatedSbiBalance(
                          SimulatedSbiBalanceOptions(
                              Clock = DeviceClock(1.0),
                              AutoPrintInterval = Nullable(TimeSpan.FromMilliseconds 10.0),
                              WriteChunkSize = 5
                          )
                      )

                  sim.LoadSource <-
                      Func<double>(fun () ->
                          load <- load + 1.0
                          load)

                  use cts = new CancellationTokenSource(TimeSpan.FromSeconds 10.0)
                  use balance = inMemory sim
                  let values = Collections.Generic.List<float>()
                  let e = balance.StreamAsync(cts.Token).GetAsyncEnumerator(cts.Token)

                  while values.Count < 4 do
                      let! more = e.MoveNextAsync()
                      Expect.isTrue more "the stream continues"
                      values.Add e.Current.MassGrams

                  do! e.DisposeAsync()
                  let diffs = values |> Seq.pairwise |> Seq.map (fun (a, b) -> b - a) |> List.ofSeq

                  for d in diffs do
                      Expect.floatClose
                          Accuracy.veryHigh
                          d
                          1.0
                          (sprintf "each streamed value is 1 g above the previous: %A" values)
              } ]

[<Tests>]
let tests = testList "Balance" [ protocolTests; driverTests ]
