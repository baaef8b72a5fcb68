module Finales.Devices.Tests.FluidicsTests

open System
open System.Collections.Generic
open System.Threading
open System.Threading.Tasks
open Expecto
open Finales.Devices
open Finales.Devices.Balance
open Finales.Devices.Fluidics
open Finales.Devices.Tests.TestHelpers

let route (nodes: string list) (deadVolumes: float list) (valves: (string * int) list) =
    FluidRoute.Of(List.toArray nodes, List.toArray deadVolumes, valves |> List.map ValveSetting |> List.toArray)

let fillA =
    route [ "Reservoir1"; "V1.1"; "V1.0"; "A0.0" ] [ 0.3; 0.0; 0.2 ] [ "V1", 1 ]

let toVial =
    route [ "A0.0"; "V1.0"; "V1.5"; "vial_1" ] [ 0.2; 0.0; 0.4 ] [ "V1", 5 ]

let toWaste =
    route [ "A0.0"; "V1.0"; "V1.9"; "waste_1" ] [ 0.2; 0.0; 0.1 ] [ "V1", 9 ]

/// Two reservoirs (EC 20 mL, DMC 20 mL), waste, a vial, the measuring cell, pumps A and B with 10 mL syringes, valves V1 and V2.
let rig (timeScale: float) =
    let f = SimulatedFluidics(SimulatedFluidicsOptions(Clock = DeviceClock(timeScale)))
    f.DefineLiquid("EC", 1.321)
    f.DefineLiquid("DMC", 1.063)
    f.AddReservoir("Reservoir1", "EC", 20.0)
    f.AddReservoir("Reservoir2", "DMC", 20.0)
    f.AddVessel "waste_1"
    f.AddVessel "vial_1"
    f.AddVessel("densiVisco", 10.0)
    f.AddGasSource "ambient"
    let a = f.AddPump("A0.0", SyringeSize.Ml10)
    let b = f.AddPump("B0.0", SyringeSize.Ml10)
    f.AddValve "V1" |> ignore
    f.AddValve "V2" |> ignore
    f, a, b

let total (liquid: string) (contents: IReadOnlyDictionary<string, float>) =
    match contents.TryGetValue liquid with
    | true, v -> v
    | _ -> 0.0

let fillPumpA (f: SimulatedFluidics) (a: SimulatedSyringePump) level =
    task {
        do! f.Valve("V1").SwitchToAsync 1
        f.Connect("A0.0", fillA)
        do! a.SetFillLevelAsync(level, 1.0)
    }

let syringeTests =
    testList
        "syringes"
        [ test "standard syringes hold their nominal volume over the 60 mm stroke" {
              for s, nominal in List.zip (List.ofSeq SyringeSize.Standard) [ 25.0; 10.0; 5.0; 2.5; 1.0 ] do
                  Expect.floatClose
                      { absolute = 0.0; relative = 2e-3 }
                      s.CapacityMl
                      nominal
                      (sprintf "%s capacity" s.Name)
          }
          test "the 10 mL syringe flows 1.74e-4 .. 1.055 mL/s" {
              Expect.floatClose
                  { absolute = 0.0; relative = 3e-3 }
                  SyringeSize.Ml10.MinFlowMlPerS
                  1.74e-4
                  "minimum flow"

              Expect.floatClose { absolute = 0.0; relative = 3e-3 } SyringeSize.Ml10.MaxFlowMlPerS 1.055 "maximum flow"
              Expect.equal (SyringeSize.FromNominalVolume 2.5) SyringeSize.Ml2_5 "2.5 mL finds the 2.5 mL syringe"

              throws<ArgumentOutOfRangeException> "3 mL" (fun () -> SyringeSize.FromNominalVolume 3.0 |> ignore)
              |> ignore
          }
          testCaseTask "flows outside the limits are errors naming the value and the limits"
          <| fun () ->
              task {
                  let f, a, _ = rig 0.001
                  let! e = throwsAsync<FlowOutOfRangeException> "2 mL/s" (fun () -> a.SetFillLevelAsync(5.0, 2.0))
                  contains e.Message "flow 2 mL/s" "names the value"
                  contains e.Message "0.0001737 .. 1.055 mL/s" "names the limits"
                  Expect.floatClose Accuracy.veryHigh e.FlowMlPerS 2.0 "carries the value"
                  let! _ = throwsAsync<FlowOutOfRangeException> "too slow" (fun () -> a.GenerateFlowAsync(-1e-5))
                  let! _ = throwsAsync<FlowOutOfRangeException> "NaN" (fun () -> a.GenerateFlowAsync(nan))
                  let! e = throwsAsync<FillLevelOutOfRangeException> "11 mL" (fun () -> a.SetFillLevelAsync(11.0, 0.5))
                  contains e.Message "fill level 11 mL" "names the level"
                  Expect.equal (f.VolumeMl "Reservoir1") 20.0 "nothing moved"
              } ]

