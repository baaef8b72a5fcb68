namespace Finales.Core

open System
open System.Collections.Generic
open Finales.Core.Units

/// What a route minimises.
type RouteWeight =
    | ByDeadVolume
    | ByLength

/// A rotary valve switched to one port (the centre Vn.0 connects to port Vn.Port).
type ValveSetting = { Valve: string; Port: int }

/// A route through the tubing graph.
type Route =
    {
        /// Nodes in flow order, from the start to the end (a node may repeat when via-nodes force it).
        Nodes: string list
        /// The edge taken between consecutive nodes.
        Edges: TubingEdge list
        DeadVolume: float<mL>
        Length: float<mm>
        /// The valve positions the route needs, in flow order.
        ValveSettings: ValveSetting list
    }

/// Why no route was returned.
type RouteError =
    | UnknownRouteNode of role: string * node: string
    | NoPath of from: string * ``to``: string * via: string list
    | EmptyPath
    | NotConnected of from: string * ``to``: string
    | SearchLimitExceeded of from: string * ``to``: string * labels: int

/// Messages for routing errors.
[<RequireQualifiedAccess>]
module RouteError =
    /// A message naming the offending node(s).
    let message (e: RouteError) : string =
        match e with
        | UnknownRouteNode(role, node) -> $"{role} '{node}' is not a node of the graph"
        | NoPath(a, b, []) -> $"no path from '{a}' to '{b}' that touches at most two nodes of any rotary valve"
        | NoPath(a, b, via) ->
            let v = String.Join(", ", via)
            $"no path from '{a}' to '{b}' via {v} that touches at most two nodes of any rotary valve"
        | EmptyPath -> "the path has no nodes"
        | NotConnected(a, b) -> $"no edge leads from '{a}' to '{b}'"
        | SearchLimitExceeded(a, b, n) -> $"the route search from '{a}' to '{b}' gave up after {n} labels"

