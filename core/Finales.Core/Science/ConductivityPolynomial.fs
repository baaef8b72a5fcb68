namespace Finales.Core

open System
open Finales.Core.Units

/// A conductivity from the low-fidelity model with its rating.
type ConductivityEstimate =
    {
        Conductivity: float<S / m>
        /// 3 inside the training domain, 1 when extrapolating.
        Rating: int
        InDomain: bool
        /// m_PC / (m_EC + m_PC).
        MassRatioPC: float
        /// m_LiPF6 / (m_EC + m_PC).
        MassRatioLiPF6: float
    }

/// Why the low-fidelity model rejects a request.
type ConductivityError =
    | ConductivityTemperatureOutOfRange of float<K>
    | NoLiPF6
    | NoECOrPC

/// Messages for conductivity-model errors.
[<RequireQualifiedAccess>]
module ConductivityError =
    /// A message naming the field and the value.
    let message (e: ConductivityError) : string =
        match e with
        | ConductivityTemperatureOutOfRange t -> $"temperature is {float t} K; the model is valid for 243.15..333.15 K"
        | NoLiPF6 -> "formulation has no LiPF6; the model needs a salt fraction > 0"
        | NoECOrPC -> "formulation has neither EC nor PC; the model needs at least one of them"

/// The low-fidelity conductivity model of Rahmanian et al. 2022 (domain.md section 6): cubic
/// polynomials in the mass ratios x_pc = m_PC/(m_EC+m_PC), x_li = m_LiPF6/(m_EC+m_PC), one per
/// temperature node, interpolated linearly in temperature. EMC and DMC are ignored.
[<RequireQualifiedAccess>]
module ConductivityPolynomial =
    /// Lowest accepted temperature (the -30 C node).
    let MinTemperature: float<K> = 243.15<K>

    /// Highest accepted temperature (the 60 C node).
    let MaxTemperature: float<K> = 333.15<K>

    /// Whether (x_pc, x_li) lies in the training domain.
    let inTrainingDomain (xPc: float) (xLi: float) : bool =
        xPc >= 0.1 && xPc <= 1.0 && xLi >= 0.1 && xLi <= 1.1

    let private evaluateNode (node: int) (xPc: float) (xLi: float) : float =
        let cs = ConductivityCoefficients.coefficients[node]
        let mutable sum = 0.0

        ConductivityCoefficients.terms
        |> Array.iteri (fun k (_, p, q) -> sum <- sum + cs[k] * pown xPc p * pown xLi q)

        sum

    /// Conductivity in S/cm at T_C (degrees C) for the mass ratios, interpolating linearly between
    /// the values of the two neighbouring temperature nodes. T_C must lie within the node range.
    let evaluate (temperatureC: float) (xPc: float) (xLi: float) : float =
        let nodes = ConductivityCoefficients.temperaturesC
        let last = nodes.Length - 1

        let i =
            let mutable i = 0

            while i < last - 1 && temperatureC >= nodes[i + 1] do
                i <- i + 1

            i

        let w = (temperatureC - nodes[i]) / (nodes[i + 1] - nodes[i])
        let a = evaluateNode i xPc xLi
        let b = evaluateNode (i + 1) xPc xLi
        a + (b - a) * w

    /// Estimate the conductivity from mole amounts (or fractions) of LiPF6, EC and PC at T. Only
    /// mass ratios enter the model, so the amounts need not sum to 1 (the specification vectors
    /// include such cases); amounts must be finite and >= 0, other chemicals are ignored.
    let estimateAmounts (moles: Map<Chemical, float>) (t: float<K>) : Result<ConductivityEstimate, ConductivityError> =
        let amount c =
            match Map.tryFind c moles with
            | Some v when v > 0.0 && not (Double.IsInfinity v) -> v
            | _ -> 0.0

        let mass c = amount c * float (Chemical.molarMass c)

        if Double.IsNaN(float t) || t < MinTemperature || t > MaxTemperature then
            Error(ConductivityTemperatureOutOfRange t)
        elif not (mass LiPF6 > 0.0) then
            Error NoLiPF6
        elif not (mass EC + mass PC > 0.0) then
            Error NoECOrPC
        else
            let solvent = mass EC + mass PC
            let xPc = mass PC / solvent
            let xLi = mass LiPF6 / solvent
            let sigma = evaluate (Temperature.toCelsius t) xPc xLi
            let inDomain = inTrainingDomain xPc xLi

            Ok
                { Conductivity = sigma * 100.0<S / m>
                  Rating = (if inDomain then 3 else 1)
                  InDomain = inDomain
                  MassRatioPC = xPc
                  MassRatioLiPF6 = xLi }

    /// Estimate the conductivity of a formulation (mole fractions; other bases are converted) at T.
    let estimate (formulation: Formulation) (t: float<K>) : Result<ConductivityEstimate, ConductivityError> =
        estimateAmounts (Formulation.toMole formulation |> Formulation.fractions) t