let valveTests =
    testList
        "valves and routes"
        [ testCaseTask "valves switch to positions 1..10 and refuse others"
          <| fun () ->
              task {
                  let f, _, _ = rig 0.001
                  let v = f.Valve "V1"
                  do! v.SwitchToAsync 7
                  let! p = v.GetPositionAsync()
                  Expect.equal p 7 "the valve is at 7"

                  for bad in [ 0; 11; -1 ] do
                      let! e =
                          throwsAsync<ArgumentOutOfRangeException> (sprintf "position %d" bad) (fun () ->
                              v.SwitchToAsync bad)

                      contains
                          e.Message
                          (sprintf "position %d is invalid; positions are 1..10" bad)
                          "names value and range"
              }
          test "routes check their nodes and dead volumes" {
              throws<ArgumentException> "repeated" (fun () -> route [ "A"; "B"; "A" ] [ 0.1; 0.1 ] [] |> ignore)
              |> ignore

              let e =
                  throws<ArgumentException> "negative" (fun () -> route [ "A"; "B" ] [ -0.1 ] [] |> ignore)

              contains e.Message "-0.1" "names the dead volume"
              Expect.floatClose Accuracy.veryHigh fillA.DeadVolumeMl 0.5 "dead volume of the fill route"
          }
          test "connecting checks that the route fits the rig" {
              let f, _, _ = rig 0.001
              let e = throws<FluidicsException> "not at pump" (fun () -> f.Connect("B0.0", fillA))
              contains e.Message "B0.0" "names the pump"

              let e =
                  throws<FluidicsException> "unknown valve" (fun () ->
                      f.Connect("A0.0", route [ "Reservoir1"; "V7.0"; "A0.0" ] [ 0.1; 0.1 ] [ "V7", 1 ]))

              contains e.Message "V7" "names the valve"

              let e =
                  throws<FluidicsException> "vessel inside" (fun () ->
                      f.Connect("A0.0", route [ "Reservoir1"; "waste_1"; "A0.0" ] [ 0.1; 0.1 ] []))

              contains e.Message "waste_1" "names the vessel"
          } ]