/// Optimal routes under the valve rule: a route may touch at most two distinct nodes of one rotary
/// valve (the centre and one port: a valve connects one port at a time). The search is Dijkstra over
/// states (node, via-nodes passed, valve nodes touched so far), which is exact: the rule depends
/// only on the set of touched valve nodes, so two partial routes in the same state have the same
/// feasible continuations.
[<RequireQualifiedAccess>]
module Routing =
    /// Whether a node sequence obeys the valve rule.
    let isValid (path: string list) : bool =
        path
        |> List.choose TubingGraph.valveNode
        |> List.distinct
        |> List.countBy (fun v -> v.Valve)
        |> List.forall (fun (_, n) -> n <= 2)

    /// Valve positions a node sequence needs: for each valve whose centre and exactly one port are
    /// touched, that port; in order of first appearance.
    let valveSettings (path: string list) : ValveSetting list =
        let touched = path |> List.choose TubingGraph.valveNode |> List.distinct

        touched
        |> List.map (fun v -> v.Valve)
        |> List.distinct
        |> List.choose (fun valve ->
            let nodes = touched |> List.filter (fun v -> v.Valve = valve)
            let hasCentre = nodes |> List.exists (fun v -> v.Port = 0)

            match nodes |> List.filter (fun v -> v.Port <> 0) with
            | [ port ] when hasCentre -> Some { Valve = valve; Port = port.Port }
            | _ -> None)

    let private weightOf (weight: RouteWeight) (e: TubingEdge) : float =
        match weight with
        | ByDeadVolume -> float e.DeadVolume
        | ByLength -> float e.Length

    let private makeRoute (nodes: string list) (edges: TubingEdge list) : Route =
        { Nodes = nodes
          Edges = edges
          DeadVolume = edges |> List.sumBy (fun e -> e.DeadVolume)
          Length = edges |> List.sumBy (fun e -> e.Length)
          ValveSettings = valveSettings nodes }

    /// A search state: node, number of via-nodes passed, bit set of touched valve nodes.
    [<CustomEquality; NoComparison>]
    type private State =
        { Node: int
          Via: int
          Bits: uint64[]
          Hash: int }

        override s.Equals(o: obj) =
            match o with
            | :? State as t ->
                s.Hash = t.Hash
                && s.Node = t.Node
                && s.Via = t.Via
                && Linq.Enumerable.SequenceEqual(s.Bits, t.Bits)
            | _ -> false

        override s.GetHashCode() = s.Hash

    let private mkState (node: int) (via: int) (bits: uint64[]) : State =
        let mutable h = HashCode()
        h.Add node
        h.Add via

        for b in bits do
            h.Add b

        { Node = node
          Via = via
          Bits = bits
          Hash = h.ToHashCode() }

    /// Largest number of search labels before the search gives up with `SearchLimitExceeded`
    /// (never reached on lab-sized graphs; a guard against pathological inputs).
    [<Literal>]
    let MaxLabels = 2_000_000

    /// Unconstrained shortest distances from every node to `target` (reverse Dijkstra).
    let private distancesTo
        (nodeCount: int)
        (incoming: (int * int)[][])
        (edgeWeight: int -> float)
        (target: int)
        : float[] =
        let dist = Array.create nodeCount Double.PositiveInfinity
        let queue = PriorityQueue<int, float>()
        dist[target] <- 0.0
        queue.Enqueue(target, 0.0)

        while queue.Count > 0 do
            let mutable u = 0
            let mutable du = 0.0

            if queue.TryDequeue(&u, &du) && du <= dist[u] then
                for (k, v) in incoming[u] do
                    let nd = du + edgeWeight k

                    if nd < dist[v] then
                        dist[v] <- nd
                        queue.Enqueue(v, nd)

        dist

    /// The optimal route from `from` to `to` passing the via-nodes in order, under the valve rule.
    /// A* over labels (node, via-nodes passed, touched valve nodes) with the unconstrained
    /// distance to go as the (consistent) heuristic, and dominance pruning: a label is dropped when
    /// a label settled earlier at the same node and via-progress touched a subset of its valve
    /// nodes (every continuation of the dropped label is open to the earlier one, at no more cost).
    let find
        (weight: RouteWeight)
        (from: string)
        (``to``: string)
        (via: string list)
        (graph: TubingGraph)
        : Result<Route, RouteError> =
        let names, index, edges, outgoing = TubingGraph.dense graph

        let lookup role (node: string) =
            match (if obj.ReferenceEquals(node, null) then None else Some node) with
            | Some n when index.ContainsKey n -> Ok index[n]
            | _ -> Error(UnknownRouteNode(role, (if obj.ReferenceEquals(node, null) then "null" else node)))

        let unknown =
            [ yield lookup "from" from
              yield lookup "to" ``to``
              yield! via |> List.mapi (fun i v -> lookup $"via[{i}]" v) ]
            |> List.choose (function
                | Error e -> Some e
                | Ok _ -> None)

        match unknown with
        | e :: _ -> Error e
        | [] ->
            let n = names.Length
            let source = index[from]
            // Targets in order: the via-nodes, then the end.
            let targets =
                Array.append (via |> List.map (fun v -> index[v]) |> Array.ofList) [| index[``to``] |]

            let viaCount = targets.Length - 1
            let edgeWeight k = weightOf weight edges[k]

            let incoming =
                let lists = Array.init n (fun _ -> List<int * int>())

                outgoing
                |> Array.iteri (fun u outs ->
                    for (k, v) in outs do
                        lists[v].Add((k, u)))

                lists |> Array.map (fun l -> l.ToArray())

            // h(node, i) = d(node, target_i) + sum of d(target_j, target_j+1) for j >= i.
            let toTarget = targets |> Array.map (distancesTo n incoming edgeWeight)

            let tail =
                let t = Array.zeroCreate (targets.Length + 1)

                for i in targets.Length - 2 .. -1 .. 0 do
                    t[i] <- t[i + 1] + toTarget[i + 1][targets[i]]

                t

            let heuristic (node: int) (passed: int) = toTarget[passed][node] + tail[passed]

            // Valve nodes get bit positions; valves get masks over those bits.
            let valveOfNode = Array.create n -1
            let bitOfNode = Array.create n -1
            let valveIds = Dictionary<string, int>()
            let mutable nextBit = 0

            names
            |> Array.iteri (fun i name ->
                match TubingGraph.valveNode name with
                | Some v ->
                    let id =
                        match valveIds.TryGetValue v.Valve with
                        | true, id -> id
                        | _ ->
                            let id = valveIds.Count
                            valveIds[v.Valve] <- id
                            id

                    valveOfNode[i] <- id
                    bitOfNode[i] <- nextBit
                    nextBit <- nextBit + 1
                | None -> ())

            let words = max 1 ((nextBit + 63) / 64)
            let masks = Array.init valveIds.Count (fun _ -> Array.zeroCreate<uint64> words)

            for i in 0 .. n - 1 do
                if bitOfNode[i] >= 0 then
                    let b = bitOfNode[i]
                    masks[valveOfNode[i]][b / 64] <- masks[valveOfNode[i]][b / 64] ||| (1UL <<< (b % 64))

            let touchedOfValve (bits: uint64[]) (valve: int) =
                let mutable c = 0

                for w in 0 .. words - 1 do
                    c <- c + Numerics.BitOperations.PopCount(bits[w] &&& masks[valve][w])

                c

            /// Bits after touching node v, or None when that breaks the valve rule.
            let touch (bits: uint64[]) (v: int) : uint64[] option =
                let b = bitOfNode[v]

                if b < 0 then
                    Some bits
                elif bits[b / 64] &&& (1UL <<< (b % 64)) <> 0UL then
                    Some bits
                elif touchedOfValve bits valveOfNode[v] >= 2 then
                    None
                else
                    let copy = Array.copy bits
                    copy[b / 64] <- copy[b / 64] ||| (1UL <<< (b % 64))
                    Some copy

            let isSubset (a: uint64[]) (b: uint64[]) =
                let mutable ok = true
                let mutable w = 0

                while ok && w < words do
                    ok <- a[w] &&& ~~~b[w] = 0UL
                    w <- w + 1

                ok

            let rec advance (passed: int) (node: int) =
                if passed < viaCount && targets[passed] = node then
                    advance (passed + 1) node
                else
                    passed

            // Settled touched-sets per (node, via progress), for dominance.
            let settledSets = Dictionary<struct (int * int), List<uint64[]>>()

            let dominated (s: State) =
                match settledSets.TryGetValue(struct (s.Node, s.Via)) with
                | true, sets -> sets.Exists(fun t -> isSubset t s.Bits)
                | _ -> false

            let best = Dictionary<State, float>()
            let pred = Dictionary<State, struct (State * int)>()
            // Priority: f = g + h, then deeper labels first (larger g), then insertion order.
            let queue = PriorityQueue<State, struct (float * float * int64)>()
            let mutable counter = 0L

            match touch (Array.zeroCreate words) source with
            | None -> Error(NoPath(from, ``to``, via))
            | Some bits0 ->
                let s0 = mkState source (advance 0 source) bits0
                best[s0] <- 0.0
                queue.Enqueue(s0, struct (heuristic s0.Node s0.Via, 0.0, counter))
                let mutable found: State option = None
                let mutable labels = 0

                while found.IsNone && queue.Count > 0 && labels < MaxLabels do
                    let s = queue.Dequeue()
                    let g = best[s]

                    if not (Double.IsInfinity(heuristic s.Node s.Via)) && not (dominated s) then
                        labels <- labels + 1

                        match settledSets.TryGetValue(struct (s.Node, s.Via)) with
                        | true, sets -> sets.Add s.Bits
                        | _ -> settledSets[struct (s.Node, s.Via)] <- List [ s.Bits ]

                        if s.Node = targets[viaCount] && s.Via = viaCount then
                            found <- Some s
                        else
                            for (k, v) in outgoing[s.Node] do
                                match touch s.Bits v with
                                | None -> ()
                                | Some bits ->
                                    let t = mkState v (advance s.Via v) bits
                                    let h = heuristic t.Node t.Via

                                    if not (Double.IsInfinity h) && not (dominated t) then
                                        let ng = g + edgeWeight k

                                        match best.TryGetValue t with
                                        | true, old when old <= ng -> ()
                                        | _ ->
                                            best[t] <- ng
                                            pred[t] <- struct (s, k)
                                            counter <- counter + 1L
                                            queue.Enqueue(t, struct (ng + h, -ng, counter))

                match found with
                | None when labels >= MaxLabels -> Error(SearchLimitExceeded(from, ``to``, MaxLabels))
                | None -> Error(NoPath(from, ``to``, via))
                | Some goalState ->
                    let rec walk (s: State) (nodes: string list) (es: TubingEdge list) =
                        match pred.TryGetValue s with
                        | true, struct (p, k) -> walk p (names[p.Node] :: nodes) (edges[k] :: es)
                        | _ -> nodes, es

                    let nodes, es = walk goalState [ names[goalState.Node] ] []
                    Ok(makeRoute nodes es)

    /// The route along a given node sequence, taking the lightest edge (by `weight`) between
    /// consecutive nodes; errors when two consecutive nodes are not connected.
    let ofNodes (weight: RouteWeight) (path: string list) (graph: TubingGraph) : Result<Route, RouteError> =
        match path with
        | [] -> Error EmptyPath
        | _ ->
            match path |> List.tryFind (fun n -> not (TubingGraph.hasNode n graph)) with
            | Some n -> Error(UnknownRouteNode("path node", n))
            | None ->
                let steps =
                    path
                    |> List.pairwise
                    |> List.map (fun (a, b) ->
                        match TubingGraph.edgesBetween a b graph with
                        | [] -> Error(NotConnected(a, b))
                        | es -> Ok(es |> List.minBy (weightOf weight)))

                Results.all steps |> Result.map (makeRoute path)

    /// Total dead volume along a node sequence (lightest edge between consecutive nodes).
    let deadVolume (path: string list) (graph: TubingGraph) : Result<float<mL>, RouteError> =
        ofNodes ByDeadVolume path graph |> Result.map (fun r -> r.DeadVolume)
