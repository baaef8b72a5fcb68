namespace Finales.Optimizer

open System

/// The share of the suggested points one capability is requested for, in (0, 1], quantised to millionths.
/// Invariant: 1 <= millionths <= 1,000,000 (1,000,000 = every point).
type RequestShare = private RequestShare of int64

/// Which points get a capability that is requested for only a share of the points (an expensive simulation, say).
/// Point i (0-based, counted over the tenant's whole run) gets it when
/// floor(((i + 1) k + p) / 10^6) > floor((i k + p) / 10^6), with k the share in millionths and the phase p in
/// [0, 10^6) drawn from the seed and the target's position. Integer arithmetic, so it is exact: over any n
/// consecutive points the count is floor(n k / 10^6) or its ceiling (the share is met over a run, evenly spread, no
/// run of misses longer than needed), and a share of 1 picks every point. Deterministic: the same seed, target and
/// index give the same answer.
[<RequireQualifiedAccess>]
module RequestShare =

    /// Millionths: the resolution of a share.
    [<Literal>]
    let Resolution = 1_000_000L

    /// Every point (share 1).
    let all: RequestShare = RequestShare Resolution

    /// A share in (0, 1], rounded to millionths (at least one millionth); the error names the value.
    let create (share: float) : Result<RequestShare, string> =
        if Double.IsFinite share && share > 0.0 && share <= 1.0 then
            let k = int64 (Math.Round(share * float Resolution, MidpointRounding.AwayFromZero))

            Ok(RequestShare(max 1L (min Resolution k)))
        else
            Error(
                sprintf
                    "share is %s; it must lie in (0, 1] (1 = every point)"
                    (share.ToString("R", Globalization.CultureInfo.InvariantCulture))
            )

    /// The share as a fraction in (0, 1].
    let value (RequestShare k) : float = float k / float Resolution

    /// The share in millionths.
    let millionths (RequestShare k) : int64 = k

    /// The phase in [0, 10^6) of a (seed, target position): SplitMix64 of both, so targets of one run and runs of
    /// different seeds pick different points.
    let phase (seed: int) (target: int) : int64 =
        let mutable z =
            ((uint64 (uint32 seed) <<< 32) ||| uint64 (uint32 target))
            + 0x9E3779B97F4A7C15UL

        z <- (z ^^^ (z >>> 30)) * 0xBF58476D1CE4E5B9UL
        z <- (z ^^^ (z >>> 27)) * 0x94D049BB133111EBUL
        z <- z ^^^ (z >>> 31)
        int64 (z % uint64 Resolution)

    /// Whether point `index` (>= 0; a negative index is treated as 0) gets the capability (see the module summary).
    let chosen (share: RequestShare) (phase: int64) (index: int) : bool =
        let (RequestShare k) = share
        let i = int64 (max 0 index)
        let p = ((phase % Resolution) + Resolution) % Resolution
        ((i + 1L) * k + p) / Resolution > (i * k + p) / Resolution
