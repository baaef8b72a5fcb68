using System.CommandLine;
using System.Text;
using System.Text.Json;
using Finales.Core;

namespace Finales.Cli;

/// <summary>JSON in/out plumbing shared by the science commands; bad input is a <see cref="UsageError"/> (exit code 2, {"error": ...}).</summary>
internal static class ScienceIo
{
    public static JsonElement ReadStdinObject()
    {
        var text = Console.In.ReadToEnd();
        if (string.IsNullOrWhiteSpace(text))
            throw new UsageError("stdin is empty; expected a JSON object");
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement.Clone();
            if (root.ValueKind != JsonValueKind.Object)
                throw new UsageError($"input is a JSON {root.ValueKind.ToString().ToLowerInvariant()}; expected an object");
            return root;
        }
        catch (JsonException e)
        {
            throw new UsageError($"input is not valid JSON: {e.Message}");
        }
    }

    public static JsonElement Required(JsonElement obj, string name, string path)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            throw new UsageError($"{path}{name} is missing");
        return value;
    }

    public static double Number(JsonElement value, string field)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d))
            return d;
        throw new UsageError($"{field} is {Show(value)}; expected a number");
    }

    public static string Text(JsonElement value, string field) =>
        value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new UsageError($"{field} is {Show(value)}; expected a string");

    /// <summary>An object of chemical -> number, e.g. a formulation or component masses.</summary>
    public static Dictionary<string, double> NumberMap(JsonElement value, string field)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new UsageError($"{field} is {Show(value)}; expected an object of chemical -> number");
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

    /// <summary>A science command: JSON on stdout, {"error": ...} (indented, as documented) and exit code 2 on bad input.</summary>
    public static FinalesCommand Command(string name, string summary, string notes, string[] examples, Func<ParseResult, int> run)
    {
        var command = new FinalesCommand(name, summary) { Errors = ErrorStyle.IndentedJson, Notes = notes, Examples = examples };
        command.SetAction(run);
        return command;
    }
}

/// <summary>`finales mix`: volume fractions of stock solutions for a target formulation.</summary>
internal static class MixCommand
{
    public const string Summary = "Volume fractions of stock solutions closest to a target formulation (JSON stdin/stdout)";

