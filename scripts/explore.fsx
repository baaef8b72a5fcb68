// Explore the science core from F# Interactive. Build first:
//   dotnet build core/Finales.Core -c Release
// then run from the repository root:  dotnet fsi scripts/explore.fsx
#r "../artifacts/bin/Finales.Core/release/Finales.Core.dll"

open System.IO
open Finales.Core
open Finales.Core.Units

let orFail label r =
    match r with
    | Ok v -> v
    | Error e -> failwithf "%s: %A" label e

// --- Mixing: the 2022 demonstration stocks (per litre: 1 M LiPF6 + solvent by mass) -------------
let stock1M name (density: float) solvents =
    let total = 1000.0 * density
    let salt = float (Chemical.molarMass LiPF6)
    Stock.create name ((LiPF6, salt * 1.0<g>) :: [ for (c, w) in solvents -> c, w * (total - salt) * 1.0<g> ]) None (density * 1.0<g / cm^3>)
    |> orFail name

let stocks =
    [ stock1M "LP30" 1.2879 [ EC, 0.5; DMC, 0.5 ]
      Stock.create "DMC" [ (DMC, 1063.5<g>) ] None 1.0635<g / cm^3> |> orFail "DMC"
      stock1M "LP57" 1.1964 [ EC, 0.3; EMC, 0.7 ]
      Stock.create "EC:EMC 3:7" [ EC, 330.39<g>; EMC, 770.91<g> ] None 1.1013<g / cm^3> |> orFail "EC:EMC" ]

let plan = Mixing.prepare stocks |> orFail "stocks"
let target = MixingTarget.parse [ "LiPF6", 0.1; "EC", 0.3; "EMC", 0.3; "DMC", 0.3 ] |> orFail "target"
let mix = Mixing.solve plan target

printfn "== Mix (target above any stock's salt content) =="
for (name, x) in mix.VolumeFractions do printfn "  %-12s volume fraction %.4f" name x
for KeyValue(c, v) in mix.Achieved do printfn "  %-6s requested %.4f achieved %.4f" (Chemical.name c) mix.Requested[c] v
printfn "  deviation %.6f" mix.Deviation
printfn "  reachable maxima: %A" (Mixing.maximumFractions plan |> Map.toList |> List.map (fun (c, v) -> Chemical.name c, System.Math.Round(v, 4)))

// --- Route on the ASAB-like fixture graph ------------------------------------------------------
let dir = Path.Combine(__SOURCE_DIRECTORY__, "..", "tests", "fixtures", "asab-graph")
let read f = File.ReadAllText(Path.Combine(dir, f))
let graph = TubingGraph.parse (read "nodes.csv") (read "edges.csv") (read "tubing.csv") |> orFail "graph"
let route = Routing.find ByDeadVolume "A0.0" "waste_1" [ "densiViscoIN" ] graph |> orFail "route"

printfn "\n== Route A0.0 -> waste_1 via densiViscoIN =="
printfn "  %s" (String.concat " -> " route.Nodes)
printfn "  dead volume %.4f mL, length %.1f mm" (float route.DeadVolume) (float route.Length)
printfn "  valves: %s" (route.ValveSettings |> List.map (fun s -> $"{s.Valve}->{s.Port}") |> String.concat ", ")

match Routing.find ByDeadVolume "Reservoir1" "waste_1" [] graph with
| Error e -> printfn "  Reservoir1 -> waste_1: %s" (RouteError.message e)
| Ok r -> printfn "  Reservoir1 -> waste_1: %A" r.Nodes

// --- Conductivity: low-fidelity model and virtual electrolyte ------------------------------------
let f = Formulation.parse MolePerMole [ "LiPF6", 0.1; "EC", 0.45; "PC", 0.45 ] |> orFail "formulation"
let low = ConductivityPolynomial.estimate f 298.15<K> |> orFail "conductivity"
let truth = VirtualElectrolyte.properties f 298.15<K> |> orFail "electrolyte"
let measured, _ = VirtualElectrolyte.measure (Rng.create 42UL) f 298.15<K> |> orFail "measurement"

printfn "\n== LiPF6/EC/PC 0.1/0.45/0.45 at 298.15 K =="
printfn "  polynomial model: %.4f S/m (rating %d, in domain %b)" (float low.Conductivity) low.Rating low.InDomain
printfn "  virtual electrolyte: %.4f g/cm3, %.3f mPa s, %.4f S/m" (float truth.Density) (float truth.Viscosity) (float truth.Conductivity)
printfn "  seeded measurement (seed 42): %.4f g/cm3, %.3f mPa s, %.4f S/m" (float measured.Density) (float measured.Viscosity) (float measured.Conductivity)