let ledgerTests =
    testList
        "simulated pumps and liquid ledger"
        [ testCaseTask "filling a syringe draws from the reservoir through the dead volume"
          <| fun () ->
              task {
                  let f, a, _ = rig 0.001
                  do! fillPumpA f a 5.0
                  let! level = a.GetFillLevelAsync()
                  Expect.floatClose Accuracy.high level 5.0 "the syringe is at 5 mL"
                  let syringe = f.Contents "A0.0"

                  Expect.floatClose
                      Accuracy.high
                      (total SimulatedFluidics.Gas syringe)
                      0.5
                      "the gas of the 0.5 mL dead volume came first"

                  Expect.floatClose Accuracy.high (total "EC" syringe) 4.5 "then 4.5 mL of EC"

                  Expect.floatClose
                      Accuracy.high
                      (f.VolumeMl "Reservoir1")
                      15.0
                      "5 mL of EC left the reservoir: 4.5 mL in the syringe, 0.5 mL now fills the lines"

                  Expect.floatClose
                      Accuracy.high
                      (total "EC" (f.LineContents("Reservoir1", "V1.1")))
                      0.3
                      "the first hop is full of EC"
              }
          testCaseTask "a valve in the wrong position stops the pump with an error naming the valve"
          <| fun () ->
              task {
                  let f, a, _ = rig 0.001
                  do! f.Valve("V1").SwitchToAsync 2
                  f.Connect("A0.0", fillA)
                  let! e = throwsAsync<FluidicsException> "wrong valve" (fun () -> a.SetFillLevelAsync(5.0, 1.0))

                  contains
                      e.Message
                      "valve V1 at position 1; it is at position 2"
                      "names valve, needed and actual position"

                  let! level = a.GetFillLevelAsync()
                  Expect.floatClose Accuracy.high level 0.0 "nothing was aspirated"
                  let! pumping = a.IsPumpingAsync()
                  Expect.isFalse pumping "the pump stopped"
              }
          testCaseTask "an empty reservoir stops the pump with an error"
          <| fun () ->
              task {
                  let f = SimulatedFluidics(SimulatedFluidicsOptions(Clock = DeviceClock(0.001)))
                  f.DefineLiquid("EC", 1.321)
                  f.AddReservoir("Reservoir3", "EC", 1.0)
                  let a = f.AddPump("A0.0", SyringeSize.Ml5)
                  f.AddValve "V1" |> ignore
                  f.Connect("A0.0", route [ "Reservoir3"; "V1.1"; "V1.0"; "A0.0" ] [ 0.1; 0.0; 0.1 ] [ "V1", 1 ])
                  let! e = throwsAsync<ReservoirEmptyException> "empty" (fun () -> a.SetFillLevelAsync(4.0, 0.5))
                  Expect.equal e.Vessel "Reservoir3" "names the reservoir"
                  contains e.Message "Reservoir3 is empty" "says it is empty"
                  let! level = a.GetFillLevelAsync()
                  // 0.2 mL of gas from the lines, then 0.8 mL of EC; the last 0.2 mL of EC fills the lines.
                  Expect.isLessThanOrEqual level 1.0 "at most the reservoir's 1 mL was aspirated"
                  Expect.isGreaterThanOrEqual level 0.98 "everything but the last step was aspirated"
                  Expect.isLessThan (f.VolumeMl "Reservoir3") 0.02 "the reservoir is (almost) empty"
              }
          testCaseTask "dispensing into a vial on the simulated balance adds density x volume, read back over SBI"
          <| fun () ->
              task {
                  let f, a, _ = rig 0.001

                  let balance =
                      SimulatedSbiBalance(SimulatedSbiBalanceOptions(Clock = DeviceClock(0.001)))

                  balance.PanLoadGrams <- 10.0 // the empty vial
                  f.PlaceOnBalance("vial_1", fun g -> balance.AddLoad g)
                  do! fillPumpA f a 8.0
                  do! f.Valve("V1").SwitchToAsync 5
                  f.Connect("A0.0", toVial)
                  do! a.SetFillLevelAsync(2.0, 0.5)
                  let inVial = f.Contents "vial_1"

                  Expect.floatClose
                      Accuracy.high
                      (total "EC" inVial + total SimulatedFluidics.Gas inVial)
                      6.0
                      "6 mL left the syringe into the vial"

                  use driver = new SbiBalance(balance.ConnectInMemory())
                  let! reading = driver.ReadAsync()

                  Expect.floatClose
                      { absolute = 1e-4; relative = 0.0 }
                      reading.MassGrams
                      (10.0 + 1.321 * total "EC" inVial)
                      "the balance shows vial + EC mass"

                  let ec =
                      f.VolumeMl "Reservoir1"
                      + total "EC" (f.Contents "A0.0")
                      + total "EC" inVial
                      + ([ "Reservoir1", "V1.1"
                           "V1.1", "V1.0"
                           "V1.0", "A0.0"
                           "V1.0", "V1.5"
                           "V1.5", "vial_1" ]
                         |> List.sumBy (fun (x, y) -> total "EC" (f.LineContents(x, y))))

                  Expect.floatClose Accuracy.high ec 20.0 "EC is conserved over reservoir, syringe, lines and vial"
              }
          testCaseTask "two pumps dispensing at once mix in the shared line to the cell"
          <| fun () ->
              task {
                  let f, a, b = rig 0.001
                  do! fillPumpA f a 6.0
                  do! f.Valve("V2").SwitchToAsync 1
                  f.Connect("B0.0", route [ "Reservoir2"; "V2.1"; "V2.0"; "B0.0" ] [ 0.3; 0.0; 0.2 ] [ "V2", 1 ])
                  do! b.SetFillLevelAsync(6.0, 1.0)
                  do! f.Valve("V1").SwitchToAsync 3
                  do! f.Valve("V2").SwitchToAsync 3

                  f.Connect(
                      "A0.0",
                      route [ "A0.0"; "V1.0"; "V1.3"; "M1.0"; "densiVisco" ] [ 0.2; 0.0; 0.1; 0.5 ] [ "V1", 3 ]
                  )

                  f.Connect(
                      "B0.0",
                      route [ "B0.0"; "V2.0"; "V2.3"; "M1.0"; "densiVisco" ] [ 0.2; 0.0; 0.1; 0.5 ] [ "V2", 3 ]
                  )
                  // 3:1 by flow, both finishing together.
                  do! Task.WhenAll(a.SetFillLevelAsync(3.0, 0.3), b.SetFillLevelAsync(5.0, 0.1))
                  let cell = f.Contents "densiVisco"
                  Expect.floatClose Accuracy.high (cell.Values |> Seq.sum) 4.0 "4 mL (gas included) reached the cell"
                  Expect.isGreaterThan (total "EC" cell) 0.5 "EC reached the cell"
                  Expect.isGreaterThan (total "DMC" cell) 0.1 "DMC reached the cell"
                  let mixerLine = f.LineContents("M1.0", "densiVisco")
                  Expect.floatClose Accuracy.high (mixerLine.Values |> Seq.sum) 0.5 "the shared line stays full"

                  let dmc =
                      f.VolumeMl "Reservoir2"
                      + total "DMC" (f.Contents "B0.0")
                      + total "DMC" cell
                      + ([ "Reservoir2", "V2.1"
                           "V2.1", "V2.0"
                           "V2.0", "B0.0"
                           "V2.0", "V2.3"
                           "V2.3", "M1.0"
                           "M1.0", "densiVisco" ]
                         |> List.sumBy (fun (x, y) -> total "DMC" (f.LineContents(x, y))))

                  Expect.floatClose Accuracy.high dmc 20.0 "DMC is conserved"
              }
          testCaseTask "a continuous flow runs until stopped and reports its actual flow"
          <| fun () ->
              task {
                  let f, a, _ = rig 0.01
                  do! fillPumpA f a 10.0
                  do! f.Valve("V1").SwitchToAsync 9
                  f.Connect("A0.0", toWaste)
                  let sw = Diagnostics.Stopwatch.StartNew()
                  do! a.GenerateFlowAsync 0.5
                  let! pumping = a.IsPumpingAsync()
                  Expect.isTrue pumping "the pump runs"
                  let! flow = a.GetActualFlowAsync()
                  Expect.floatClose Accuracy.veryHigh flow 0.5 "actual flow is the requested one"
                  do! Task.Delay 60
                  do! a.StopAsync()
                  let simulatedSeconds = sw.Elapsed.TotalSeconds / 0.01
                  let! level = a.GetFillLevelAsync()
                  let dispensed = SyringeSize.Ml10.CapacityMl - level

                  Expect.isGreaterThan
                      dispensed
                      1.0
                      "at least 60 ms wall = 6 simulated s at 0.5 mL/s (3 mL) minus slack left the syringe"

                  Expect.isLessThanOrEqual
                      dispensed
                      (min 10.0 (0.5 * simulatedSeconds + 1e-6))
                      "no more than the flow x the elapsed simulated time"

                  let! flow = a.GetActualFlowAsync()
                  Expect.equal flow 0.0 "no flow after stop"
                  let! level2 = a.GetFillLevelAsync()
                  Expect.equal level2 level "the level holds after stop"
                  let waste = f.Contents "waste_1" |> Seq.sumBy (fun kv -> kv.Value)

                  Expect.floatClose
                      Accuracy.high
                      waste
                      (SyringeSize.Ml10.CapacityMl - level)
                      "the full lines pass the dispensed volume on to the waste"
              }
          testCaseTask "a full vessel stops the pump with an overflow error"
          <| fun () ->
              task {
                  let f, a, _ = rig 0.001
                  f.AddVessel("vial_small", 2.0)
                  do! fillPumpA f a 5.0
                  do! f.Valve("V1").SwitchToAsync 6
                  f.Connect("A0.0", route [ "A0.0"; "V1.0"; "V1.6"; "vial_small" ] [ 0.2; 0.0; 0.1 ] [ "V1", 6 ])
                  let! e = throwsAsync<FluidicsException> "overflow" (fun () -> a.SetFillLevelAsync(0.0, 0.5))
                  contains e.Message "vial_small overflows" "names the vessel"

                  Expect.isLessThanOrEqual
                      (f.Contents "vial_small" |> Seq.sumBy (fun kv -> kv.Value))
                      2.0
                      "never above its capacity"

                  let! level = a.GetFillLevelAsync()
                  Expect.floatClose { absolute = 0.02; relative = 0.0 } level 3.0 "the pump stopped after 2 mL"
              }
          testCaseTask "a continuous flow stops by itself when the syringe is empty"
          <| fun () ->
              task {
                  let f, a, _ = rig 0.001
                  do! fillPumpA f a 2.0
                  do! f.Valve("V1").SwitchToAsync 9
                  f.Connect("A0.0", toWaste)
                  do! a.GenerateFlowAsync 1.0
                  let! stopped = waitUntil (TimeSpan.FromSeconds 5.0) (fun () -> not (a.IsPumpingAsync().Result))
                  Expect.isTrue stopped "the pump stops at the end of the stroke"
                  let! level = a.GetFillLevelAsync()
                  Expect.floatClose Accuracy.high level 0.0 "the syringe is empty"
              }
          testCaseTask "cancelling a dose stops the pump where it is"
          <| fun () ->
              task {
                  let f, a, _ = rig 0.001
                  do! f.Valve("V1").SwitchToAsync 1
                  f.Connect("A0.0", fillA)
                  use cts = new CancellationTokenSource()
                  // 10 mL at 0.01 mL/s is 1000 simulated s = 1 s of wall time; cancelled once some liquid has moved.
                  let dose = a.SetFillLevelAsync(10.0, 0.01, cts.Token)

                  let! moved = waitUntil (TimeSpan.FromSeconds 5.0) (fun () -> a.GetFillLevelAsync().Result > 0.3)

                  Expect.isTrue moved "the dose started"
                  cts.Cancel()
                  let! _ = throwsAsync<OperationCanceledException> "cancelled" (fun () -> dose)
                  let! level = a.GetFillLevelAsync()
                  Expect.isGreaterThan level 0.3 "some liquid moved"
                  Expect.isLessThan level 9.0 "the dose did not finish"
                  let! pumping = a.IsPumpingAsync()
                  Expect.isFalse pumping "the pump stopped"
                  do! Task.Delay 30
                  let! later = a.GetFillLevelAsync()
                  Expect.equal later level "the plunger stays put"
              }
          testCaseTask "the time scale compresses every wait"
          <| fun () ->
              task {
                  let f, a, _ = rig 0.001
                  do! f.Valve("V1").SwitchToAsync 1
                  f.Connect("A0.0", fillA)
                  let sw = Diagnostics.Stopwatch.StartNew()
                  // 5 mL at 0.05 mL/s is 100 simulated s = 100 ms of wall time.
                  do! a.SetFillLevelAsync(5.0, 0.05)

                  Expect.isGreaterThanOrEqual
                      sw.Elapsed.TotalMilliseconds
                      90.0
                      "not faster than the compressed duration"

                  Expect.isLessThan sw.Elapsed.TotalMilliseconds 2000.0 "far below 100 real seconds"
              } ]

