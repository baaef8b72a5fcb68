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

/// A seeded stream of draws over `Rng` for imperative loops: it holds the current generator and
/// advances it on every draw, so a stream gives exactly the sequence that threading an `Rng` by hand
/// gives, and the same seed always the same sequence. Not thread-safe: one stream per loop.
[<Sealed>]
type RandomStream internal (initial: Rng) =
    let mutable rng = initial

    /// A uniform draw in [0, 1) (`Rng.nextFloat`).
    member _.NextFloat() : float =
        let v, next = Rng.nextFloat rng
        rng <- next
        v

    /// A uniform integer in [0, maxExclusive), without modulo bias (draws of the top incomplete block
    /// of 64-bit values are rejected and redrawn). maxExclusive must be > 0.
    member _.NextInt(maxExclusive: int) : int =
        if maxExclusive <= 0 then
            invalidArg (nameof maxExclusive) (sprintf "maxExclusive is %d; it must be > 0" maxExclusive)

        let bound = uint64 maxExclusive
        let limit = UInt64.MaxValue - UInt64.MaxValue % bound
        let mutable bits, next = Rng.nextUInt64 rng

        while bits >= limit do
            let b, n = Rng.nextUInt64 next
            bits <- b
            next <- n

        rng <- next
        int (bits % bound)

    /// A standard normal draw (`Rng.nextNormal`).
    member _.NextNormal() : float =
        let v, next = Rng.nextNormal rng
        rng <- next
        v

/// Creating random streams.
[<RequireQualifiedAccess>]
module RandomStream =
    /// A stream from an integer seed (the seeds the CLI and JSON inputs carry; a negative seed is
    /// sign-extended, so every int is a distinct seed).
    let create (seed: int) : RandomStream =
        RandomStream(Rng.create (uint64 (int64 seed)))

    /// A stream that continues from the given generator.
    let ofRng (rng: Rng) : RandomStream = RandomStream rng
