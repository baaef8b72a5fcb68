namespace Finales.Core

open System
open Finales.Core.Units

/// How an edge is mounted: part of a device (fixed), a loose tube on the shelf (available) or a
/// tube that must not be used (broken).
type EdgeFlexibility =
    | Fixed
    | Available
    | Broken

/// Whether liquid may flow both ways through an edge.
type EdgeRestriction =
    | Directed
    | Undirected

/// One row of edges.csv, with its end points resolved (from edges.csv for fixed edges, from
/// tubing.csv for loose tubing).
type TubingEdge =
    {
        Id: string
        Flexibility: EdgeFlexibility
        Start: string
        End: string
        /// Connector types of the two ends (e.g. "NT"), informational.
        Ends: string
        Length: float<mm>
        Diameter: float<mm>
        DeadVolume: float<mL>
        Restriction: EdgeRestriction
        Status: string
    }

/// An inconsistency in the three graph files; every case names the file, the line and the value.
type GraphError =
    | FileEmpty of file: string
    | MissingColumn of file: string * column: string
    | TooFewFields of file: string * line: int * expected: int * actual: int
    | UnterminatedQuote of file: string * line: int
    | InvalidNumber of file: string * line: int * column: string * value: string
    | InvalidChoice of file: string * line: int * column: string * value: string * allowed: string
    | BlankName of file: string * line: int * column: string
    | DuplicateNode of file: string * line: int * node: string
    | InvalidValvePort of file: string * line: int * node: string
    | DuplicateEdge of file: string * line: int * edge: string
    | UnknownNode of file: string * line: int * column: string * node: string
    | UnknownEdge of file: string * line: int * edge: string
    | FixedEdgeWithoutEnds of file: string * line: int * edge: string
    | LooseEdgeWithEnds of file: string * line: int * edge: string * start: string * finish: string
    | FixedEdgeInTubing of file: string * line: int * edge: string
    | BrokenEdgeInTubing of file: string * line: int * edge: string
    | EdgeConnectedTwice of file: string * line: int * edge: string * firstLine: int
    | SelfLoop of file: string * line: int * edge: string * node: string

/// Messages for graph errors.
[<RequireQualifiedAccess>]
module GraphError =
    /// A message naming the file, line, field and value.
    let message (e: GraphError) : string =
        match e with
        | FileEmpty f -> $"{f}: the file is empty (a header line is required)"
        | MissingColumn(f, c) -> $"{f}: the header has no column '{c}'"
        | TooFewFields(f, l, e, a) -> $"{f} line {l}: {a} fields, expected at least {e}"
        | UnterminatedQuote(f, l) -> $"{f} line {l}: a quoted field is not closed"
        | InvalidNumber(f, l, c, v) -> $"{f} line {l}: {c} is '{v}'; expected a finite number >= 0"
        | InvalidChoice(f, l, c, v, allowed) -> $"{f} line {l}: {c} is '{v}'; expected one of {allowed}"
        | BlankName(f, l, c) -> $"{f} line {l}: {c} is blank"
        | DuplicateNode(f, l, n) -> $"{f} line {l}: node '{n}' is listed twice"
        | InvalidValvePort(f, l, n) ->
            $"{f} line {l}: node '{n}' looks like a valve node but valves have Vn.0 (centre) and ports Vn.1..Vn.10"
        | DuplicateEdge(f, l, e) -> $"{f} line {l}: edge '{e}' is listed twice"
        | UnknownNode(f, l, c, n) -> $"{f} line {l}: {c} '{n}' is not a node of nodes.csv"
        | UnknownEdge(f, l, e) -> $"{f} line {l}: edge '{e}' is not in edges.csv"
        | FixedEdgeWithoutEnds(f, l, e) ->
            $"{f} line {l}: fixed edge '{e}' has start/end 'not_fixed'; fixed edges need their nodes"
        | LooseEdgeWithEnds(f, l, e, s, t) ->
            $"{f} line {l}: edge '{e}' is not fixed but names nodes '{s}' -> '{t}'; loose tubing has start/end 'not_fixed' and is connected in tubing.csv"
        | FixedEdgeInTubing(f, l, e) ->
            $"{f} line {l}: edge '{e}' is fixed in edges.csv and cannot be connected in tubing.csv"
        | BrokenEdgeInTubing(f, l, e) -> $"{f} line {l}: edge '{e}' is marked broken in edges.csv"
        | EdgeConnectedTwice(f, l, e, first) -> $"{f} line {l}: edge '{e}' is already connected on line {first}"
        | SelfLoop(f, l, e, n) -> $"{f} line {l}: edge '{e}' connects node '{n}' to itself"

