module Finales.Core.Tests.StockTableTests

open System.Globalization
open System.IO
open Expecto
open Finales.Core
open Finales.Core.Units
open Finales.Core.Tests.Arbitraries

/// The platform's one 2022 stock table (the data file the ASAB tenant, the demo cell and `bench science` read).
let private file2022 =
    Path.Combine(Finales.Tests.RepoData.root, "tenants", "Finales.Tenants.Asab", "stocks-2022.json")

let private exact = { absolute = 0.0; relative = 0.0 }

let private parse (json: string) : Result<StockTable, string list> =
    StockTable.parse json |> Result.mapError (List.map StockTableError.message)

/// A stocks file written from stocks (reservoirs R1.., 100 mL each), numbers in round-trip format.
let private write (stocks: Stock list) : string =
    let r (v: float) =
        v.ToString("R", CultureInfo.InvariantCulture)

    let stock (i: int) (s: Stock) =
        let masses =
            Stock.masses s
            |> Map.toList
            |> List.map (fun (c, m) -> $"\"{Chemical.name c}\": {r (float m)}")
            |> String.concat ", "

        $"{{\"name\": \"{Stock.name s}\", \"reservoir\": \"R{i + 1}\", \"density\": {r (float (Stock.density s))}, \"masses\": {{{masses}}}, \"total_mass\": {r (float (Stock.totalMass s))}, \"volume_ml\": 100}}"

    "{\"stocks\": [" + (stocks |> List.mapi stock |> String.concat ", ") + "]}"

