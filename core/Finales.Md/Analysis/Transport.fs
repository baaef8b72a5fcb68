namespace Finales.Md.Analysis

open System

/// A straight-line fit of an MSD curve over the diffusive regime.
type MsdFit =
    {
        /// d MSD / dt over the window (MSD units per fs).
        Slope: float
        /// First and last lag of the window, fs.
        StartFs: float
        EndFs: float
        /// The slope of log MSD against log t over the window: 1 in the diffusive regime.
        LogLogSlope: float
    }

/// Transport coefficients from MSD curves: self-diffusion, Nernst-Einstein and Einstein-Helfand
/// conductivity, transference number, Yeh-Hummer correction.
[<RequireQualifiedAccess>]
module Transport =
    /// Least-squares slope and intercept of y against x.
    let linearFit (x: float[]) (y: float[]) : float * float =
        let mx = Array.average x
        let my = Array.average y
        let mutable sxy = 0.0
        let mutable sxx = 0.0

        for i in 0 .. x.Length - 1 do
            sxy <- sxy + (x[i] - mx) * (y[i] - my)
            sxx <- sxx + (x[i] - mx) * (x[i] - mx)

        let slope = if sxx > 0.0 then sxy / sxx else nan
        slope, my - slope * mx

    /// The window starts tried, as fractions of the trajectory length; the window ends at half of it
    /// (beyond that, few time origins are left and the MSD gets noisy).
    let private starts = [ 0.1; 0.2; 0.3 ]

    [<Literal>]
    let private EndFraction = 0.5

    let private fitWindow (msd: float[]) (dtFs: float) (startFraction: float) : MsdFit option =
        let n = msd.Length
        let first = max 1 (int (Math.Round(startFraction * float n)))
        let last = int (EndFraction * float n)

        if last - first < 2 then
            None
        else
            let lags = [| first..last |]
            let t = lags |> Array.map (fun m -> float m * dtFs)
            let y = lags |> Array.map (fun m -> msd[m])
            let slope, _ = linearFit t y

            let logSlope =
                if y |> Array.forall (fun v -> v > 0.0) then
                    fst (linearFit (Array.map log t) (Array.map log y))
                else
                    nan

            Some
                { Slope = slope
                  StartFs = t[0]
                  EndFs = t[t.Length - 1]
                  LogLogSlope = logSlope }

    /// The fit over the diffusive regime: the window [f N, N/2] for the first f in 0.1, 0.2, 0.3 whose
    /// log-log slope is within 0.1 of 1, else the 0.1 window (its log-log slope tells the reader it is not
    /// diffusive). None when the MSD has fewer than ~10 lags.
    let fitDiffusive (msd: float[]) (dtFs: float) : MsdFit option =
        let fits = starts |> List.choose (fitWindow msd dtFs)

        match fits |> List.tryFind (fun f -> abs (f.LogLogSlope - 1.0) <= 0.1) with
        | Some f -> Some f
        | None -> List.tryHead fits

    /// The fit over the same fractional window as `reference` (for block estimates).
    let fitLike (reference: MsdFit) (totalLags: int) (msd: float[]) (dtFs: float) : MsdFit option =
        let fraction = reference.StartFs / (float totalLags * dtFs)
        fitWindow msd dtFs fraction

    /// Mean and standard error (spread / sqrt count) of block estimates; error NaN for fewer than 2.
    let meanAndError (values: float[]) : Estimate =
        let n = values.Length

        if n = 0 then
            { Mean = nan; Error = nan }
        elif n = 1 then
            { Mean = values[0]; Error = nan }
        else
            let mean = Array.average values
            let var = (values |> Array.sumBy (fun v -> (v - mean) ** 2.0)) / float (n - 1)

            { Mean = mean
              Error = sqrt (var / float n) }

    /// Self-diffusion coefficient, m^2/s, from an MSD slope in Angstrom^2/fs (Einstein: MSD = 6 D t).
    let diffusion (slopeA2PerFs: float) : float =
        Units.angstrom2PerFsToM2PerS (slopeA2PerFs / 6.0)

    /// The Yeh-Hummer (2004) finite-size correction added to a self-diffusion coefficient from a cubic
    /// periodic box: kB T xi / (6 pi eta L), xi = 2.837297, eta in mPa s, L in Angstrom; m^2/s.
    let yehHummer (temperatureK: float) (viscosityMPaS: float) (boxLengthA: float) : float =
        Units.Boltzmann * temperatureK * 2.837297
        / (6.0 * Math.PI * viscosityMPaS * 1e-3 * boxLengthA * 1e-10)

    /// Nernst-Einstein conductivity, S/m: e^2 / (V kB T) sum_s N_s z_s^2 D_s, with (count, charge, D m^2/s,
    /// error of D) per species, V in Angstrom^3; the error propagates the D errors (independent).
    let nernstEinstein
        (volumeA3: float)
        (temperatureK: float)
        (species: (int * float * float * float) list)
        : Estimate =
        let pre =
            Units.ElementaryCharge ** 2.0
            / (Units.angstrom3ToM3 volumeA3 * Units.Boltzmann * temperatureK)

        let mean = species |> List.sumBy (fun (n, z, d, _) -> float n * z * z * d)

        let err =
            species |> List.sumBy (fun (n, z, _, e) -> (float n * z * z * e) ** 2.0) |> sqrt

        { Mean = pre * mean; Error = pre * err }

    /// Einstein-Helfand conductivity, S/m, from the slope of the MSD of M(t) = sum_i z_i r_i(t) in
    /// e^2 Angstrom^2/fs: sigma = slope / (6 V kB T).
    let einsteinHelfand (volumeA3: float) (temperatureK: float) (slopeE2A2PerFs: float) : float =
        Units.ElementaryCharge ** 2.0 * Units.angstrom2PerFsToM2PerS slopeE2A2PerFs
        / (6.0 * Units.angstrom3ToM3 volumeA3 * Units.Boltzmann * temperatureK)

    /// The definition of the transference number reported.
    [<Literal>]
    let TransferenceDefinition =
        "t+ = sum over cations of N z^2 D / sum over all ions of N z^2 D (from self-diffusion, ideal solution: ion pairing ignored)"

    /// The cation transference number from self-diffusion (TransferenceDefinition) with its propagated error;
    /// None without both a cation and an anion.
    let transference (species: (int * float * float * float) list) : Estimate option =
        let weight (n, z, d, _) = float n * z * z * d
        let weightErr (n, z, _, e) = float n * z * z * e
        let cations = species |> List.filter (fun (_, z, _, _) -> z > 0.0)
        let anions = species |> List.filter (fun (_, z, _, _) -> z < 0.0)

        if cations.IsEmpty || anions.IsEmpty then
            None
        else
            let p = cations |> List.sumBy weight
            let m = anions |> List.sumBy weight
            let ep = cations |> List.sumBy (fun s -> weightErr s ** 2.0) |> sqrt
            let em = anions |> List.sumBy (fun s -> weightErr s ** 2.0) |> sqrt
            let total = p + m

            Some
                { Mean = p / total
                  Error = sqrt ((m / (total * total) * ep) ** 2.0 + (p / (total * total) * em) ** 2.0) }
