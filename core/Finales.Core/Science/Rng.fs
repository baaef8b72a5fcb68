namespace Finales.Core

open System

/// An immutable, seeded pseudo-random generator (SplitMix64), so the core stays pure: every draw
/// returns the next generator. The same seed always gives the same sequence on every platform.
[<Struct>]
type Rng = private { State: uint64 }

/// Drawing numbers from an `Rng`.
[<RequireQualifiedAccess>]
module Rng =
    /// A generator from a seed.
    let create (seed: uint64) : Rng = { State = seed }

    /// The next 64 random bits.
    let nextUInt64 (rng: Rng) : uint64 * Rng =
        let s = rng.State + 0x9E3779B97F4A7C15UL
        let mutable z = s
        z <- (z ^^^ (z >>> 30)) * 0xBF58476D1CE4E5B9UL
        z <- (z ^^^ (z >>> 27)) * 0x94D049BB133111EBUL
        z ^^^ (z >>> 31), { State = s }

    /// A uniform draw in [0, 1) with 53 random bits.
    let nextFloat (rng: Rng) : float * Rng =
        let bits, next = nextUInt64 rng
        float (bits >>> 11) * (1.0 / 9007199254740992.0), next

    /// A standard normal draw (Box-Muller; one draw per call, the second value is discarded so that
    /// the generator state alone determines the sequence).
    let nextNormal (rng: Rng) : float * Rng =
        let u1, r1 = nextFloat rng
        let u2, r2 = nextFloat r1
        sqrt (-2.0 * log (1.0 - u1)) * cos (2.0 * Math.PI * u2), r2