[<Tests>]
let tests =
    testList
        "StockTable"
        [ test "the 2022 table parses to LP30, LP57, EC:EMC 3:7 and DMC with the file's numbers" {
              let table = parse (File.ReadAllText file2022) |> TestData.okOr "stocks-2022.json"

              let rows =
                  StockTable.entries table
                  |> List.map (fun e ->
                      Stock.name e.Stock,
                      e.Reservoir,
                      float (Stock.density e.Stock),
                      Stock.masses e.Stock
                      |> Map.toList
                      |> List.map (fun (c, m) -> Chemical.name c, float m),
                      float (Stock.totalMass e.Stock),
                      float e.Volume)

              // Per litre of stock: 1 M LiPF6 (151.905 g) and m_solvent = 1000 rho - 151.905 g by solvent mass ratio.
              let expected =
                  [ "LP30", "Reservoir1", 1.2879, [ "LiPF6", 151.905; "EC", 567.9975; "DMC", 567.9975 ], 1287.9, 100.0
                    "LP57", "Reservoir2", 1.1964, [ "LiPF6", 151.905; "EC", 313.3485; "EMC", 731.1465 ], 1196.4, 100.0
                    "EC:EMC 3:7", "Reservoir3", 1.1013, [ "EC", 330.39; "EMC", 770.91 ], 1101.3, 100.0
                    "DMC", "Reservoir4", 1.0635, [ "DMC", 1063.5 ], 1063.5, 100.0 ]

              Expect.equal
                  (rows |> List.map (fun (n, r, _, ms, _, _) -> n, r, List.map fst ms))
                  (expected |> List.map (fun (n, r, _, ms, _, _) -> n, r, List.map fst ms))
                  "names, reservoirs and chemicals in file order"

              for (n, _, d, ms, t, v), (_, _, d', ms', t', v') in List.zip rows expected do
                  Expect.floatClose exact d d' $"density of {n}"
                  Expect.floatClose exact t t' $"total mass of {n}"
                  Expect.floatClose exact v v' $"volume of {n}"

                  for (c, m), (_, m') in List.zip ms ms' do
                      Expect.floatClose exact m m' $"mass of {c} in {n}"
          }

          test "the C# facade gives the same table with its mixing plan" {
              let info = ScienceApi.ParseStockTable(File.ReadAllText file2022, file2022)

              Expect.sequenceEqual
                  (info.Stocks |> Seq.map (fun s -> s.Name))
                  [ "LP30"; "LP57"; "EC:EMC 3:7"; "DMC" ]
                  "stock names"

              Expect.floatClose exact info.Stocks[0].MassesGrams["EC"] 567.9975 "EC in LP30, g"
              Expect.floatClose exact info.StockInputs[0].TotalMassGrams.Value 1287.9 "total mass of LP30, g"
              Expect.sequenceEqual info.Plan.StockNames [ "LP30"; "LP57"; "EC:EMC 3:7"; "DMC" ] "plan stocks"
          }

          test "chemicals are accepted by name, SMILES or InChIKey and one named twice counts with both masses" {
              let json =
                  """{"stocks": [{"name": "A", "reservoir": "R1", "density": 1.2, "volume_ml": 5,
                                  "masses": {"EC": 1, "C1COC(=O)O1": 2, "IEJIGPNLZYLLBP-UHFFFAOYSA-N": 3}}]}"""

              let table = parse json |> TestData.okOr "table"
              let stock = (StockTable.stocks table).Head
              Expect.equal (Stock.masses stock) (Map.ofList [ EC, 3.0<g>; DMC, 3.0<g> ]) "masses by chemical"
              Expect.floatClose exact (float (Stock.totalMass stock)) 6.0 "total mass defaults to the sum"
          }

          test "every problem of a table is reported with its field and value" {
              let json =
                  """{"stocks": [
                       {"name": "", "reservoir": "R1", "density": -1, "masses": {"XY": 1}, "volume_ml": 10},
                       {"name": "B", "reservoir": "R2", "density": 1, "masses": {"EC": -2}, "volume_ml": "lots"},
                       {"name": "C", "reservoir": "R3", "density": 1, "masses": {"EC": 10}, "total_mass": 5, "volume_ml": 1},
                       {"name": "D", "reservoir": "R4", "density": 1, "masses": {"EC": 1}, "volume_ml": 1},
                       {"name": "D", "reservoir": "R4", "density": 1, "masses": {"EC": 1}, "volume_ml": 1}]}"""

              match parse json with
              | Ok _ -> failtest "the table is invalid"
              | Error messages ->
                  let all = String.concat "\n" messages

                  for expected in
                      [ "stocks[0].name is \"\"; expected a non-empty string"
                        "stocks[0].density is -1; it must be > 0"
                        "stocks[0].masses: unknown chemical 'XY'"
                        "stocks[1].masses.EC is -2; expected grams >= 0"
                        "stocks[1].volume_ml is \"lots\"; expected a number"
                        "stocks[2].total_mass is 5 g, less than the sum of its masses (10 g)"
                        "stock name 'D' appears 2 times"
                        "reservoir 'R4' holds 2 stocks" ] do
                      Expect.stringContains all expected "problem reported"
          }

          test "a document that is not a table names what it found" {
              for json, expected in
                  [ "{", "not JSON"
                    "[]", "'stocks' is missing; it must be a non-empty list"
                    """{"stocks": []}""", "'stocks' is []; it must be a non-empty list" ] do
                  match parse json with
                  | Ok _ -> failtest $"{json} is not a table"
                  | Error messages -> Expect.stringContains (String.concat "; " messages) expected json
          }

          testPropertyWithConfig
              config
              "a table written from valid stocks parses back to the same stocks"
              (fun (p: MixingProblem) ->
                  let table = parse (write p.Stocks) |> TestData.okOr "written table"
                  let back = StockTable.stocks table

                  Expect.equal (back |> List.map Stock.name) (p.Stocks |> List.map Stock.name) "names"
                  Expect.equal (back |> List.map Stock.masses) (p.Stocks |> List.map Stock.masses) "masses"
                  Expect.equal (back |> List.map Stock.totalMass) (p.Stocks |> List.map Stock.totalMass) "total masses"
                  Expect.equal (back |> List.map Stock.density) (p.Stocks |> List.map Stock.density) "densities") ]
