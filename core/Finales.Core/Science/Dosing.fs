namespace Finales.Core

open System
open System.Globalization
open Finales.Core.Units

/// A stock pump as the dosing plan sees it: the stock it doses, its syringe's flow window and
/// capacity, and the prime volume of its line (mL pushed before the sample).
type DosingPump =
    {
        Stock: string
        Pump: string
        /// The syringe's nominal volume, as configured (for messages).
        SyringeNominal: float<mL>
        MinFlow: float<mL / s>
        MaxFlow: float<mL / s>
        Capacity: float<mL>
    }

/// The volumes and flows of one sample that do not depend on the request.
type DosingSettings =
    {
        /// Doses below this volume are dropped (the dosing resolution).
        MinDose: float<mL>
        /// The wanted total flow through the mixer; moved into every used syringe's window.
        TotalFlow: float<mL / s>
        /// Mixture sent to waste before the cell.
        Flush: float<mL>
        /// Mixture pushed through the mixer to the cell.
        Sample: float<mL>
        /// Kept free in every syringe on top of what the sample needs.
        FillMargin: float<mL>
    }

/// One stock's part of a sample. Invariants: `Flow = VolumeFraction * plan flow`, and flush and
/// sample volumes are the volume fraction of the plan's flush and sample volumes.
type Dose =
    { Stock: string
      Pump: string
      VolumeFraction: float
      Flow: float<mL / s>
      Flush: float<mL>
      Sample: float<mL>
      Prime: float<mL> }

    /// Stock this sample takes from the syringe.
    member d.Needed: float<mL> = d.Flush + d.Sample + d.Prime

/// The dosing decision for a request: volume fractions after dropping doses below the
/// resolution (renormalised to sum 1), the composition they achieve, its distance to the request
/// and rating, the total flow and one dose per used stock (in the solver's stock order).
type DosingPlan =
    { VolumeFractions: (string * float)[]
      Achieved: (string * float)[]
      Deviation: float
      MixRating: int
      TotalFlow: float<mL / s>
      Doses: Dose[] }

/// Why a request cannot be dosed.
type DosingError =
    /// Every volume fraction times the sample volume is below the dosing resolution.
    | AllBelowResolution
    /// A used stock has no pump.
    | NoPump of stock: string
    /// No total flow keeps every used pump within its syringe's flow window.
    | NoFlowWindow of stock: string * volumeFraction: float * pump: string * low: float<mL / s> * high: float<mL / s>
    /// A stock needs more than its syringe holds.
    | SyringeTooSmall of stock: string * needed: float<mL> * pump: string * syringe: float<mL>

[<RequireQualifiedAccess>]
module DosingError =
    let private g4 (v: float) =
        v.ToString("G4", CultureInfo.InvariantCulture)

    /// The message, naming the stock, the pump and the numbers.
    let message (e: DosingError) : string =
        match e with
        | AllBelowResolution -> "every dose is below the dosing resolution"
        | NoPump stock -> sprintf "stock '%s' has no pump" stock
        | NoFlowWindow(stock, x, pump, lo, hi) ->
            sprintf
                "no total flow keeps every pump within its syringe's limits: stock '%s' (volume fraction %s, pump %s) needs a total flow >= %s mL/s, but another pump's maximum allows <= %s mL/s"
                stock
                (g4 x)
                pump
                (g4 (float lo))
                (g4 (float hi))
        | SyringeTooSmall(stock, needed, pump, syringe) ->
            sprintf
                "stock '%s' needs %s mL in pump %s, more than its %s mL syringe holds"
                stock
                (g4 (float needed))
                pump
                ((float syringe).ToString(CultureInfo.InvariantCulture))

