using System.CommandLine;
using System.Diagnostics;
using Finales.Core;

namespace Finales.Cli;

/// <summary>`finales bench science`: mixing solves/s and route searches/s.</summary>
internal static class BenchScience
{
    public static FinalesCommand Create()
    {
        var seconds = Opt.Number("--seconds", "measuring time per benchmark", 2, 0.001, 600, "S");
        var graph = Opt.Text("--graph", "tubing graph of the route searches (default: the bundled copy of tests/fixtures/asab-graph)", "DIR");
        var command = new FinalesCommand("science", "stock-mixing solves/s and route searches/s")
        {
            Errors = ErrorStyle.IndentedJson,
            Notes = """
                Measures, for S seconds each (default 2): exact mixing solves per second for 4 stocks x 5
                chemicals (3 of the bundled 2022 stocks and PC:DMC 1:1) with seeded random targets (through the
                C# facade), and optimal route searches per
                second on the fixture graph (default: the bundled copy of tests/fixtures/asab-graph). Prints JSON.
                """,
            Examples = ["./finales bench science --seconds 2"],
        };
        command.Options.Add(seconds);
        command.Options.Add(graph);
        command.SetAction(parse => Run(parse.GetValue(seconds), parse.GetValue(graph) ?? BundledData.AsabGraphDirectory));
        return command;
    }

    private static int Run(double seconds, string graphDir)
    {
        // The 2022 stocks of the shipped stock table except pure DMC, plus a PC:DMC stock so all 5 chemicals occur.
        var stocks = Finales.Tenants.Asab.StockSet.Load(BundledData.AsabStocksFile).Inputs.Where(s => s.Name != "DMC").ToList();
        stocks.Add(new("PC:DMC 1:1", 1.13, new Dictionary<string, double> { ["PC"] = 565.0, ["DMC"] = 565.0 }));
        var plan = ScienceApi.PrepareStocks(stocks);
        var names = new[] { "LiPF6", "EC", "EMC", "DMC", "PC" };
        var random = new Random(2026);
        var targets = Enumerable.Range(0, 1024).Select(_ =>
        {
            var raw = names.Select(_ => -Math.Log(1.0 - random.NextDouble())).ToArray();
            var sum = raw.Sum();
            return (IReadOnlyDictionary<string, double>)names.Zip(raw).ToDictionary(p => p.First, p => p.Second / sum);
        }).ToArray();

        var sink = 0.0;
        var (mixCount, mixSeconds) = Measure(seconds, i => sink += plan.Solve(targets[i % targets.Length]).Deviation);

        var graph = RouteCommand.LoadGraph(graphDir);
        var queries = new (string From, string To, string[] Via)[]
        {
            ("Reservoir1", "A0.0", []), ("Reservoir4", "D0.0", []), ("A0.0", "M1.0", []), ("F0.0", "M1.0", []),
            ("M1.0", "densiViscoIN", []), ("densiViscoOUT", "waste_1", []), ("pressurizedGas", "densiViscoIN", []),
            ("A0.0", "waste_1", ["densiViscoIN"]),
        };
        var (routeCount, routeSeconds) = Measure(seconds, i =>
        {
            var q = queries[i % queries.Length];
            sink += graph.FindRoute(q.From, q.To, q.Via, false).DeadVolumeMilliliters;
        });

        ScienceIo.WriteJson(w =>
        {
            w.WriteStartObject();
            w.WriteString("machine", $"{Environment.ProcessorCount} logical cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}");
            w.WriteNumber("mixing_solves_per_second", Math.Round(mixCount / mixSeconds));
            w.WriteNumber("mixing_microseconds_per_solve", Math.Round(1e6 * mixSeconds / mixCount, 3));
            w.WriteString("mixing_problem", "4 stocks x 5 chemicals, random targets, via MixingPlan.Solve");
            w.WriteNumber("route_searches_per_second", Math.Round(routeCount / routeSeconds));
            w.WriteNumber("route_microseconds_per_search", Math.Round(1e6 * routeSeconds / routeCount, 3));
            w.WriteString("route_graph", graphDir);
            w.WriteNumber("checksum", sink);
            w.WriteEndObject();
        });
        return 0;
    }

    private static (long Count, double Seconds) Measure(double seconds, Action<int> work)
    {
        var warm = Stopwatch.StartNew(); // warm-up (JIT, tiered compilation)
        for (var i = 0; warm.Elapsed.TotalSeconds < Math.Min(1.0, seconds / 2); i++) work(i);
        var sw = Stopwatch.StartNew();
        long count = 0;
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            for (var i = 0; i < 16; i++) work((int)(count + i));
            count += 16;
        }
        return (count, sw.Elapsed.TotalSeconds);
    }

}
