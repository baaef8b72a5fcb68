namespace Finales.Core

open System
open System.Globalization
open System.Text.Json
open Finales.Core.Units

/// One stock of a stock table: the validated stock, the reservoir node it sits in and the volume of it
/// available.
type StockTableEntry =
    { Stock: Stock
      Reservoir: string
      Volume: float<mL> }

/// Why a stock table was rejected. Every case names the field and the value.
type StockTableError =
    | StockTableNotJson of detail: string
    | StockTableWithoutStocks of found: string
    /// A field of one stock (`path` e.g. "stocks[1].density") and what is wrong with it.
    | StockFieldInvalid of path: string * problem: string
    | StockNameRepeated of name: string * count: int
    | ReservoirShared of reservoir: string * count: int

/// Messages for stock table errors.
[<RequireQualifiedAccess>]
module StockTableError =
    /// A message naming the field and the offending value.
    let message (e: StockTableError) : string =
        match e with
        | StockTableNotJson detail -> $"not JSON: {detail}"
        | StockTableWithoutStocks found -> $"'stocks' is {found}; it must be a non-empty list"
        | StockFieldInvalid(path, problem) -> $"{path} {problem}"
        | StockNameRepeated(name, n) -> $"stock name '{name}' appears {n} times"
        | ReservoirShared(reservoir, n) -> $"reservoir '{reservoir}' holds {n} stocks"

/// A table of stock solutions read from a stocks file: at least one stock, names distinct, no two stocks
/// in one reservoir, every stock valid (`Stock.create`). The platform's stock tables live in data files
/// (the 2022 stocks: tenants/Finales.Tenants.Asab/stocks-2022.json); this is their one parser.
type StockTable =
    private
        { Entries: StockTableEntry list }

