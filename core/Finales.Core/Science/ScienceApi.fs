namespace Finales.Core

open System
open System.Collections.Generic
open Finales.Core.Units

/// Thrown by the C#-facing science facade when input is invalid or there is no result (e.g. no
/// path); the message names the field and the value.
type ScienceException(message: string) =
    inherit Exception(message)

/// A stock solution as C# callers give it: component masses (g) keyed by chemical name, SMILES or
/// InChIKey; total mass (g, null = sum of the masses) and density (g/cm3).
[<AllowNullLiteral>]
type StockInput
    (
        name: string,
        densityGramsPerCubicCentimeter: float,
        massesGrams: IReadOnlyDictionary<string, float>,
        totalMassGrams: Nullable<float>
    ) =
    /// A stock whose total mass is the sum of its component masses.
    new(name: string, densityGramsPerCubicCentimeter: float, massesGrams: IReadOnlyDictionary<string, float>) =
        StockInput(name, densityGramsPerCubicCentimeter, massesGrams, Nullable())

    /// Stock name (unique within a mixing problem).
    member _.Name = name
    /// Measured density in g/cm3.
    member _.DensityGramsPerCubicCentimeter = densityGramsPerCubicCentimeter
    /// Component masses in g.
    member _.MassesGrams = massesGrams
    /// Total mass in g, or null for the sum of the component masses.
    member _.TotalMassGrams = totalMassGrams

/// The result of a mixing solve: volume fractions per stock (in the given order), achieved and
/// requested mole fractions per chemical name, and the Euclidean deviation.
type MixOutput =
    { VolumeFractions: IReadOnlyList<KeyValuePair<string, float>>
      Requested: IReadOnlyDictionary<string, float>
      Achieved: IReadOnlyDictionary<string, float>
      Deviation: float }

/// Virtual-electrolyte properties with their units in the names.
type ElectrolyteOutput =
    { TemperatureKelvin: float
      DensityGramsPerCubicCentimeter: float
      ViscosityMillipascalSeconds: float
      ConductivitySiemensPerMeter: float
      SaltMolarityMolesPerLiter: float
      SaltMolalityMolesPerKilogram: float }

/// Low-fidelity conductivity with its rating (3 in the training domain, 1 extrapolated).
type ConductivityOutput =
    { ConductivitySiemensPerMeter: float
      Rating: int
      InDomain: bool
      MassRatioPC: float
      MassRatioLiPF6: float }

/// A route with its dead volume, length and valve settings.
type RouteOutput =
    { Nodes: IReadOnlyList<string>
      Edges: IReadOnlyList<string>
      DeadVolumeMilliliters: float
      LengthMillimeters: float
      ValveSettings: IReadOnlyList<ValveSetting> }

/// One row of the chemicals table, C#-friendly.
type ChemicalInfo =
    { Name: string
      Smiles: string
      InChIKey: string
      MolarMassGramsPerMole: float
      DensityGramsPerCubicCentimeter: float }

