namespace Finales.Md.Analysis

open System
open System.Globalization

/// One `run` of a LAMMPS log: the thermo columns by name (as LAMMPS prints them: Step, Time, Temp, Press,
/// PotEng, KinEng, TotEng, Volume, Density) and the rows.
type ThermoRun =
    { Columns: string[]
      Rows: float[][] }

    /// The values of a column, matched case-insensitively; None when the run does not print it.
    member r.Column(name: string) : float[] option =
        r.Columns
        |> Array.tryFindIndex (fun c -> String.Equals(c, name, StringComparison.OrdinalIgnoreCase))
        |> Option.map (fun i -> r.Rows |> Array.map (fun row -> row[i]))

/// A mean with its standard error.
type Estimate = { Mean: float; Error: float }

/// The thermo output of a LAMMPS log (several runs: minimisation, NVT, NPT, production).
[<RequireQualifiedAccess>]
module ThermoLog =
    let private inv = CultureInfo.InvariantCulture

    let private numbers (tokens: string[]) : float[] option =
        let values = Array.zeroCreate tokens.Length

        let ok =
            tokens
            |> Array.mapi (fun i t ->
                match Double.TryParse(t, NumberStyles.Float, inv) with
                | true, v ->
                    values[i] <- v
                    true
                | _ -> false)
            |> Array.forall id

        if ok then Some values else None

    /// The runs of a log, in order. A run starts at a header line whose first column is `Step` and ends at
    /// `Loop time of ...`; lines inside a run that are not a full row of numbers (warnings) are skipped.
    let runs (lines: seq<string>) : ThermoRun list =
        let result = ResizeArray()
        let mutable current: (string[] * ResizeArray<float[]>) option = None

        let close () =
            match current with
            | Some(cols, rows) when rows.Count > 0 ->
                result.Add
                    { Columns = cols
                      Rows = rows.ToArray() }
            | _ -> ()

            current <- None

        for line in lines do
            let tokens = line.Split([| ' '; '\t' |], StringSplitOptions.RemoveEmptyEntries)

            if tokens.Length > 0 && tokens[0] = "Step" then
                close ()
                current <- Some(tokens, ResizeArray())
            elif line.StartsWith("Loop time of", StringComparison.Ordinal) then
                close ()
            else
                match current with
                | Some(cols, rows) when tokens.Length = cols.Length -> numbers tokens |> Option.iter rows.Add
                | _ -> ()

        close ()
        List.ofSeq result

    /// The mean of a series and its standard error from `blocks` contiguous block means (the spread of the
    /// block means / sqrt(blocks)), which accounts for the correlation between successive thermo rows as
    /// long as a block is longer than the correlation time. Needs at least `blocks` values.
    let blockAverage (blocks: int) (values: float[]) : Estimate option =
        if blocks < 2 || values.Length < blocks then
            None
        else
            let size = values.Length / blocks

            let means =
                Array.init blocks (fun b -> Array.average values[b * size .. (b + 1) * size - 1])

            let mean = Array.average means

            let var = (means |> Array.sumBy (fun m -> (m - mean) ** 2.0)) / float (blocks - 1)

            Some
                { Mean = mean
                  Error = sqrt (var / float blocks) }

    /// Whether a run let the volume change (NPT): its Volume column is not constant.
    let isNpt (run: ThermoRun) : bool =
        match run.Column "Volume" with
        | Some v when v.Length > 1 -> Array.max v > Array.min v
        | _ -> false

    /// The density (g/cm^3 in `units real`) of the last NPT run of the log, averaged over its second half
    /// (the first half is taken as equilibration) with a 5-block error. Error: why there is none.
    let density (runs: ThermoRun list) : Result<Estimate, string> =
        match runs |> List.filter isNpt |> List.tryLast with
        | None -> Error "no NPT run in the log (no run whose Volume column varies)"
        | Some run ->
            match run.Column "Density" with
            | None -> Error "the NPT run prints no Density column (thermo_style custom ... density)"
            | Some d ->
                let half = d[d.Length / 2 ..]

                match blockAverage 5 half with
                | Some e -> Ok e
                | None -> Error $"the NPT run has {d.Length} thermo rows; the density needs at least 10"
