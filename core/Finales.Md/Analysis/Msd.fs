namespace Finales.Md.Analysis

open System.Numerics
open MathNet.Numerics.IntegralTransforms

/// Mean squared displacement over all time origins. For a trajectory r(0..N-1), MSD(m) = 1/(N-m) sum_k
/// |r(k+m) - r(k)|^2. The FFT algorithm (Kneller et al. 1995, Calandrini et al. 2011, as in nMOLDYN,
/// tidynamics and MDAnalysis's EinsteinMSD(fft=True)) writes it as S1(m) - 2 S2(m), with S2 the position
/// autocorrelation (by FFT, O(N log N)) and S1 a running sum of squared positions.
[<RequireQualifiedAccess>]
module Msd =
    let private nextPow2 (n: int) =
        let mutable p = 1

        while p < n do
            p <- p * 2

        p

    /// sum_k x(k) x(k+m) + y(k) y(k+m) for m = 0..N-1, as the real part of the autocorrelation of x + iy
    /// (one complex FFT for two real series), zero-padded to avoid circular wrap-around.
    let private autocorrelation2 (x: float[]) (y: float[]) (buffer: Complex[]) : float[] =
        let n = x.Length
        System.Array.Clear buffer

        for k in 0 .. n - 1 do
            buffer[k] <- Complex(x[k], y[k])

        Fourier.Forward(buffer, FourierOptions.NoScaling)

        for k in 0 .. buffer.Length - 1 do
            let c = buffer[k]
            buffer[k] <- Complex(c.Real * c.Real + c.Imaginary * c.Imaginary, 0.0)

        Fourier.Inverse(buffer, FourierOptions.NoScaling)
        let scale = 1.0 / float buffer.Length
        Array.init n (fun m -> buffer[m].Real * scale)

    /// The (unnormalised) sum over dimensions of the MSD of one trajectory, given per dimension; the series
    /// are shifted to zero mean first (the MSD does not change, the cancellation in S1 - 2 S2 shrinks).
    let private fftOne (dims: float[][]) (buffer: Complex[]) : float[] =
        let n = dims[0].Length

        let centred =
            dims
            |> Array.map (fun s ->
                let mean = Array.average s
                Array.map (fun v -> v - mean) s)

        let zeros = Array.zeroCreate n

        let s2a =
            autocorrelation2 centred[0] (if centred.Length > 1 then centred[1] else zeros) buffer

        let s2b =
            if centred.Length > 2 then
                autocorrelation2 centred[2] zeros buffer
            else
                zeros

        let d =
            Array.init (n + 1) (fun k ->
                if k < n then
                    centred |> Array.sumBy (fun s -> s[k] * s[k])
                else
                    0.0)

        let mutable q = 2.0 * Array.sum d
        let msd = Array.zeroCreate n

        for m in 0 .. n - 1 do
            if m > 0 then
                q <- q - d[m - 1] - d[n - m]

            msd[m] <- q / float (n - m) - 2.0 * (s2a[m] + s2b[m]) / float (n - m)

        msd[0] <- 0.0
        msd

    /// The MSD (same units as positions squared) of one trajectory given as its x, y, z series (equal
    /// lengths), at lags 0..N-1, by FFT.
    let fft (x: float[]) (y: float[]) (z: float[]) : float[] =
        let buffer = Array.zeroCreate (nextPow2 (2 * x.Length))
        fftOne [| x; y; z |] buffer

    /// The MSD averaged over many trajectories (`series i` gives trajectory i's x, y, z), by FFT. One FFT
    /// buffer is reused for all of them.
    let fftMean (count: int) (series: int -> float[] * float[] * float[]) (frames: int) : float[] =
        let buffer = Array.zeroCreate (nextPow2 (2 * frames))
        let total = Array.zeroCreate frames

        for i in 0 .. count - 1 do
            let x, y, z = series i
            let m = fftOne [| x; y; z |] buffer

            for k in 0 .. frames - 1 do
                total[k] <- total[k] + m[k]

        if count > 0 then
            Array.map (fun v -> v / float count) total
        else
            total

    /// The MSD of one trajectory by the direct O(N^2) double sum: the reference the FFT is checked against.
    let direct (x: float[]) (y: float[]) (z: float[]) : float[] =
        let n = x.Length

        Array.init n (fun m ->
            let mutable s = 0.0

            for k in 0 .. n - m - 1 do
                let dx = x[k + m] - x[k]
                let dy = y[k + m] - y[k]
                let dz = z[k + m] - z[k]
                s <- s + dx * dx + dy * dy + dz * dz

            s / float (n - m))