type FakeQmixPump() =
    member val Calls = List<string>()
    member val Pumping = 2 with get, set

    interface IQmixPumpBinding with
        member this.SetSyringeParam(d, stroke) =
            this.Calls.Add(sprintf "syringe %g %g" d stroke)

        member this.SetFillLevel(level, flow) =
            this.Calls.Add(sprintf "fill %g %g" level flow)

        member this.GenerateFlow flow = this.Calls.Add(sprintf "flow %g" flow)
        member _.GetFillLevel() = 1.5
        member _.GetFlowIs() = 0.25

        member this.IsPumping() =
            this.Pumping <- this.Pumping - 1
            this.Pumping > 0

        member this.StopPumping() = this.Calls.Add "stop"

type FakeQmixValve() =
    let mutable position = 0
    member val Switched = List<int>()

    interface IQmixValveBinding with
        member _.NumberOfValvePositions() = 10

        member this.SwitchValveToPosition p =
            this.Switched.Add p
            position <- p

        member _.ActualValvePosition() = position

let qmixTests =
    testList
        "Qmix drivers over the SDK binding"
        [ testCaseTask "the pump configures the syringe, validates before calling the SDK and waits for dosing"
          <| fun () ->
              task {
                  let sdk = FakeQmixPump()

                  let pump =
                      QmixSyringePump("A0.0", SyringeSize.Ml10, sdk, TimeSpan.FromMilliseconds 1.0)

                  do! pump.SetFillLevelAsync(5.0, -0.5)

                  Expect.sequenceEqual
                      sdk.Calls
                      [ "syringe 14.5673 60"; "fill 5 0.5" ]
                      "syringe parameters, then the dose at |flow|"

                  Expect.equal sdk.Pumping 0 "the driver polled until the pump stopped"
                  let! _ = throwsAsync<FlowOutOfRangeException> "2 mL/s" (fun () -> pump.GenerateFlowAsync 2.0)
                  Expect.equal sdk.Calls.Count 2 "an invalid flow never reaches the SDK"
                  let! level = pump.GetFillLevelAsync()
                  Expect.equal level 1.5 "the fill level comes from the SDK"
              }
          testCaseTask "the valve maps positions 1..10 to the SDK's 0..9"
          <| fun () ->
              task {
                  let sdk = FakeQmixValve()
                  let valve = QmixRotaryValve("V1", sdk)
                  do! valve.SwitchToAsync 3
                  let! p = valve.GetPositionAsync()
                  Expect.sequenceEqual sdk.Switched [ 2 ] "position 3 is SDK index 2"
                  Expect.equal p 3 "and reads back as 3"
                  let! _ = throwsAsync<ArgumentOutOfRangeException> "11" (fun () -> valve.SwitchToAsync 11)
                  Expect.equal sdk.Switched.Count 1 "an invalid position never reaches the SDK"
              } ]

[<Tests>]
let tests = testList "Fluidics" [ syringeTests; valveTests; ledgerTests; qmixTests ]
