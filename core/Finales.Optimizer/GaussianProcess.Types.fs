namespace Finales.Optimizer

open System
open MathNet.Numerics.LinearAlgebra
open MathNet.Numerics.Optimization

/// Settings of hyper-parameter fitting (ML-II).
type GpOptions =
    {
        /// Seeded random restarts of L-BFGS in addition to the default starting point.
        Restarts: int
        /// Iteration cap of each L-BFGS run.
        MaxIterations: int
        /// Above this many observations the hyper-parameters are fitted on a seeded random subsample
        /// of this size (the final model always conditions on every observation).
        MaxFitPoints: int
        /// Floor of the noise variance in standardised units.
        NoiseFloor: float
    }

/// Hyper-parameters of a Matern-5/2 ARD GP, in standardised output and unit-cube input units.
type GpHyper =
    {
        /// One log length scale per input.
        LogLengthScales: float[]
        /// Log of the kernel scale (signal variance).
        LogSignalVariance: float
        /// Log of the noise variance above the floor: noise = floor + exp(LogNoiseExcess).
        LogNoiseExcess: float
        /// The constant prior mean.
        Mean: float
    }

/// A fitted GP: unit-cube inputs, standardised outputs, a packed row-major Cholesky factor of
/// K + noise I (which can grow by appended rows) and alpha = K^-1 (y - mean).
type GpModel =
    internal
        { Lower: float[]
          Upper: float[]
          X: ResizeArray<float[]>
          Y: ResizeArray<float>
          YMean: float
          YStd: float
          Hyper: GpHyper
          NoiseFloor: float
          L: ResizeArray<float>
          mutable Alpha: float[]
          Jitter: float }

    /// Number of conditioned points (observations plus fantasies).
    member m.Count = m.X.Count
    /// The fitted hyper-parameters.
    member m.Hyperparameters = m.Hyper
    /// The jitter that had to be added to the diagonal (0 when none was needed).
    member m.JitterAdded = m.Jitter

/// Invalid GP input; each case names the field and the value.
type GpError =
    | NoData
    | DimensionMismatch of field: string * index: int * length: int * expected: int
    | NonFiniteValue of field: string * index: int * value: float
    | BadBounds of index: int * lower: float * upper: float

    /// A sentence naming the field and the value.
    member this.Message =
        match this with
        | NoData -> "x is empty; a GP needs at least one observation"
        | DimensionMismatch(f, i, l, e) -> sprintf "%s[%d] has length %d; expected %d" f i l e
        | NonFiniteValue(f, i, v) -> sprintf "%s[%d] is %g; values must be finite" f i v
        | BadBounds(i, lo, hi) -> sprintf "bounds[%d] is [%g, %g]; lower must be <= upper and finite" i lo hi
