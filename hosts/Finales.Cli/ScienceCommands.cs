using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Finales.Core;

namespace Finales.Cli;

/// <summary>Bad command input: reported as {"error": ...} with exit code 2.</summary>
internal sealed class CliInputException(string message) : Exception(message);

/// <summary>JSON in/out plumbing shared by the science commands.</summary>
internal static class ScienceIo
{
    public const int InputError = 2;

    public static bool WantsHelp(string[] args) => args.Any(a => a is "-h" or "--help");

    /// <summary>Runs a command body, mapping input errors to exit code 2 and a JSON error object.</summary>
    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is CliInputException or ScienceException)
        {
            WriteJson(w => { w.WriteStartObject(); w.WriteString("error", e.Message); w.WriteEndObject(); });
            return InputError;
        }
    }

    public static JsonElement ReadStdinObject()
    {
        var text = Console.In.ReadToEnd();
        if (string.IsNullOrWhiteSpace(text))
            throw new CliInputException("stdin is empty; expected a JSON object");
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement.Clone();
            if (root.ValueKind != JsonValueKind.Object)
                throw new CliInputException($"input is a JSON {root.ValueKind.ToString().ToLowerInvariant()}; expected an object");
            return root;
        }
        catch (JsonException e)
        {
            throw new CliInputException($"input is not valid JSON: {e.Message}");
        }
    }

    public static JsonElement Required(JsonElement obj, string name, string path)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            throw new CliInputException($"{path}{name} is missing");
        return value;
    }

    public static double Number(JsonElement value, string field)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d))
            return d;
        throw new CliInputException($"{field} is {Show(value)}; expected a number");
    }

    public static string Text(JsonElement value, string field) =>
        value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new CliInputException($"{field} is {Show(value)}; expected a string");

    /// <summary>An object of chemical -> number, e.g. a formulation or component masses.</summary>
    public static Dictionary<string, double> NumberMap(JsonElement value, string field)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new CliInputException($"{field} is {Show(value)}; expected an object of chemical -> number");
        var map = new Dictionary<string, double>();
        foreach (var p in value.EnumerateObject())
            map[p.Name] = Number(p.Value, $"{field}.{p.Name}");
        return map;
    }

    public static string Show(JsonElement value)
    {
        var raw = value.GetRawText();
        return raw.Length > 60 ? raw[..57] + "..." : raw;
    }

    public static void WriteJson(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            write(writer);
        Console.Out.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
    }

    public static void WriteMap(Utf8JsonWriter w, string name, IEnumerable<KeyValuePair<string, double>> values)
    {
        w.WriteStartObject(name);
        foreach (var kv in values)
            w.WriteNumber(kv.Key, kv.Value);
        w.WriteEndObject();
    }

    /// <summary>Parses `--name value` options; unknown options are errors.</summary>
    public static Dictionary<string, string> Options(string[] args, params string[] known)
    {
        var options = new Dictionary<string, string>();
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal) || !known.Contains(a[2..]))
                throw new CliInputException($"unknown argument '{a}'; expected one of {string.Join(", ", known.Select(k => "--" + k))}");
            if (i + 1 >= args.Length)
                throw new CliInputException($"option {a} needs a value");
            options[a[2..]] = args[++i];
        }
        return options;
    }
}

/// <summary>`finales mix`: volume fractions of stock solutions for a target formulation.</summary>
internal static class MixCommand
{
    public const string Summary = "Volume fractions of stock solutions closest to a target formulation (JSON stdin/stdout)";

