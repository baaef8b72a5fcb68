namespace Finales.Md.Setup

open System

/// `meta.rating` of an MD result (0 lowest .. 5 highest) from the statistical uncertainty of the reported
/// value: the relative standard error err / |value|.
[<RequireQualifiedAccess>]
module Rating =
    /// 5 at <= 5 %, 4 at <= 10 %, 3 at <= 20 %, 2 at <= 40 %, 1 above or when no uncertainty is known
    /// (a value without an error bar is the least trustworthy success); 0 is kept for failed results.
    let ofRelativeUncertainty (relative: float option) : int =
        match relative with
        | Some r when Double.IsFinite r && r >= 0.0 ->
            if r <= 0.05 then 5
            elif r <= 0.10 then 4
            elif r <= 0.20 then 3
            elif r <= 0.40 then 2
            else 1
        | _ -> 1

    /// The relative uncertainty of a value and its standard error; None when either is not finite or the
    /// value is 0.
    let relative (value: float) (error: float) : float option =
        if Double.IsFinite value && Double.IsFinite error && value <> 0.0 then
            Some(abs error / abs value)
        else
            None
