using System.CommandLine;
using System.Globalization;
using Finales.Md.Interop;

namespace Finales.Cli;

/// <summary>`finales md analyse`: the trajectory analysis of a LAMMPS dump and log (core/Finales.Md, docs/md-analysis.md).</summary>
public static class MdCommand
{
    public const string Summary = "molecular dynamics: analyse a LAMMPS trajectory (MSD, D, conductivity, RDF) to JSON";

    /// <summary>The `md` group with its one sub-command, `analyse`.</summary>
    public static FinalesCommand Create()
    {
        var md = new FinalesCommand("md", Summary)
        {
            Examples = ["./finales md analyse --dump prod.dump --log log.lammps --types Li:1:1,PF6:2:-1 --rdf Li-P:1:2:12:240"],
        };
        md.Subcommands.Add(Analyse());
        return md;
    }

    private static FinalesCommand Analyse()
    {
        var dump = Opt.Text("--dump", "LAMMPS `dump custom` text with id type and xu yu zu (or x y z [ix iy iz]); mol for molecules", "FILE");
        var log = Opt.Text("--log", "LAMMPS log (thermo_style custom ... vol density): density from the last NPT run", "FILE");
        var types = Opt.Text("--types", "species NAME:TYPES:CHARGE[:mol], comma-separated, e.g. Li:1:1,PF6:2:-1 or EC:3+4+5:0:mol", "SPEC");
        var timestep = Opt.Number("--timestep", "MD timestep in fs", 1.0, 1e-6, 1e6, "FS");
        var temperature = Opt.Number("--temperature", "temperature in K", 298.15, 1e-6, 1e5, "K");
        var rdf = Opt.Text("--rdf", "RDF pairs NAME:TYPESA:TYPESB[:RMAX[:BINS]], comma-separated, e.g. Li-P:1:2:12:240", "SPEC");
        var masses = Opt.Text("--masses", "masses by atom type TYPE=G_PER_MOL, comma-separated (molecules without a dump mass column)", "SPEC");
        var viscosity = Opt.OptionalNumber("--viscosity", "shear viscosity in mPa s: adds the Yeh-Hummer corrected D", 1e-9, 1e9, "MPAS");
        var maxFrames = Opt.OptionalInt("--max-frames", "read at most N frames", 1);
        var blocks = Opt.Int("--blocks", "time blocks for the error bars", 5, 2, 1000);
        var rdfOutput = Opt.Text("--rdf-output", "print the RDFs as the corpus RDFOutput with this cell formula instead of the report", "FORMULA");
        var command = new FinalesCommand("analyse", "analyse a LAMMPS dump (and log): MSD, D, conductivity (NE, EH), t+, RDF; JSON on stdout")
        {
            Notes = "The analysis and its definitions: docs/md-analysis.md. Exit code 2 on bad options or an unreadable trajectory.",
            Examples =
            [
                "./finales md analyse --dump prod.dump --log log.lammps --types Li:1:1,PF6:2:-1 --timestep 2 --rdf Li-P:1:2:12:240",
                "./finales md analyse --dump prod.dump --types Li:1:0.8,PF6:2+3:-0.8:mol,EC:4+5+6+7:0:mol --masses 1=6.94,2=30.97,3=19.0,4=12.01,5=16.0,6=15.999,7=1.008",
            ],
        };
        foreach (var o in new Option[] { dump, log, types, timestep, temperature, rdf, masses, viscosity, maxFrames, blocks, rdfOutput })
            command.Options.Add(o);
        command.SetAction(parse =>
        {
            var dumpPath = parse.GetValue(dump) ?? throw new UsageError("--dump FILE is required");
            var typesText = parse.GetValue(types) ?? throw new UsageError("--types SPEC is required (e.g. --types Li:1:1,PF6:2:-1)");
            if (!MdAnalysis.TryParseSpecies(typesText, out var species, out var error))
                throw new UsageError($"--types: {error}");
            IReadOnlyList<RdfPairSpec> pairs = [];
            if (parse.GetValue(rdf) is { } rdfText && !MdAnalysis.TryParseRdfPairs(rdfText, out pairs, out error))
                throw new UsageError($"--rdf: {error}");
            var input = new MdAnalysisInput(
                dumpPath, parse.GetValue(log), parse.GetValue(timestep), parse.GetValue(temperature), species, pairs,
                parse.GetValue(viscosity), parse.GetValue(maxFrames))
            {
                Blocks = parse.GetValue(blocks),
            };
            if (parse.GetValue(masses) is { } massesText)
                input.TypeMasses = ParseMasses(massesText);
            if (!MdAnalysis.TryAnalyse(input, out var report, out error))
                throw new UsageError(error);
            if (parse.GetValue(rdfOutput) is { } formula)
            {
                if (!report.TryRdfOutputJson(formula, out var json, out error))
                    throw new UsageError($"--rdf-output: {error}");
                Console.WriteLine(json);
            }
            else
                Console.WriteLine(report.ToJson());
            return 0;
        });
        return command;
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
                throw new UsageError($"--masses: '{item}' is not TYPE=G_PER_MOL with type >= 1 and mass > 0 (e.g. 1=6.94)");
            masses[type] = mass;
        }
        return masses;
    }
}