/// Parsing of stock tables.
[<RequireQualifiedAccess>]
module StockTable =
    /// Largest number of characters of a JSON value quoted in a message.
    [<Literal>]
    let private ShownLength = 80

    let private show (e: JsonElement) : string =
        let raw = e.GetRawText()

        if raw.Length > ShownLength then
            raw.Substring(0, ShownLength - 3) + "..."
        else
            raw

    let private number (v: float) =
        v.ToString("R", CultureInfo.InvariantCulture)

    let private field (o: JsonElement) (name: string) : JsonElement option =
        match o.TryGetProperty name with
        | true, v -> Some v
        | _ -> None

    let private shown (v: JsonElement option) =
        v |> Option.map show |> Option.defaultValue "missing"

    /// One stock: its entry, or every problem of it.
    let private entry (at: string) (s: JsonElement) : Result<StockTableEntry, StockTableError list> =
        let bad name problem =
            StockFieldInvalid($"{at}.{name}", problem)

        if s.ValueKind <> JsonValueKind.Object then
            Error [ StockFieldInvalid(at, $"is {show s}; expected an object") ]
        else
            let text name =
                match field s name with
                | Some v when
                    v.ValueKind = JsonValueKind.String
                    && not (String.IsNullOrWhiteSpace(v.GetString()))
                    ->
                    Ok(v.GetString())
                | v -> Error [ bad name $"is {shown v}; expected a non-empty string" ]

            let num name =
                match field s name with
                | Some v when v.ValueKind = JsonValueKind.Number && Double.IsFinite(v.GetDouble()) ->
                    Ok(Some(v.GetDouble()))
                | v -> Error [ bad name $"is {shown v}; expected a number" ]

            let optionalNum name =
                match field s name with
                | None -> Ok None
                | Some v when v.ValueKind = JsonValueKind.Null -> Ok None
                | _ -> num name

            let masses =
                match field s "masses" with
                | Some m when m.ValueKind = JsonValueKind.Object ->
                    let items =
                        [ for p in m.EnumerateObject() ->
                              match Chemical.find p.Name with
                              | Error reason -> Error(StockFieldInvalid($"{at}.masses:", reason))
                              | Ok c when p.Value.ValueKind = JsonValueKind.Number && p.Value.GetDouble() >= 0.0 ->
                                  Ok(c, p.Value.GetDouble())
                              | Ok _ -> Error(bad $"masses.{p.Name}" $"is {show p.Value}; expected grams >= 0") ]

                    let errors =
                        items
                        |> List.choose (function
                            | Error e -> Some e
                            | Ok _ -> None)

                    if List.isEmpty errors then
                        // A chemical named twice (by name and SMILES, say) counts with the sum of its masses.
                        items
                        |> List.choose (function
                            | Ok m -> Some m
                            | Error _ -> None)
                        |> List.groupBy fst
                        |> List.map (fun (c, ms) -> c, List.sumBy snd ms)
                        |> Ok
                    else
                        Error errors
                | v -> Error [ bad "masses" $"is {shown v}; expected an object chemical -> grams" ]

            let problems r =
                match r with
                | Error es -> es
                | Ok _ -> []

            let name, reservoir = text "name", text "reservoir"

            let density, total, volume =
                num "density", optionalNum "total_mass", num "volume_ml"

            let ranges =
                [ match density with
                  | Ok(Some d) when d <= 0.0 -> bad "density" $"is {number d}; it must be > 0"
                  | _ -> ()
                  match volume with
                  | Ok(Some v) when v < 0.0 -> bad "volume_ml" $"is {number v}; it must be >= 0"
                  | _ -> ()
                  match masses with
                  | Ok ms when ms |> List.sumBy snd <= 0.0 -> bad "masses" "has no positive mass"
                  | _ -> ()
                  match masses, total with
                  | Ok ms, Ok(Some t) when t < (ms |> List.sumBy snd) * (1.0 - 1e-9) ->
                      let sum = ms |> List.sumBy snd

                      bad "total_mass" $"is {number t} g, less than the sum of its masses ({number sum} g)"
                  | _ -> () ]

            let fieldProblems =
                problems name
                @ problems reservoir
                @ problems density
                @ problems total
                @ problems volume
                @ problems masses
                @ ranges

            match name, reservoir, density, total, volume, masses with
            | Ok n, Ok r, Ok(Some d), Ok t, Ok(Some v), Ok ms when List.isEmpty fieldProblems ->
                Stock.create
                    n
                    (ms |> List.map (fun (c, m) -> c, m * 1.0<g>))
                    (t |> Option.map ((*) 1.0<g>))
                    (d * 1.0<g / cm^3>)
                |> Result.map (fun stock ->
                    { Stock = stock
                      Reservoir = r
                      Volume = v * 1.0<mL> })
                |> Result.mapError (List.map (fun e -> StockFieldInvalid(at + ":", MixingError.message e)))
            | _ -> Error fieldProblems

    /// Parse a stocks file: `{"stocks": [{"name", "reservoir", "density" (g/cm3), "masses": {chemical: g},
    /// "total_mass" (g, optional: the sum of the masses), "volume_ml"}]}`, chemicals by name, SMILES or
    /// InChIKey. Every problem is reported, each naming its field and value.
    let parse (json: string) : Result<StockTable, StockTableError list> =
        let document =
            try
                Ok(JsonDocument.Parse(if isNull json then "" else json))
            with :? JsonException as e ->
                Error [ StockTableNotJson e.Message ]

        match document with
        | Error e -> Error e
        | Ok doc ->
            use doc = doc
            let root = doc.RootElement

            let stocks =
                if root.ValueKind = JsonValueKind.Object then
                    field root "stocks"
                else
                    None

            match stocks with
            | Some a when a.ValueKind = JsonValueKind.Array && a.GetArrayLength() > 0 ->
                let parsed =
                    a.EnumerateArray() |> Seq.mapi (fun i s -> entry $"stocks[{i}]" s) |> List.ofSeq

                let entries =
                    parsed
                    |> List.choose (function
                        | Ok e -> Some e
                        | Error _ -> None)

                let repeated (key: StockTableEntry -> string) (error: string * int -> StockTableError) =
                    entries
                    |> List.countBy key
                    |> List.filter (fun (_, n) -> n > 1)
                    |> List.map error

                let errors =
                    (parsed
                     |> List.collect (function
                         | Error es -> es
                         | Ok _ -> []))
                    @ repeated (fun e -> Stock.name e.Stock) StockNameRepeated
                    @ repeated (fun e -> e.Reservoir) ReservoirShared

                if List.isEmpty errors then
                    Ok { Entries = entries }
                else
                    Error errors
            | found -> Error [ StockTableWithoutStocks(shown found) ]

    /// The stocks with their reservoirs and volumes, in file order.
    let entries (t: StockTable) : StockTableEntry list = t.Entries

    /// The stocks, in file order.
    let stocks (t: StockTable) : Stock list =
        t.Entries |> List.map (fun e -> e.Stock)