    public static int Run(string[] args)
    {
        if (ScienceIo.WantsHelp(args))
        {
            Console.WriteLine("""
                Usage: ./finales mix < request.json

                Finds the closest accessible formulation to a target: the projection of the target mole
                fractions onto the convex hull of the stocks' compositions (exact), and the volume fractions
                that mix it. Chemicals by name, SMILES or InChIKey. total_mass (g) defaults to the sum of masses.

                Input:  {"stocks":[{"name":"LP30","density":1.2879,"masses":{"LiPF6":151.905,"EC":567.9975,"DMC":567.9975}},
                                   {"name":"DMC","density":1.0635,"masses":{"DMC":1063.5}}, ...],
                         "target":{"LiPF6":0.06,"EC":0.41,"EMC":0.21,"DMC":0.32}}
                Output: {"volume_fractions":{"LP30":...},"requested":{...},"achieved":{...},"deviation":...,
                         "maximum_fractions":{...}}
                Exit 2 with {"error":"..."} on invalid input.
                """);
            return 0;
        }
        return ScienceIo.Guard(() =>
        {
            if (args.Length > 0) throw new CliInputException($"unexpected argument '{args[0]}'; mix reads JSON from stdin");
            var root = ScienceIo.ReadStdinObject();
            var stocksJson = ScienceIo.Required(root, "stocks", "");
            if (stocksJson.ValueKind != JsonValueKind.Array)
                throw new CliInputException($"stocks is {ScienceIo.Show(stocksJson)}; expected an array");
            var stocks = new List<StockInput>();
            var i = 0;
            foreach (var s in stocksJson.EnumerateArray())
            {
                var path = $"stocks[{i}].";
                if (s.ValueKind != JsonValueKind.Object)
                    throw new CliInputException($"stocks[{i}] is {ScienceIo.Show(s)}; expected an object");
                var name = ScienceIo.Text(ScienceIo.Required(s, "name", path), path + "name");
                var density = ScienceIo.Number(ScienceIo.Required(s, "density", path), path + "density");
                var masses = ScienceIo.NumberMap(ScienceIo.Required(s, "masses", path), path + "masses");
                double? total = s.TryGetProperty("total_mass", out var t) && t.ValueKind != JsonValueKind.Null
                    ? ScienceIo.Number(t, path + "total_mass")
                    : null;
                stocks.Add(new StockInput(name, density, masses, total));
                i++;
            }
            var target = ScienceIo.NumberMap(ScienceIo.Required(root, "target", ""), "target");
            var plan = ScienceApi.PrepareStocks(stocks);
            var result = plan.Solve(target);
            ScienceIo.WriteJson(w =>
            {
                w.WriteStartObject();
                ScienceIo.WriteMap(w, "volume_fractions", result.VolumeFractions);
                ScienceIo.WriteMap(w, "requested", result.Requested);
                ScienceIo.WriteMap(w, "achieved", result.Achieved);
                w.WriteNumber("deviation", result.Deviation);
                ScienceIo.WriteMap(w, "maximum_fractions", plan.MaximumFractions);
                w.WriteEndObject();
            });
            return 0;
        });
    }
}

/// <summary>`finales conductivity`: the low-fidelity conductivity model with its rating.</summary>
internal static class ConductivityCommand
{
    public const string Summary = "Low-fidelity conductivity (Rahmanian et al. 2022 polynomials) with rating";

    public static int Run(string[] args)
    {
        if (ScienceIo.WantsHelp(args))
        {
            Console.WriteLine("""
                Usage: ./finales conductivity < request.json

                Conductivity from the cubic polynomials in the mass ratios x_pc = m_PC/(m_EC+m_PC) and
                x_li = m_LiPF6/(m_EC+m_PC), interpolated linearly between the -30..60 C nodes. EMC and DMC are
                ignored. Rating 3 inside the training domain (0.1 <= x_pc <= 1, 0.1 <= x_li <= 1.1), else 1.

                Input:  {"formulation":{"LiPF6":0.05,"EC":0.45,"PC":0.5},"temperature":298.15}
                        (mole fractions summing to 1 within 1e-6; temperature in K, 243.15..333.15)
                Output: {"conductivity_S_per_m":...,"rating":1,"in_domain":false,"x_pc":...,"x_li":...}
                Exit 2 with {"error":"..."} on invalid input or outside the model's validity.
                """);
            return 0;
        }
        return ScienceIo.Guard(() =>
        {
            if (args.Length > 0) throw new CliInputException($"unexpected argument '{args[0]}'; conductivity reads JSON from stdin");
            var root = ScienceIo.ReadStdinObject();
            var formulation = ScienceIo.NumberMap(ScienceIo.Required(root, "formulation", ""), "formulation");
            var temperature = ScienceIo.Number(ScienceIo.Required(root, "temperature", ""), "temperature");
            var c = ScienceApi.Conductivity(formulation, temperature);
            ScienceIo.WriteJson(w =>
            {
                w.WriteStartObject();
                w.WriteNumber("conductivity_S_per_m", c.ConductivitySiemensPerMeter);
                w.WriteNumber("rating", c.Rating);
                w.WriteBoolean("in_domain", c.InDomain);
                w.WriteNumber("x_pc", c.MassRatioPC);
                w.WriteNumber("x_li", c.MassRatioLiPF6);
                w.WriteEndObject();
            });
            return 0;
        });
    }
}

