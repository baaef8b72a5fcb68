using System.Globalization;
using Finales.Md.Interop;

namespace Finales.Cli;

/// <summary>`finales md analyse`: the trajectory analysis of a LAMMPS dump and log (core/Finales.Md, docs/md-analysis.md).</summary>
public static class MdCommand
{
    public const string Summary = "molecular dynamics: analyse a LAMMPS trajectory (MSD, D, conductivity, RDF) to JSON";

    private const string Usage = """
        Usage: ./finales md analyse --dump FILE --types SPEC [options]
          --dump FILE          LAMMPS `dump custom` text with id type and xu yu zu (or x y z [ix iy iz]); mol for molecules
          --log FILE           LAMMPS log (thermo_style custom ... vol density): density from the last NPT run
          --types SPEC         species NAME:TYPES:CHARGE[:mol], comma-separated, e.g. Li:1:1,PF6:2:-1 or EC:3+4+5:0:mol
          --timestep FS        MD timestep in fs (default 1)
          --temperature K      temperature in K (default 298.15)
          --rdf SPEC           RDF pairs NAME:TYPESA:TYPESB[:RMAX[:BINS]], comma-separated, e.g. Li-P:1:2:12:240
          --masses SPEC        masses by atom type TYPE=G_PER_MOL, comma-separated (molecules without a dump mass column)
          --viscosity MPAS     shear viscosity in mPa s: adds the Yeh-Hummer corrected D
          --max-frames N       read at most N frames
          --blocks N           time blocks for the error bars (default 5)
          --rdf-output FORMULA print the RDFs as the corpus RDFOutput with this cell formula instead of the report
        """;

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 1 : 0;
        }
        if (args[0] != "analyse")
            throw new CliError($"unknown md command '{args[0]}'; the md command is 'analyse' (./finales md --help)");
        var a = new CliArgs(args[1..]);
        if (a.Help)
        {
            Console.WriteLine(Usage);
            return 0;
        }
        a.Only("dump", "log", "types", "timestep", "temperature", "rdf", "masses", "viscosity", "max-frames", "blocks", "rdf-output");
        var dump = a.Get("dump") ?? throw new CliError("--dump FILE is required");
        var typesText = a.Get("types") ?? throw new CliError("--types SPEC is required (e.g. --types Li:1:1,PF6:2:-1)");
        if (!MdAnalysis.TryParseSpecies(typesText, out var species, out var error))
            throw new CliError($"--types: {error}");
        IReadOnlyList<RdfPairSpec> pairs = [];
        if (a.Get("rdf") is { } rdfText && !MdAnalysis.TryParseRdfPairs(rdfText, out pairs, out error))
            throw new CliError($"--rdf: {error}");
        var input = new MdAnalysisInput(
            dump,
            a.Get("log"),
            a.GetDouble("timestep", 1.0),
            a.GetDouble("temperature", 298.15),
            species,
            pairs,
            a.Has("viscosity") ? a.GetDouble("viscosity", 0) : null,
            a.Has("max-frames") ? a.GetInt("max-frames", 0) : null)
        {
            Blocks = a.GetInt("blocks", 5),
        };
        if (a.Get("masses") is { } massesText)
            input.TypeMasses = ParseMasses(massesText);
        if (!MdAnalysis.TryAnalyse(input, out var report, out error))
            throw new CliError(error);
        if (a.Get("rdf-output") is { } formula)
        {
            if (!report.TryRdfOutputJson(formula, out var json, out error))
                throw new CliError($"--rdf-output: {error}");
            Console.WriteLine(json);
        }
        else
            Console.WriteLine(report.ToJson());
        return 0;
    }

    private static Dictionary<int, double> ParseMasses(string text)
    {
        var masses = new Dictionary<int, double>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = item.Split('=');
            if (parts.Length != 2
                || !int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var type) || type < 1
                || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var mass) || !(mass > 0))
                throw new CliError($"--masses: '{item}' is not TYPE=G_PER_MOL with type >= 1 and mass > 0 (e.g. 1=6.94)");
            masses[type] = mass;
        }
        return masses;
    }
}