module internal Facade =
    let fail (messages: string seq) : 'a =
        raise (ScienceException(String.Join("; ", messages)))

    let orFail (message: 'e -> string) (r: Result<'a, 'e list>) : 'a =
        match r with
        | Ok v -> v
        | Error es -> fail (es |> List.map message)

    let orFail1 (message: 'e -> string) (r: Result<'a, 'e>) : 'a =
        match r with
        | Ok v -> v
        | Error e -> fail [ message e ]

    let pairs (d: IReadOnlyDictionary<string, float>) : (string * float) list =
        d |> Seq.map (fun kv -> kv.Key, kv.Value) |> List.ofSeq

    let byName (m: Map<Chemical, float>) : IReadOnlyDictionary<string, float> =
        let d = Dictionary<string, float>()

        for KeyValue(c, v) in m do
            d[Chemical.name c] <- v

        d :> IReadOnlyDictionary<string, float>

    let formulation (d: IReadOnlyDictionary<string, float>) : Formulation =
        if obj.ReferenceEquals(d, null) then
            nullArg "formulation"

        Formulation.parse MolePerMole (pairs d) |> orFail FormulationError.message

    let mixOutput (r: MixingResult) : MixOutput =
        { VolumeFractions =
            r.VolumeFractions |> List.map (fun (n, v) -> KeyValuePair(n, v)) |> ResizeArray :> IReadOnlyList<_>
          Requested = byName r.Requested
          Achieved = byName r.Achieved
          Deviation = r.Deviation }

    let electrolyteOutput (p: ElectrolyteProperties) : ElectrolyteOutput =
        { TemperatureKelvin = float p.Temperature
          DensityGramsPerCubicCentimeter = float p.Density
          ViscosityMillipascalSeconds = float p.Viscosity
          ConductivitySiemensPerMeter = float p.Conductivity
          SaltMolarityMolesPerLiter = float p.SaltMolarity
          SaltMolalityMolesPerKilogram = float p.SaltMolality }

/// Stocks validated and prepared for repeated mixing (the lab tenant keeps one per stock set).
[<Sealed>]
type MixingPlan internal (set: StockSet) =
    /// Stock names in the given order.
    member _.StockNames: IReadOnlyList<string> =
        Mixing.stocks set |> List.map Stock.name |> ResizeArray :> IReadOnlyList<_>

    /// The closest accessible formulation to a target (mole fractions keyed by name, SMILES or
    /// InChIKey; need not sum exactly to 1). Throws ScienceException for an invalid target.
    member _.Solve(target: IReadOnlyDictionary<string, float>) : MixOutput =
        if obj.ReferenceEquals(target, null) then
            nullArg "target"

        let t =
            MixingTarget.parse (Facade.pairs target) |> Facade.orFail MixingError.message

        Mixing.solve set t |> Facade.mixOutput

    /// Largest reachable mole fraction of each chemical (the tenant's limitations).
    member _.MaximumFractions: IReadOnlyDictionary<string, float> =
        Mixing.maximumFractions set |> Facade.byName

    /// Fraction of each chemical in the projection of the pure chemical onto the accessible hull.
    member _.PureProjectionFractions: IReadOnlyDictionary<string, float> =
        Mixing.pureProjectionFractions set |> Facade.byName

/// One stock of a stock table, C#-friendly: masses in g keyed by canonical chemical name (table order).
type StockInfo =
    {
        Name: string
        Reservoir: string
        DensityGramsPerCubicCentimeter: float
        MassesGrams: IReadOnlyDictionary<string, float>
        /// The given total mass, else the sum of the masses.
        TotalMassGrams: float
        VolumeMilliliters: float
    }

/// A parsed stock table (see `ScienceApi.ParseStockTable`) with its mixing plan.
[<Sealed>]
type StockTableInfo internal (table: StockTable, set: StockSet) =
    let info (e: StockTableEntry) : StockInfo =
        let masses = Dictionary<string, float>()

        for KeyValue(c, m) in Stock.masses e.Stock do
            masses[Chemical.name c] <- float m

        { Name = Stock.name e.Stock
          Reservoir = e.Reservoir
          DensityGramsPerCubicCentimeter = float (Stock.density e.Stock)
          MassesGrams = masses
          TotalMassGrams = float (Stock.totalMass e.Stock)
          VolumeMilliliters = float e.Volume }

    let stocks =
        StockTable.entries table |> List.map info |> ResizeArray :> IReadOnlyList<_>

    /// The stocks in file order.
    member _.Stocks: IReadOnlyList<StockInfo> = stocks

    /// The stocks as mixing inputs (total mass given), in file order.
    member _.StockInputs: IReadOnlyList<StockInput> =
        stocks
        |> Seq.map (fun s ->
            StockInput(s.Name, s.DensityGramsPerCubicCentimeter, s.MassesGrams, Nullable s.TotalMassGrams))
        |> ResizeArray
        :> IReadOnlyList<_>

    /// The stocks prepared for mixing.
    member _.Plan: MixingPlan = MixingPlan set

/// One group of the observation join: the point key and that point's items, in their given order.
type PointGroup<'T> =
    { Key: string
      Items: IReadOnlyList<'T> }

/// A parsed tubing graph for route searches.
[<Sealed>]
type RouteGraph internal (graph: TubingGraph) =
    let output (r: Route) : RouteOutput =
        { Nodes = r.Nodes |> ResizeArray :> IReadOnlyList<_>
          Edges = r.Edges |> List.map (fun e -> e.Id) |> ResizeArray :> IReadOnlyList<_>
          DeadVolumeMilliliters = float r.DeadVolume
          LengthMillimeters = float r.Length
          ValveSettings = r.ValveSettings |> ResizeArray :> IReadOnlyList<_> }

    /// Parse the contents of nodes.csv, edges.csv and tubing.csv; throws ScienceException listing
    /// every inconsistency.
    static member Parse(nodesCsv: string, edgesCsv: string, tubingCsv: string) : RouteGraph =
        if obj.ReferenceEquals(nodesCsv, null) then
            nullArg "nodesCsv"

        if obj.ReferenceEquals(edgesCsv, null) then
            nullArg "edgesCsv"

        if obj.ReferenceEquals(tubingCsv, null) then
            nullArg "tubingCsv"

        TubingGraph.parse nodesCsv edgesCsv tubingCsv
        |> Facade.orFail GraphError.message
        |> RouteGraph

    /// Node names in file order.
    member _.Nodes: IReadOnlyList<string> =
        TubingGraph.nodes graph |> ResizeArray :> IReadOnlyList<_>

    /// The optimal route under the valve rule, minimising dead volume (or length when byLength);
    /// `via` may be null or empty. Throws ScienceException when a node is unknown or no path exists.
    member _.FindRoute(from: string, ``to``: string, via: IReadOnlyList<string> | null, byLength: bool) : RouteOutput =
        let via =
            match via with
            | null -> []
            | v -> List.ofSeq v

        let weight = if byLength then ByLength else ByDeadVolume

        Routing.find weight from ``to`` via graph
        |> Facade.orFail1 RouteError.message
        |> output

    /// The route with the least dead volume, without via-nodes.
    member this.FindRoute(from: string, ``to``: string) : RouteOutput =
        this.FindRoute(from, ``to``, null, false)

    /// Total dead volume (mL) along a node sequence.
    member _.DeadVolumeMilliliters(path: IReadOnlyList<string>) : float =
        if obj.ReferenceEquals(path, null) then
            nullArg "path"

        Routing.deadVolume (List.ofSeq path) graph
        |> Facade.orFail1 RouteError.message
        |> float

    /// The valve positions a node sequence needs.
    member _.ValveSettings(path: IReadOnlyList<string>) : IReadOnlyList<ValveSetting> =
        if obj.ReferenceEquals(path, null) then
            nullArg "path"

        Routing.valveSettings (List.ofSeq path) |> ResizeArray :> IReadOnlyList<_>

/// A seeded standard-normal source for noisy measurements (mutable, for C# callers).
[<Sealed>]
type SeededNoise(seed: uint64) =
    let mutable rng = Rng.create seed

    /// The next standard-normal draw.
    member _.NextStandardNormal() : float =
        let z, next = Rng.nextNormal rng
        rng <- next
        z

/// The C#-facing facade of the science core. Every method throws ScienceException with a message
/// naming the field and value on invalid input.
[<AbstractClass; Sealed>]
type ScienceApi =
    static member private Info(c: Chemical) : ChemicalInfo =
        let d = Chemical.data c

        { Name = d.Name
          Smiles = d.Smiles
          InChIKey = d.InChIKey
          MolarMassGramsPerMole = float d.MolarMass
          DensityGramsPerCubicCentimeter = float d.Density25 }

    /// Look up a chemical by name, SMILES or InChIKey; throws ScienceException naming the key and the known chemicals
    /// (for keys the caller's own configuration names; use TryFindChemical for keys from requests).
    static member FindChemical(key: string) : ChemicalInfo =
        Chemical.find key |> Facade.orFail1 id |> ScienceApi.Info

    /// Look up a chemical by name, SMILES or InChIKey: false (and `chemical` null) when the core does not know it.
    static member TryFindChemical
        (
            key: string,
            [<System.Runtime.InteropServices.Out; System.Diagnostics.CodeAnalysis.NotNullWhen(true)>] chemical:
                byref<ChemicalInfo>
        ) : bool =
        match Chemical.tryFind key with
        | Some c ->
            chemical <- ScienceApi.Info c
            true
        | None ->
            chemical <- Unchecked.defaultof<ChemicalInfo>
            false

    /// Validate stocks and prepare them for repeated mixing.
    static member PrepareStocks(stocks: IReadOnlyList<StockInput>) : MixingPlan =
        if obj.ReferenceEquals(stocks, null) then
            nullArg "stocks"

        let parsed =
            stocks
            |> Seq.mapi (fun i s ->
                if obj.ReferenceEquals(s, null) then
                    Error [ StockNameMissing i ]
                else
                    let masses =
                        if obj.ReferenceEquals(s.MassesGrams, null) then
                            []
                        else
                            Facade.pairs s.MassesGrams

                    let total =
                        if s.TotalMassGrams.HasValue then
                            Some s.TotalMassGrams.Value
                        else
                            None

                    Stock.parse s.Name masses total s.DensityGramsPerCubicCentimeter
                    |> Result.mapError (
                        List.map (function
                            | StockNameMissing _ -> StockNameMissing i
                            | e -> e)
                    ))
            |> List.ofSeq

        let errors =
            parsed
            |> List.collect (function
                | Error e -> e
                | Ok _ -> [])

        if not (List.isEmpty errors) then
            Facade.fail (errors |> List.map MixingError.message)
        else
            parsed
            |> List.choose (function
                | Ok s -> Some s
                | Error _ -> None)
            |> Mixing.prepare
            |> Facade.orFail MixingError.message
            |> MixingPlan

    /// Parse a stock table (the contents of a stocks file, e.g. tenants/Finales.Tenants.Asab/stocks-2022.json;
    /// format in `StockTable.parse`) and prepare it for mixing. Throws ScienceException
    /// "stocks file {source}: ..." listing every problem with its field and value.
    static member ParseStockTable(json: string, source: string) : StockTableInfo =
        if obj.ReferenceEquals(json, null) then
            nullArg "json"

        let problems (messages: string list) =
            raise (ScienceException($"stocks file {source}: " + String.Join("; ", messages)))

        match StockTable.parse json with
        | Error es -> problems (es |> List.map StockTableError.message)
        | Ok table ->
            match Mixing.prepare (StockTable.stocks table) with
            | Error es -> problems (es |> List.map MixingError.message)
            | Ok set -> StockTableInfo(table, set)

    /// The point key of a formulation (fractions keyed by name, SMILES or InChIKey) at a temperature: chemicals
    /// by canonical key (InChIKey of a known chemical, else the key as written), fractions rounded to
    /// `fractionDigits` decimals, the temperature to `temperatureDigits`, midpoints away from zero; chemicals
    /// named twice add up, zero fractions and the order of entries do not count. Text "key=x;...;@T".
    static member PointKey
        (
            fractions: IReadOnlyDictionary<string, float>,
            temperatureKelvin: float,
            fractionDigits: int,
            temperatureDigits: int
        ) : string =
        if obj.ReferenceEquals(fractions, null) then
            nullArg "fractions"

        PointKey.create
            { FractionDigits = fractionDigits
              TemperatureDigits = temperatureDigits }
            (Facade.pairs fractions)
            temperatureKelvin
        |> PointKey.value

    /// The observation join: items grouped by the point key (see `PointKey`) of their formulation and
    /// temperature, groups in the order of their first item.
    static member JoinByPoint<'T>
        (
            items: IEnumerable<'T>,
            formulation: Func<'T, IReadOnlyDictionary<string, float>>,
            temperatureKelvin: Func<'T, float>,
            fractionDigits: int,
            temperatureDigits: int
        ) : IReadOnlyList<PointGroup<'T>> =
        if obj.ReferenceEquals(items, null) then
            nullArg "items"

        if obj.ReferenceEquals(formulation, null) then
            nullArg "formulation"

        if obj.ReferenceEquals(temperatureKelvin, null) then
            nullArg "temperatureKelvin"

        let rule =
            { FractionDigits = fractionDigits
              TemperatureDigits = temperatureDigits }

        items
        |> PointKey.join (fun item ->
            PointKey.create rule (Facade.pairs (formulation.Invoke item)) (temperatureKelvin.Invoke item))
        |> List.map (fun (k, group) ->
            { Key = PointKey.value k
              Items = ResizeArray group :> IReadOnlyList<_> })
        |> ResizeArray
        :> IReadOnlyList<_>

    /// Mix once: prepare the stocks and solve for the target.
    static member Mix(stocks: IReadOnlyList<StockInput>, target: IReadOnlyDictionary<string, float>) : MixOutput =
        ScienceApi.PrepareStocks(stocks).Solve(target)

    /// Parse a tubing graph from the contents of its three files.
    static member LoadGraph(nodesCsv: string, edgesCsv: string, tubingCsv: string) : RouteGraph =
        RouteGraph.Parse(nodesCsv, edgesCsv, tubingCsv)

    /// True density, viscosity and conductivity of the virtual electrolyte (mole fractions by
    /// chemical name, SMILES or InChIKey, summing to 1 within 1e-6).
    static member Electrolyte
        (formulation: IReadOnlyDictionary<string, float>, temperatureKelvin: float)
        : ElectrolyteOutput =
        let f = Facade.formulation formulation

        VirtualElectrolyte.properties f (temperatureKelvin * 1.0<K>)
        |> Facade.orFail1 ElectrolyteError.message
        |> Facade.electrolyteOutput

    /// A noisy measurement of the virtual electrolyte; `standardNormal` supplies the noise
    /// (e.g. `new SeededNoise(42).NextStandardNormal`).
    static member MeasureElectrolyte
        (formulation: IReadOnlyDictionary<string, float>, temperatureKelvin: float, standardNormal: Func<float>)
        : ElectrolyteOutput =
        if obj.ReferenceEquals(standardNormal, null) then
            nullArg "standardNormal"

        let f = Facade.formulation formulation

        VirtualElectrolyte.measureWith (fun () -> standardNormal.Invoke()) f (temperatureKelvin * 1.0<K>)
        |> Facade.orFail1 ElectrolyteError.message
        |> Facade.electrolyteOutput

    /// Low-fidelity conductivity (domain.md section 6) with its rating.
    static member Conductivity
        (formulation: IReadOnlyDictionary<string, float>, temperatureKelvin: float)
        : ConductivityOutput =
        let f = Facade.formulation formulation

        let e =
            ConductivityPolynomial.estimate f (temperatureKelvin * 1.0<K>)
            |> Facade.orFail1 ConductivityError.message

        { ConductivitySiemensPerMeter = float e.Conductivity
          Rating = e.Rating
          InDomain = e.InDomain
          MassRatioPC = e.MassRatioPC
          MassRatioLiPF6 = e.MassRatioLiPF6 }