/// <summary>`finales electrolyte`: the virtual electrolyte's density, viscosity and conductivity.</summary>
internal static class ElectrolyteCommand
{
    public const string Summary = "Density, viscosity, conductivity of the virtual electrolyte (optionally a seeded noisy measurement)";

    public static int Run(string[] args)
    {
        if (ScienceIo.WantsHelp(args))
        {
            Console.WriteLine("""
                Usage: ./finales electrolyte < request.json

                The calibrated physics behind the simulated instruments (docs/science.md): any mixture of
                LiPF6/EC/EMC/DMC/PC at 200..450 K. With "seed", a noisy measurement (density +-1e-4 g/cm3,
                viscosity +-0.5 %, conductivity +-2 %, 1 sigma) that is the same for the same seed.

                Input:  {"formulation":{"LiPF6":0.08,"EC":0.28,"EMC":0.64},"temperature":298.15[,"seed":42]}
                Output: {"temperature_K":...,"density_g_per_cm3":...,"viscosity_mPa_s":...,"conductivity_S_per_m":...,
                         "salt_molarity_mol_per_L":...,"salt_molality_mol_per_kg":...,"measured":false}
                Exit 2 with {"error":"..."} on invalid input.
                """);
            return 0;
        }
        return ScienceIo.Guard(() =>
        {
            if (args.Length > 0) throw new CliInputException($"unexpected argument '{args[0]}'; electrolyte reads JSON from stdin");
            var root = ScienceIo.ReadStdinObject();
            var formulation = ScienceIo.NumberMap(ScienceIo.Required(root, "formulation", ""), "formulation");
            var temperature = ScienceIo.Number(ScienceIo.Required(root, "temperature", ""), "temperature");
            ElectrolyteOutput e;
            var measured = root.TryGetProperty("seed", out var seedJson) && seedJson.ValueKind != JsonValueKind.Null;
            if (measured)
            {
                if (seedJson.ValueKind != JsonValueKind.Number || !seedJson.TryGetUInt64(out var seed))
                    throw new CliInputException($"seed is {ScienceIo.Show(seedJson)}; expected an integer >= 0");
                var noise = new SeededNoise(seed);
                e = ScienceApi.MeasureElectrolyte(formulation, temperature, noise.NextStandardNormal);
            }
            else
            {
                e = ScienceApi.Electrolyte(formulation, temperature);
            }
            ScienceIo.WriteJson(w =>
            {
                w.WriteStartObject();
                w.WriteNumber("temperature_K", e.TemperatureKelvin);
                w.WriteNumber("density_g_per_cm3", e.DensityGramsPerCubicCentimeter);
                w.WriteNumber("viscosity_mPa_s", e.ViscosityMillipascalSeconds);
                w.WriteNumber("conductivity_S_per_m", e.ConductivitySiemensPerMeter);
                w.WriteNumber("salt_molarity_mol_per_L", e.SaltMolarityMolesPerLiter);
                w.WriteNumber("salt_molality_mol_per_kg", e.SaltMolalityMolesPerKilogram);
                w.WriteBoolean("measured", measured);
                w.WriteEndObject();
            });
            return 0;
        });
    }
}

/// <summary>`finales route`: the optimal tubing route under the rotary-valve rule.</summary>
internal static class RouteCommand
{
    public const string Summary = "Optimal tubing route under the valve rule, with dead volume and valve settings";