    public static FinalesCommand Create() => ScienceIo.Command("mix", Summary, """
                Finds the closest accessible formulation to a target: the projection of the target mole
                fractions onto the convex hull of the stocks' compositions (exact), and the volume fractions
                that mix it. Chemicals by name, SMILES or InChIKey. total_mass (g) defaults to the sum of masses.

                Input:  {"stocks":[{"name":"LP30","density":1.2879,"masses":{"LiPF6":151.905,"EC":567.9975,"DMC":567.9975}},
                                   {"name":"DMC","density":1.0635,"masses":{"DMC":1063.5}}, ...],
                         "target":{"LiPF6":0.06,"EC":0.41,"EMC":0.21,"DMC":0.32}}
                Output: {"volume_fractions":{"LP30":...},"requested":{...},"achieved":{...},"deviation":...,
                         "maximum_fractions":{...}}
                Exit 2 with {"error":"..."} on invalid input.
                """, ["echo '{\"stocks\":[{\"name\":\"LP30\",\"density\":1.2879,\"masses\":{\"LiPF6\":151.905,\"EC\":567.9975,\"DMC\":567.9975}},{\"name\":\"DMC\",\"density\":1.0635,\"masses\":{\"DMC\":1063.5}}],\"target\":{\"LiPF6\":0.06,\"EC\":0.41,\"DMC\":0.53}}' | ./finales mix"], _ =>
        {
            var root = ScienceIo.ReadStdinObject();
            var stocksJson = ScienceIo.Required(root, "stocks", "");
            if (stocksJson.ValueKind != JsonValueKind.Array)
                throw new UsageError($"stocks is {ScienceIo.Show(stocksJson)}; expected an array");
            var stocks = new List<StockInput>();
            var i = 0;
            foreach (var s in stocksJson.EnumerateArray())
            {
                var path = $"stocks[{i}].";
                if (s.ValueKind != JsonValueKind.Object)
                    throw new UsageError($"stocks[{i}] is {ScienceIo.Show(s)}; expected an object");
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

/// <summary>`finales conductivity`: the low-fidelity conductivity model with its rating.</summary>
internal static class ConductivityCommand
{
    public const string Summary = "Low-fidelity conductivity (Rahmanian et al. 2022 polynomials) with rating";

    public static FinalesCommand Create() => ScienceIo.Command("conductivity", Summary, """
                Conductivity from the cubic polynomials in the mass ratios x_pc = m_PC/(m_EC+m_PC) and
                x_li = m_LiPF6/(m_EC+m_PC), interpolated linearly between the -30..60 C nodes. EMC and DMC are
                ignored. Rating 3 inside the training domain (0.1 <= x_pc <= 1, 0.1 <= x_li <= 1.1), else 1.

                Input:  {"formulation":{"LiPF6":0.05,"EC":0.45,"PC":0.5},"temperature":298.15}
                        (mole fractions summing to 1 within 1e-6; temperature in K, 243.15..333.15)
                Output: {"conductivity_S_per_m":...,"rating":1,"in_domain":false,"x_pc":...,"x_li":...}
                Exit 2 with {"error":"..."} on invalid input or outside the model's validity.
                """, ["echo '{\"formulation\":{\"LiPF6\":0.05,\"EC\":0.45,\"PC\":0.5},\"temperature\":298.15}' | ./finales conductivity"], _ =>
        {
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

/// <summary>`finales electrolyte`: the virtual electrolyte's density, viscosity and conductivity.</summary>
internal static class ElectrolyteCommand
{
    public const string Summary = "Density, viscosity, conductivity of the virtual electrolyte (optionally a seeded noisy measurement)";

    public static FinalesCommand Create() => ScienceIo.Command("electrolyte", Summary, """
                The calibrated physics behind the simulated instruments (docs/science.md): any mixture of
                LiPF6/EC/EMC/DMC/PC at 200..450 K. With "seed", a noisy measurement (density +-1e-4 g/cm3,
                viscosity +-0.5 %, conductivity +-2 %, 1 sigma) that is the same for the same seed.

                Input:  {"formulation":{"LiPF6":0.08,"EC":0.28,"EMC":0.64},"temperature":298.15[,"seed":42]}
                Output: {"temperature_K":...,"density_g_per_cm3":...,"viscosity_mPa_s":...,"conductivity_S_per_m":...,
                         "salt_molarity_mol_per_L":...,"salt_molality_mol_per_kg":...,"measured":false}
                Exit 2 with {"error":"..."} on invalid input.
                """, ["echo '{\"formulation\":{\"LiPF6\":0.07,\"EC\":0.28,\"EMC\":0.65},\"temperature\":298.15,\"seed\":42}' | ./finales electrolyte"], _ =>
        {
            var root = ScienceIo.ReadStdinObject();
            var formulation = ScienceIo.NumberMap(ScienceIo.Required(root, "formulation", ""), "formulation");
            var temperature = ScienceIo.Number(ScienceIo.Required(root, "temperature", ""), "temperature");
            ElectrolyteOutput e;
            var measured = root.TryGetProperty("seed", out var seedJson) && seedJson.ValueKind != JsonValueKind.Null;
            if (measured)
            {
                if (seedJson.ValueKind != JsonValueKind.Number || !seedJson.TryGetUInt64(out var seed))
                    throw new UsageError($"seed is {ScienceIo.Show(seedJson)}; expected an integer >= 0");
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

/// <summary>`finales route`: the optimal tubing route under the rotary-valve rule.</summary>
internal static class RouteCommand
{
    public const string Summary = "Optimal tubing route under the valve rule, with dead volume and valve settings";

    /// <summary>Reads nodes.csv, edges.csv and tubing.csv from a directory (the core does no IO).</summary>
    public static RouteGraph LoadGraph(string dir)
    {
        if (!Directory.Exists(dir))
            throw new UsageError($"--graph '{dir}' is not a directory");
        string Read(string file)
        {
            var path = Path.Combine(dir, file);
            return File.Exists(path)
                ? File.ReadAllText(path, Encoding.UTF8)
                : throw new UsageError($"--graph '{dir}' has no {file}");
        }
        return ScienceApi.LoadGraph(Read("nodes.csv"), Read("edges.csv"), Read("tubing.csv"));
    }

    public static FinalesCommand Create()
    {
        var graph = Opt.Text("--graph", "directory with nodes.csv, edges.csv and tubing.csv", "DIR");
        var from = Opt.Text("--from", "start node, e.g. Reservoir1 or A0.0", "NODE");
        var to = Opt.Text("--to", "end node, e.g. waste_1", "NODE");
        graph.Required = from.Required = to.Required = true;
        var via = Opt.Text("--via", "nodes to pass in this order, comma-separated", "X,Y");
        var by = Opt.Choice("--by", "what the route minimises", "dead_volume", "dead_volume", "length");
        var command = ScienceIo.Command("route", Summary, """
                Reads DIR/nodes.csv, DIR/edges.csv, DIR/tubing.csv (the published ';'-separated ASAB format) and
                prints the route with the least dead volume (or length) that touches at most two nodes of any
                rotary valve Vn (centre Vn.0, ports Vn.1..Vn.10), passing the via-nodes in order.

                Output:  {"nodes":[...],"edges":[...],"dead_volume_mL":...,"length_mm":...,
                          "valve_settings":[{"valve":"V1","port":2},...]}
                Exit 2 with {"error":"..."} when there is no path or the files are inconsistent.
                """, ["./finales route --graph tests/fixtures/asab-graph --from A0.0 --to waste_1 --via densiViscoIN"],
            parse => Run(parse.GetValue(graph)!, parse.GetValue(from)!, parse.GetValue(to)!,
                parse.GetValue(via)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [],
                parse.GetValue(by) == "length"));
        command.Options.Add(graph);
        command.Options.Add(from);
        command.Options.Add(to);
        command.Options.Add(via);
        command.Options.Add(by);
        return command;
    }

    private static int Run(string graphDir, string from, string to, string[] via, bool byLength)
    {
        var graph = LoadGraph(graphDir);
        var route = graph.FindRoute(from, to, via, byLength);
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
    }
}