/// A node of a rotary valve: valve Vn has centre Vn.0 (port 0) and ports Vn.1..Vn.10.
type ValveNode = { Valve: string; Port: int }

/// The tubing graph of the lab robot: nodes and connected edges (fixed edges plus loose tubing
/// connected in tubing.csv). Invariant: every edge's end points are nodes of the graph, node and
/// edge names are unique, valve-like node names are well formed.
type TubingGraph =
    private
        {
            NodeNames: string[]
            NodeIndex: Collections.Generic.Dictionary<string, int>
            Positions: Map<string, string>
            Edges: TubingEdge[]
            /// Outgoing (edge index, target node index) per node.
            Outgoing: (int * int)[][]
        }

/// Parsing the published `;`-separated graph files (possibly with a UTF-8 BOM) and graph queries.
[<RequireQualifiedAccess>]
module TubingGraph =
    /// The marker used in edges.csv for ends that are connected in tubing.csv.
    [<Literal>]
    let NotFixed = "not_fixed"

    /// Split one line on ';' honouring double quotes ("" is an escaped quote).
    let private splitLine (line: string) : string list option =
        let fields = Collections.Generic.List<string>()
        let current = Text.StringBuilder()
        let mutable inQuotes = false
        let mutable i = 0

        while i < line.Length do
            let ch = line[i]

            if inQuotes then
                if ch = '"' then
                    if i + 1 < line.Length && line[i + 1] = '"' then
                        current.Append('"') |> ignore
                        i <- i + 1
                    else
                        inQuotes <- false
                else
                    current.Append(ch) |> ignore
            elif ch = '"' then
                inQuotes <- true
            elif ch = ';' then
                fields.Add(current.ToString().Trim())
                current.Clear() |> ignore
            else
                current.Append(ch) |> ignore

            i <- i + 1

        if inQuotes then
            None
        else
            fields.Add(current.ToString().Trim())
            Some(List.ofSeq fields)

    /// Rows of a file: (1-based line number, column -> value), after the header.
    let private readTable
        (file: string)
        (text: string)
        (required: string list)
        : Result<(int * Map<string, string>) list, GraphError list> =
        let text =
            if obj.ReferenceEquals(text, null) then
                ""
            else
                text.TrimStart('\uFEFF')

        let lines =
            text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n')
            |> Array.mapi (fun i l -> i + 1, l)
            |> Array.filter (fun (_, l) -> not (String.IsNullOrWhiteSpace l))
            |> List.ofArray

        match lines with
        | [] -> Error [ FileEmpty file ]
        | (headerLine, header) :: rows ->
            match splitLine header with
            | None -> Error [ UnterminatedQuote(file, headerLine) ]
            | Some headerFields ->
                // The published files end every line with ';', which adds an unnamed column.
                let columns = headerFields |> List.map (fun h -> h.Trim())
                let missing = required |> List.filter (fun c -> not (List.contains c columns))

                if not (List.isEmpty missing) then
                    Error(missing |> List.map (fun c -> MissingColumn(file, c)))
                else
                    let needed =
                        required
                        |> List.map (fun c -> List.findIndex ((=) c) columns)
                        |> List.max
                        |> (+) 1

                    let parsed =
                        rows
                        |> List.map (fun (n, l) ->
                            match splitLine l with
                            | None -> Error(UnterminatedQuote(file, n))
                            | Some fields when fields.Length < needed ->
                                Error(TooFewFields(file, n, needed, fields.Length))
                            | Some fields ->
                                let values =
                                    columns
                                    |> List.mapi (fun i c -> c, (if i < fields.Length then fields[i] else ""))
                                    |> List.filter (fun (c, _) -> c <> "")
                                    |> Map.ofList

                                Ok(n, values))

                    let errors =
                        parsed
                        |> List.choose (function
                            | Error e -> Some e
                            | Ok _ -> None)

                    if List.isEmpty errors then
                        Ok(
                            parsed
                            |> List.choose (function
                                | Ok r -> Some r
                                | Error _ -> None)
                        )
                    else
                        Error errors

    /// The valve and port of a node named Vn.p (n >= 1 digits, p in 0..10); None otherwise.
    let valveNode (node: string) : ValveNode option =
        if obj.ReferenceEquals(node, null) then
            None
        else
            let dot = node.IndexOf('.')

            if dot < 2 || node[0] <> 'V' then
                None
            else
                let valve = node.Substring(0, dot)
                let port = node.Substring(dot + 1)

                let digits (s: string) =
                    s.Length > 0 && s |> Seq.forall Char.IsAsciiDigit

                if digits (valve.Substring 1) && digits port && port.Length <= 2 then
                    let p = int port
                    if p <= 10 then Some { Valve = valve; Port = p } else None
                else
                    None

    let private looksLikeValveNode (node: string) =
        node.Length > 1
        && node[0] = 'V'
        && Char.IsAsciiDigit node[1]
        && node.Contains('.')

    let private number (file: string) (line: int) (column: string) (value: string) : Result<float, GraphError> =
        match Double.TryParse(value, Globalization.NumberStyles.Float, Globalization.CultureInfo.InvariantCulture) with
        | true, v when not (Double.IsNaN v || Double.IsInfinity v) && v >= 0.0 -> Ok v
        | _ -> Error(InvalidNumber(file, line, column, value))

    /// Build the graph from the contents of nodes.csv, edges.csv and tubing.csv; every
    /// inconsistency is reported.
    let parse (nodesCsv: string) (edgesCsv: string) (tubingCsv: string) : Result<TubingGraph, GraphError list> =
        let nodesFile, edgesFile, tubingFile = "nodes.csv", "edges.csv", "tubing.csv"

        let edgeColumns =
            [ "flexibility"
              "edge"
              "start"
              "end"
              "ends"
              "length"
              "diameter"
              "dead_volume"
              "restriction"
              "status" ]

        let tables =
            readTable nodesFile nodesCsv [ "node" ],
            readTable edgesFile edgesCsv edgeColumns,
            readTable tubingFile tubingCsv [ "start"; "edge"; "end" ]

        match tables with
        | Ok nodeRows, Ok edgeRows, Ok tubingRows ->
            let errors = Collections.Generic.List<GraphError>()
            let nodeIndex = Collections.Generic.Dictionary<string, int>(StringComparer.Ordinal)
            let names = Collections.Generic.List<string>()
            let mutable positions = Map.empty

            for (line, row) in nodeRows do
                let node = row["node"]

                if node = "" then
                    errors.Add(BlankName(nodesFile, line, "node"))
                elif nodeIndex.ContainsKey node then
                    errors.Add(DuplicateNode(nodesFile, line, node))
                elif looksLikeValveNode node && (valveNode node).IsNone then
                    errors.Add(InvalidValvePort(nodesFile, line, node))
                else
                    nodeIndex[node] <- names.Count
                    names.Add node
                    positions <- positions.Add(node, Map.tryFind "position_node" row |> Option.defaultValue "")

            let edgeDefs =
                Collections.Generic.Dictionary<string, int * TubingEdge>(StringComparer.Ordinal)

            let edgeOrder = Collections.Generic.List<string>()

            for (line, row) in edgeRows do
                let id = row["edge"]

                let flexibility =
                    match row["flexibility"].ToLowerInvariant() with
                    | "fixed" -> Ok Fixed
                    | "available" -> Ok Available
                    | "broken" -> Ok Broken
                    | v -> Error(InvalidChoice(edgesFile, line, "flexibility", v, "fixed, available, broken"))

                let restriction =
                    match row["restriction"].ToLowerInvariant() with
                    | "directed" -> Ok Directed
                    | "undirected" -> Ok Undirected
                    | v -> Error(InvalidChoice(edgesFile, line, "restriction", v, "directed, undirected"))

                let length = number edgesFile line "length" row["length"]
                let diameter = number edgesFile line "diameter" row["diameter"]
                let deadVolume = number edgesFile line "dead_volume" row["dead_volume"]
                let start, finish = row["start"], row["end"]

                let lineErrors =
                    [ if id = "" then
                          BlankName(edgesFile, line, "edge")
                      elif edgeDefs.ContainsKey id then
                          DuplicateEdge(edgesFile, line, id)
                      for r in
                          [ flexibility |> Result.map ignore
                            restriction |> Result.map ignore
                            length |> Result.map ignore
                            diameter |> Result.map ignore
                            deadVolume |> Result.map ignore ] do
                          match r with
                          | Error e -> e
                          | Ok() -> ()
                      match flexibility with
                      | Ok Fixed ->
                          if start = NotFixed || finish = NotFixed then
                              FixedEdgeWithoutEnds(edgesFile, line, id)
                          else
                              for (column, node) in [ "start", start; "end", finish ] do
                                  if not (nodeIndex.ContainsKey node) then
                                      UnknownNode(edgesFile, line, column, node)

                              if start = finish then
                                  SelfLoop(edgesFile, line, id, start)
                      | Ok _ when start <> NotFixed || finish <> NotFixed ->
                          LooseEdgeWithEnds(edgesFile, line, id, start, finish)
                      | _ -> () ]

                match lineErrors, flexibility, restriction, length, diameter, deadVolume with
                | [], Ok f, Ok r, Ok l, Ok d, Ok v ->
                    edgeOrder.Add id

                    edgeDefs[id] <-
                        (line,
                         { Id = id
                           Flexibility = f
                           Start = start
                           End = finish
                           Ends = Map.tryFind "ends" row |> Option.defaultValue ""
                           Length = l * 1.0<mm>
                           Diameter = d * 1.0<mm>
                           DeadVolume = v * 1.0<mL>
                           Restriction = r
                           Status = Map.tryFind "status" row |> Option.defaultValue "" })
                | _ -> errors.AddRange lineErrors

            let connected =
                Collections.Generic.Dictionary<string, int * TubingEdge>(StringComparer.Ordinal)

            for (line, row) in tubingRows do
                let id, start, finish = row["edge"], row["start"], row["end"]
                let mutable ok = true

                for (column, node) in [ "start", start; "end", finish ] do
                    if not (nodeIndex.ContainsKey node) then
                        errors.Add(UnknownNode(tubingFile, line, column, node))
                        ok <- false

                if start = finish && ok then
                    errors.Add(SelfLoop(tubingFile, line, id, start))
                    ok <- false

                match edgeDefs.TryGetValue id with
                | false, _ -> errors.Add(UnknownEdge(tubingFile, line, id))
                | true, (_, e) when e.Flexibility = Fixed -> errors.Add(FixedEdgeInTubing(tubingFile, line, id))
                | true, (_, e) when e.Flexibility = Broken -> errors.Add(BrokenEdgeInTubing(tubingFile, line, id))
                | true, (_, e) ->
                    match connected.TryGetValue id with
                    | true, (first, _) -> errors.Add(EdgeConnectedTwice(tubingFile, line, id, first))
                    | _ when ok -> connected[id] <- (line, { e with Start = start; End = finish })
                    | _ -> ()

            if errors.Count > 0 then
                Error(List.ofSeq errors)
            else
                let edges =
                    edgeOrder
                    |> Seq.choose (fun id ->
                        match edgeDefs[id] with
                        | _, e when e.Flexibility = Fixed -> Some e
                        | _ ->
                            match connected.TryGetValue id with
                            | true, (_, e) -> Some e
                            | _ -> None)
                    |> Array.ofSeq

                let outgoing =
                    Array.init names.Count (fun _ -> Collections.Generic.List<int * int>())

                edges
                |> Array.iteri (fun k e ->
                    let s, t = nodeIndex[e.Start], nodeIndex[e.End]
                    outgoing[s].Add((k, t))

                    if e.Restriction = Undirected then
                        outgoing[t].Add((k, s)))

                Ok
                    { NodeNames = names.ToArray()
                      NodeIndex = nodeIndex
                      Positions = positions
                      Edges = edges
                      Outgoing = outgoing |> Array.map (fun l -> l.ToArray()) }
        | a, b, c ->
            let errs =
                function
                | Error e -> e
                | Ok _ -> []

            Error(errs a @ errs b @ errs c)

    /// Node names in file order.
    let nodes (g: TubingGraph) : string list = List.ofArray g.NodeNames

    /// Whether a node exists.
    let hasNode (node: string) (g: TubingGraph) : bool =
        not (obj.ReferenceEquals(node, null)) && g.NodeIndex.ContainsKey node

    /// The position string of a node as given in nodes.csv ("" when absent).
    let position (node: string) (g: TubingGraph) : string =
        Map.tryFind node g.Positions |> Option.defaultValue ""

    /// Connected edges: fixed edges and loose tubing connected in tubing.csv.
    let edges (g: TubingGraph) : TubingEdge list = List.ofArray g.Edges

    /// Internal dense view for the routing search: node names, edges, outgoing (edge, target).
    let internal dense (g: TubingGraph) =
        g.NodeNames, g.NodeIndex, g.Edges, g.Outgoing

    /// Edges along which liquid can flow from `a` to `b` directly.
    let edgesBetween (a: string) (b: string) (g: TubingGraph) : TubingEdge list =
        match g.NodeIndex.TryGetValue a, g.NodeIndex.TryGetValue b with
        | (true, i), (true, j) ->
            g.Outgoing[i]
            |> Array.filter (fun (_, t) -> t = j)
            |> Array.map (fun (k, _) -> g.Edges[k])
            |> List.ofArray
        | _ -> []