/// Dosing and flows of one sample from the stocks (pure): doses below the resolution dropped and
/// the rest renormalised, the achieved composition recomputed from the doses, the total flow
/// moved into every used syringe's window, and each syringe's volume checked.
[<RequireQualifiedAccess>]
module Dosing =

    /// Euclidean distance over the union of chemicals (a's chemicals first, then b's others).
    let distance (a: (string * float) seq) (b: (string * float) seq) : float =
        let a = Array.ofSeq a
        let b = Array.ofSeq b

        let value (xs: (string * float)[]) k =
            xs
            |> Array.tryFind (fun (c, _) -> c = k)
            |> Option.map snd
            |> Option.defaultValue 0.0

        let keys = Array.append (Array.map fst a) (Array.map fst b) |> Array.distinct

        keys |> Array.sumBy (fun k -> Math.Pow(value a k - value b k, 2.0)) |> Math.Sqrt

    /// floor((1 - |requested - achieved| / |requested|) * 5), 0 when the relative error is >= 1
    /// or nothing was requested.
    let mixRating (requested: (string * float) seq) (achieved: (string * float) seq) : int =
        let requested = Array.ofSeq requested
        let norm = requested |> Array.sumBy (fun (_, v) -> v * v) |> Math.Sqrt

        if norm <= 0.0 then
            0
        else
            let error = distance requested achieved / norm

            if error >= 1.0 then
                0
            else
                int (Math.Floor((1.0 - error) * 5.0 + 1e-9))

    /// Mole fractions of a mixture given as volumes per stock (stocks without moles per mL are
    /// ignored; chemicals in the order met). Empty when there is no liquid.
    let moleFractions
        (volumes: (string * float<mL>) seq)
        (molesPerMl: Map<string, (string * float<mol / mL>)[]>)
        : (string * float)[] =
        let moles = Collections.Generic.Dictionary<string, float<mol>>()
        let order = ResizeArray<string>()

        for stock, volume in volumes do
            match Map.tryFind stock molesPerMl with
            | Some c when volume > 0.0<mL> ->
                for chem, n in c do
                    match moles.TryGetValue chem with
                    | true, m -> moles[chem] <- m + n * volume
                    | _ ->
                        order.Add chem
                        moles[chem] <- n * volume
            | _ -> ()

        let total = order |> Seq.sumBy (fun c -> moles[c])

        if total > 0.0<mol> then
            order |> Seq.map (fun c -> c, moles[c] / total) |> Array.ofSeq
        else
            [||]

    /// The dosing plan for `requested` (mole fractions by chemical) from the mixing solve's
    /// `volumeFractions` (by stock, in the solver's order). `prime stock pump` is the prime volume
    /// of a pump's line; it is asked for the used stocks only, in dose order.
    let plan
        (settings: DosingSettings)
        (pumps: DosingPump list)
        (molesPerMl: Map<string, (string * float<mol / mL>)[]>)
        (prime: string -> string -> float<mL>)
        (requested: (string * float)[])
        (volumeFractions: (string * float)[])
        : Result<DosingPlan, DosingError> =
        let total = settings.Flush + settings.Sample

        let kept =
            volumeFractions
            |> Array.map (fun (stock, v) ->
                let x = max 0.0 v
                stock, (if x * total < settings.MinDose then 0.0 else x))

        let sum = kept |> Array.sumBy snd

        if sum <= 0.0 then
            Error AllBelowResolution
        else
            let x = kept |> Array.map (fun (stock, v) -> stock, v / sum)

            let achieved =
                moleFractions (x |> Array.map (fun (stock, v) -> stock, v * 1.0<mL>)) molesPerMl

            let used = x |> Array.filter (fun (_, v) -> v > 0.0)

            let withPumps =
                used
                |> Array.map (fun (stock, v) ->
                    match pumps |> List.tryFind (fun p -> p.Stock = stock) with
                    | Some p -> Ok(stock, v, p)
                    | None -> Error(NoPump stock))
                |> Results.all

            match withPumps with
            | Error e -> Error e
            | Ok used ->
                let lo = used |> List.map (fun (_, v, p) -> p.MinFlow / v) |> List.max
                let hi = used |> List.map (fun (_, v, p) -> p.MaxFlow / v) |> List.min

                if lo > hi * (1.0 - 1e-9) then
                    let stock, v, p = used |> List.minBy (fun (_, v, _) -> v)
                    Error(NoFlowWindow(stock, v, p.Pump, lo, hi))
                else
                    let low, high = lo * (1.0 + 1e-6), hi * (1.0 - 1e-6)

                    let flow =
                        if settings.TotalFlow < low then low
                        elif settings.TotalFlow > high then high
                        else settings.TotalFlow

                    let rec doses (acc: Dose list) (rest: (string * float * DosingPump) list) =
                        match rest with
                        | [] -> Ok(List.rev acc)
                        | (stock, v, p) :: tail ->
                            let d =
                                { Stock = stock
                                  Pump = p.Pump
                                  VolumeFraction = v
                                  Flow = v * flow
                                  Flush = v * settings.Flush
                                  Sample = v * settings.Sample
                                  Prime = prime stock p.Pump }

                            if d.Needed + settings.FillMargin > p.Capacity then
                                Error(SyringeTooSmall(stock, d.Needed + settings.FillMargin, p.Pump, p.SyringeNominal))
                            else
                                doses (d :: acc) tail

                    doses [] used
                    |> Result.map (fun ds ->
                        { VolumeFractions = x
                          Achieved = achieved
                          Deviation = distance requested achieved
                          MixRating = mixRating requested achieved
                          TotalFlow = flow
                          Doses = Array.ofList ds })
