namespace Finales.Core.Interop

open System
open System.Collections.Generic
open System.Runtime.InteropServices
open Finales.Core
open Finales.Core.Units

/// A stock pump for C#: the stock, the pump node and its syringe (nominal volume, flow window, capacity).
[<CLIMutable>]
type DosingPumpSpec =
    { Stock: string
      Pump: string
      SyringeNominalMilliliters: float
      MinFlowMillilitersPerSecond: float
      MaxFlowMillilitersPerSecond: float
      CapacityMilliliters: float }

/// The request-independent volumes and flows of one sample, for C#.
[<CLIMutable>]
type DosingSettingsSpec =
    { MinDoseMilliliters: float
      TotalFlowMillilitersPerSecond: float
      FlushMilliliters: float
      SampleMilliliters: float
      FillMarginMilliliters: float }

/// One stock's part of a sample, for C#.
type DoseSpec =
    { Stock: string
      Pump: string
      VolumeFraction: float
      FlowMillilitersPerSecond: float
      FlushMilliliters: float
      SampleMilliliters: float
      PrimeMilliliters: float }

/// The dosing plan, for C# (dictionaries keep the plan's order).
type DosingPlanSpec =
    { VolumeFractions: IReadOnlyDictionary<string, float>
      Achieved: IReadOnlyDictionary<string, float>
      Deviation: float
      MixRating: int
      TotalFlowMillilitersPerSecond: float
      Doses: IReadOnlyList<DoseSpec> }

/// The C# facade of `Dosing`: Try pattern (false and a message naming the stock, pump and
/// numbers; the plan is then empty, never null).
[<AbstractClass; Sealed>]
type DosingApi =
    static member private Pairs(d: IEnumerable<KeyValuePair<string, float>>) : (string * float)[] =
        if obj.ReferenceEquals(d, null) then
            [||]
        else
            d |> Seq.map (fun kv -> kv.Key, kv.Value) |> Array.ofSeq

    static member private Ordered(pairs: (string * float)[]) : IReadOnlyDictionary<string, float> =
        let d = Dictionary<string, float>(StringComparer.Ordinal)

        for k, v in pairs do
            d[k] <- v

        d

    /// An empty plan (the out value of a failed TryPlan).
    static member Empty: DosingPlanSpec =
        { VolumeFractions = Dictionary<string, float>()
          Achieved = Dictionary<string, float>()
          Deviation = nan
          MixRating = 0
          TotalFlowMillilitersPerSecond = 0.0
          Doses = Array.empty }

    /// The doses, flows and achieved composition of a sample (see `Dosing.plan`). `prime` gives
    /// the prime volume (mL) of (stock, pump); it is called for the used stocks only and may throw.
    static member TryPlan
        (
            settings: DosingSettingsSpec,
            pumps: IReadOnlyList<DosingPumpSpec>,
            molesPerMl: IReadOnlyDictionary<string, IReadOnlyDictionary<string, float>>,
            prime: Func<string, string, float>,
            requested: IEnumerable<KeyValuePair<string, float>>,
            volumeFractions: IEnumerable<KeyValuePair<string, float>>,
            [<Out>] plan: byref<DosingPlanSpec>,
            [<Out>] error: byref<string>
        ) : bool =
        if obj.ReferenceEquals(pumps, null) then
            nullArg (nameof pumps)

        if obj.ReferenceEquals(molesPerMl, null) then
            nullArg (nameof molesPerMl)

        if obj.ReferenceEquals(prime, null) then
            nullArg (nameof prime)

        let s: DosingSettings =
            { MinDose = settings.MinDoseMilliliters * 1.0<mL>
              TotalFlow = settings.TotalFlowMillilitersPerSecond * 1.0<mL / s>
              Flush = settings.FlushMilliliters * 1.0<mL>
              Sample = settings.SampleMilliliters * 1.0<mL>
              FillMargin = settings.FillMarginMilliliters * 1.0<mL> }

        let pumps =
            pumps
            |> Seq.map (fun p ->
                { DosingPump.Stock = p.Stock
                  Pump = p.Pump
                  SyringeNominal = p.SyringeNominalMilliliters * 1.0<mL>
                  MinFlow = p.MinFlowMillilitersPerSecond * 1.0<mL / s>
                  MaxFlow = p.MaxFlowMillilitersPerSecond * 1.0<mL / s>
                  Capacity = p.CapacityMilliliters * 1.0<mL> })
            |> List.ofSeq

        let moles =
            molesPerMl
            |> Seq.map (fun kv -> kv.Key, (DosingApi.Pairs kv.Value |> Array.map (fun (c, n) -> c, n * 1.0<mol / mL>)))
            |> Map.ofSeq

        let primeOf stock pump = prime.Invoke(stock, pump) * 1.0<mL>

        match Dosing.plan s pumps moles primeOf (DosingApi.Pairs requested) (DosingApi.Pairs volumeFractions) with
        | Ok p ->
            plan <-
                { VolumeFractions = DosingApi.Ordered p.VolumeFractions
                  Achieved = DosingApi.Ordered p.Achieved
                  Deviation = p.Deviation
                  MixRating = p.MixRating
                  TotalFlowMillilitersPerSecond = float p.TotalFlow
                  Doses =
                    p.Doses
                    |> Array.map (fun d ->
                        { DoseSpec.Stock = d.Stock
                          Pump = d.Pump
                          VolumeFraction = d.VolumeFraction
                          FlowMillilitersPerSecond = float d.Flow
                          FlushMilliliters = float d.Flush
                          SampleMilliliters = float d.Sample
                          PrimeMilliliters = float d.Prime }) }

            error <- ""
            true
        | Error e ->
            plan <- DosingApi.Empty
            error <- DosingError.message e
            false

    /// floor((1 - |requested - achieved| / |requested|) * 5), 0 when the relative error is >= 1.
    static member MixRating
        (requested: IReadOnlyDictionary<string, float>, achieved: IReadOnlyDictionary<string, float>)
        : int =
        Dosing.mixRating (DosingApi.Pairs requested) (DosingApi.Pairs achieved)

    /// Euclidean distance over the union of chemicals.
    static member Distance(a: IReadOnlyDictionary<string, float>, b: IReadOnlyDictionary<string, float>) : float =
        Dosing.distance (DosingApi.Pairs a) (DosingApi.Pairs b)
