namespace Finales.Md.Analysis

open System
open System.IO
open System.Text
open System.Text.Json

/// The analysis report as JSON (what `./finales md analyse` prints) and the RDFs in the corpus `RDFOutput`
/// shape (radial_density_function/molacular_dynamics result). Non-finite numbers are written as null.
[<RequireQualifiedAccess>]
module ReportJson =
    let private render (write: Utf8JsonWriter -> unit) : string =
        use stream = new MemoryStream()
        use w = new Utf8JsonWriter(stream, JsonWriterOptions(Indented = true))
        write w
        w.Flush()
        Encoding.UTF8.GetString(stream.ToArray())

    let private number (w: Utf8JsonWriter) (name: string) (v: float) =
        if Double.IsFinite v then
            w.WriteNumber(name, v)
        else
            w.WriteNull name

    let private numbers (w: Utf8JsonWriter) (name: string) (vs: float[]) =
        w.WriteStartArray name

        for v in vs do
            if Double.IsFinite v then
                w.WriteNumberValue v
            else
                w.WriteNullValue()

        w.WriteEndArray()

    let private estimate (w: Utf8JsonWriter) (name: string) (e: Estimate option) =
        match e with
        | Some e ->
            number w name e.Mean
            number w (name + "_error") e.Error
        | None ->
            w.WriteNull name
            w.WriteNull(name + "_error")

    /// The full report.
    let report (r: Report) : string =
        render (fun w ->
            w.WriteStartObject()
            w.WriteNumber("frames", r.Frames)
            number w "frame_interval_fs" r.FrameIntervalFs
            number w "mean_volume_A3" r.MeanVolumeA3
            estimate w "density_g_per_cm3" r.Density
            w.WriteStartArray "species"

            for s in r.Species do
                w.WriteStartObject()
                w.WriteString("name", s.Name)
                w.WriteNumber("units", s.Units)
                number w "charge_e" s.Charge
                estimate w "diffusion_m2_per_s" s.Diffusion

                match s.DiffusionYehHummer with
                | Some v -> number w "diffusion_yeh_hummer_m2_per_s" v
                | None -> w.WriteNull "diffusion_yeh_hummer_m2_per_s"

                match s.Fit with
                | Some f ->
                    number w "fit_start_fs" f.StartFs
                    number w "fit_end_fs" f.EndFs
                    number w "log_log_slope" f.LogLogSlope
                | None ->
                    w.WriteNull "fit_start_fs"
                    w.WriteNull "fit_end_fs"
                    w.WriteNull "log_log_slope"

                numbers w "msd_lag_fs" (Array.init s.Msd.Length (fun k -> float k * r.FrameIntervalFs))
                numbers w "msd_A2" s.Msd
                w.WriteEndObject()

            w.WriteEndArray()
            estimate w "conductivity_nernst_einstein_S_per_m" r.NernstEinstein
            estimate w "conductivity_einstein_helfand_S_per_m" r.EinsteinHelfand

            match r.NernstEinstein, r.EinsteinHelfand with
            | Some ne, Some eh when ne.Mean > 0.0 ->
                number w "einstein_helfand_over_nernst_einstein" (eh.Mean / ne.Mean)
            | _ -> w.WriteNull "einstein_helfand_over_nernst_einstein"

            estimate w "transference_number" r.Transference
            w.WriteString("transference_definition", Transport.TransferenceDefinition)
            w.WriteStartArray "rdfs"

            for g in r.Rdfs do
                w.WriteStartObject()
                w.WriteString("name", g.Name)
                w.WriteNumber("count_a", g.CountA)
                w.WriteNumber("count_b", g.CountB)
                numbers w "r_A" g.R
                numbers w "g" g.G
                numbers w "coordination" g.Coordination
                w.WriteEndObject()

            w.WriteEndArray()
            w.WriteStartArray "notes"

            for n in r.Notes do
                w.WriteStringValue n

            w.WriteEndArray()
            w.WriteEndObject())

    /// The RDFs as a corpus `RDFOutput` (radius, pair_title, RDF, cell_volume, cell_formula). All RDFs must
    /// share one radius grid (same RMAX and BINS).
    let rdfOutput (r: Report) (cellFormula: string) : Result<string, string> =
        match r.Rdfs with
        | [] -> Error "the analysis has no RDF pair"
        | first :: rest ->
            match rest |> List.tryFind (fun g -> g.R <> first.R) with
            | Some g ->
                Error
                    $"RDF '{g.Name}' has another radius grid than '{first.Name}'; RDFOutput needs one grid (same RMAX and BINS)"
            | None when String.IsNullOrWhiteSpace cellFormula -> Error "cell formula is empty"
            | None ->
                Ok(
                    render (fun w ->
                        w.WriteStartObject()
                        numbers w "radius" first.R
                        w.WriteStartArray "pair_title"

                        for g in r.Rdfs do
                            w.WriteStringValue g.Name

                        w.WriteEndArray()
                        w.WriteStartArray "RDF"

                        for g in r.Rdfs do
                            w.WriteStartArray()

                            for v in g.G do
                                w.WriteNumberValue v

                            w.WriteEndArray()

                        w.WriteEndArray()
                        number w "cell_volume" r.MeanVolumeA3
                        w.WriteString("cell_formula", cellFormula)
                        w.WriteEndObject())
                )
