using System.Diagnostics;
using System.Text.Json.Nodes;
using Finales.Tenants.Cell;

namespace Finales.Demo;

/// <summary>
/// The MD tenant's part of a demo run: the production length of its primitive-model runs, how many salt contents the
/// demo's own series asks it for, the LAMMPS command, the executor and <see cref="Share"/>, the share of the optimizer's
/// points whose conductivity it simulates (electrolyte preset). <see cref="Default"/> is sized so the default demo stays
/// within 5 minutes on a 2-core machine (docs/demo.md).
/// </summary>
public sealed record DemoMdOptions(double ProductionNs, int Points, string Lammps, bool Slurm)
{
    /// <summary>The default <see cref="Share"/>: one optimizer point in three (docs/demo.md, "Options").</summary>
    public const double DefaultShare = 1.0 / 3.0;

    /// <summary>20 ps production (the tenant's minimum; with its 100 ps equilibration 6,000 steps of 400 ions) at 3 salt
    /// contents, and MD conductivity for one optimizer point in three.</summary>
    public static readonly DemoMdOptions Default = new(0.02, 3, "lmp", false);

    /// <summary>The share of the optimizer's points (electrolyte preset) whose conductivity the MD tenant simulates, in (0, 1].</summary>
    public double Share { get; init; } = DefaultShare;

    /// <summary>The first problem with the options (naming the option and its value), or null.</summary>
    public string? Problem() =>
        !(ProductionNs >= 0.02 && ProductionNs <= 100) ? $"--md-ns must be 0.02..100 (ns of production per MD run), got {ProductionNs}"
        : Points < 0 || Points > 20 ? $"--md-points must be 0..20, got {Points}"
        : string.IsNullOrWhiteSpace(Lammps) ? "--lammps is empty; give the LAMMPS command (default lmp)"
        : !(Share > 0 && Share <= 1) ? $"--md-share must lie in (0, 1] (the share of the optimizer's points simulated by MD), got {Share}"
        : null;
}

/// <summary>The MD tenant in the demo: finding LAMMPS and Slurm, its config section, and the salt series it is asked for.</summary>
public static class DemoMd
{
    /// <summary>The solvent of the MD series: EC, the solvent of the low-fidelity reference series, so Figure 7 compares like with like.</summary>
    public const string Solvent = "EC";

    /// <summary>The temperature of the MD series.</summary>
    public const double TemperatureK = 298.15;

    /// <summary>The executable a LAMMPS command names: a path as given, a bare name searched on PATH; null when there is none.</summary>
    public static string? FindLammps(string command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Contains('/')) return File.Exists(command) ? Path.GetFullPath(command) : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, command);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Whether a Slurm cluster answers `sinfo` (exit code 0 within 20 s); <paramref name="why"/> says why not.</summary>
    public static bool SlurmAnswers(out string why)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("sinfo", "-h -o %P")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            }) ?? throw new InvalidOperationException("sinfo did not start");
            var err = p.StandardError.ReadToEndAsync();
            _ = p.StandardOutput.ReadToEndAsync();
            if (!p.WaitForExit(TimeSpan.FromSeconds(20)))
            {
                p.Kill(true);
                why = "sinfo did not answer within 20 s";
                return false;
            }
            why = p.ExitCode == 0 ? "" : $"sinfo exited with code {p.ExitCode}: {err.Result.Trim()}";
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            why = $"sinfo cannot be run ({e.Message})";
            return false;
        }
    }

    /// <summary>The tenant's "Md" section: primitive model, the chosen executor, jobs under the run folder.</summary>
    public static JsonObject Section(DemoMdOptions o, string lammps, string workDirectory, int seed) => new()
    {
        ["Model"] = "primitive",
        ["Executor"] = o.Slurm ? "slurm" : "local",
        ["WorkDirectory"] = workDirectory,
        ["Lammps"] = lammps,
        ["ProductionPs"] = Math.Round(o.ProductionNs * 1000, 3),
        ["Seed"] = seed,
        ["TimeLimitMinutes"] = 30,
        ["Cpus"] = 1,
        ["PollSeconds"] = 1,
    };

    /// <summary>
    /// The LiPF6 mole fractions of the MD series: <paramref name="points"/> values evenly spaced over 0.03..0.15 (about
    /// 0.4..2 mol/L in EC, the rise and the fall of Figure 7), one point at 0.085 (about 1 mol/L).
    /// </summary>
    public static IReadOnlyList<double> SaltSeries(int points) => points switch
    {
        <= 0 => [],
        1 => [0.085],
        _ => Enumerable.Range(0, points).Select(i => Math.Round(0.03 + 0.12 * i / (points - 1), 4)).ToList(),
    };

    /// <summary>
    /// A radial_density_function/molacular_dynamics request (the corpus' spelling) for the same composition and
    /// temperature as <see cref="ConductivityRequest"/>: Figure 8's RDFs. The tenant runs one LAMMPS job per request,
    /// so this is a second run of the same box (its conductivity result carries the RDFs of its own run too).
    /// </summary>
    public static JsonObject RdfRequest(double salt, Guid requester) => new()
    {
        ["quantity"] = "radial_density_function",
        ["methods"] = new JsonArray("molacular_dynamics"),
        ["parameters"] = new JsonObject
        {
            ["molacular_dynamics"] = new JsonObject
            {
                ["formulation"] = DemoChemistry.Formulation(new Dictionary<string, double> { ["LiPF6"] = salt, [Solvent] = 1 - salt }),
                ["temperature"] = TemperatureK,
            },
        },
        ["tenant_uuid"] = requester.ToString("D"),
    };

    /// <summary>A conductivity/molecular_dynamics request for LiPF6 in <see cref="Solvent"/> at <paramref name="salt"/>.</summary>
    public static JsonObject ConductivityRequest(double salt, Guid requester) => new()
    {
        ["quantity"] = "conductivity",
        ["methods"] = new JsonArray("molecular_dynamics"),
        ["parameters"] = new JsonObject
        {
            ["molecular_dynamics"] = new JsonObject
            {
                ["formulation"] = DemoChemistry.Formulation(new Dictionary<string, double> { ["LiPF6"] = salt, [Solvent] = 1 - salt }),
                ["temperature"] = TemperatureK,
            },
        },
        ["tenant_uuid"] = requester.ToString("D"),
    };
}