    /// <summary>Reads nodes.csv, edges.csv and tubing.csv from a directory (the core does no IO).</summary>
    public static RouteGraph LoadGraph(string dir)
    {
        if (!Directory.Exists(dir))
            throw new CliInputException($"--graph '{dir}' is not a directory");
        string Read(string file)
        {
            var path = Path.Combine(dir, file);
            return File.Exists(path)
                ? File.ReadAllText(path, Encoding.UTF8)
                : throw new CliInputException($"--graph '{dir}' has no {file}");
        }
        return ScienceApi.LoadGraph(Read("nodes.csv"), Read("edges.csv"), Read("tubing.csv"));
    }

    public static int Run(string[] args)
    {
        if (ScienceIo.WantsHelp(args))
        {
            Console.WriteLine("""
                Usage: ./finales route --graph DIR --from A --to B [--via X,Y] [--by dead_volume|length]

                Reads DIR/nodes.csv, DIR/edges.csv, DIR/tubing.csv (the published ';'-separated ASAB format) and
                prints the route with the least dead volume (or length) that touches at most two nodes of any
                rotary valve Vn (centre Vn.0, ports Vn.1..Vn.10), passing the via-nodes in order.

                Example: ./finales route --graph tests/fixtures/asab-graph --from A0.0 --to waste_1 --via densiViscoIN
                Output:  {"nodes":[...],"edges":[...],"dead_volume_mL":...,"length_mm":...,
                          "valve_settings":[{"valve":"V1","port":2},...]}
                Exit 2 with {"error":"..."} when there is no path or the files are inconsistent.
                """);
            return 0;
        }
        return ScienceIo.Guard(() =>
        {
            var o = ScienceIo.Options(args, "graph", "from", "to", "via", "by");
            foreach (var required in new[] { "graph", "from", "to" })
                if (!o.ContainsKey(required))
                    throw new CliInputException($"--{required} is missing");
            var by = o.GetValueOrDefault("by", "dead_volume");
            if (by is not ("dead_volume" or "length"))
                throw new CliInputException($"--by is '{by}'; expected dead_volume or length");
            var via = o.TryGetValue("via", out var v)
                ? v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : [];
            var graph = LoadGraph(o["graph"]);
            var route = graph.FindRoute(o["from"], o["to"], via, by == "length");
            ScienceIo.WriteJson(w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("nodes");
                foreach (var n in route.Nodes) w.WriteStringValue(n);
                w.WriteEndArray();
                w.WriteStartArray("edges");
                foreach (var e in route.Edges) w.WriteStringValue(e);
                w.WriteEndArray();
                w.WriteNumber("dead_volume_mL", Math.Round(route.DeadVolumeMilliliters, 10));
                w.WriteNumber("length_mm", Math.Round(route.LengthMillimeters, 10));
                w.WriteStartArray("valve_settings");
                foreach (var s in route.ValveSettings)
                {
                    w.WriteStartObject();
                    w.WriteString("valve", s.Valve);
                    w.WriteNumber("port", s.Port);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
            return 0;
        });
    }
}

/// <summary>`finales bench science`: mixing solves/s and route searches/s.</summary>
internal static class ScienceBench
{
    public static int Run(string[] args)
    {
        if (ScienceIo.WantsHelp(args))
        {
            Console.WriteLine("""
                Usage: ./finales bench science [--seconds S] [--graph DIR]

                Measures, for S seconds each (default 2): exact mixing solves per second for 4 stocks x 5
                chemicals (3 of the bundled 2022 stocks and PC:DMC 1:1) with seeded random targets (through the
                C# facade), and optimal route searches per
                second on the fixture graph (default: the bundled copy of tests/fixtures/asab-graph). Prints JSON.
                """);
            return 0;
        }
        return ScienceIo.Guard(() =>
        {
            var o = ScienceIo.Options(args, "seconds", "graph");
            var seconds = 2.0;
            if (o.TryGetValue("seconds", out var s) &&
                (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) || seconds <= 0 || seconds > 600))
                throw new CliInputException($"--seconds is '{s}'; expected a number in (0, 600]");
            var graphDir = o.TryGetValue("graph", out var g) ? g : BundledData.AsabGraphDirectory;

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
        });
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
