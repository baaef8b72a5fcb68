using System.Diagnostics;
using System.Globalization;

namespace Finales.Tenants.Md;

/// <summary>The tenant's "Md" configuration section (see docs/md-tenant.md).</summary>
public sealed class MdOptions
{
    /// <summary>"primitive" (implicit solvent, the CI and demo fidelity) or "all-atom" (OPLS-AA/CL&amp;P, Packmol).</summary>
    public string Model { get; set; } = "primitive";
    /// <summary>"local" (LAMMPS as a child process) or "slurm" (sbatch).</summary>
    public string Executor { get; set; } = "local";
    /// <summary>Where each request's job directory is created (one sub-directory per request id).</summary>
    public string WorkDirectory { get; set; } = "md-jobs";
    /// <summary>The LAMMPS command.</summary>
    public string Lammps { get; set; } = "lmp";
    /// <summary>Production length, ps (1 ns by default).</summary>
    public double ProductionPs { get; set; } = 1000;
    /// <summary>Seed of every job's placement, velocities and noise.</summary>
    public int Seed { get; set; } = 1;
    public double TimeLimitMinutes { get; set; } = 30;
    public int Cpus { get; set; } = 1;
    /// <summary>How often a running job's state is read.</summary>
    public double PollSeconds { get; set; } = 2;
    /// <summary>The all-atom level's force field and geometries (null: data/md/allatom next to the build).</summary>
    public string? AllAtomData { get; set; }
    /// <summary>The all-atom run: "production" (5,000 atoms, 100 ps NVT, 1 ns NPT, 5 ns production) or "smoke"
    /// (about 1,500 atoms, 200 steps per stage: input accepted, analysis parses).</summary>
    public string AllAtomSize { get; set; } = "production";
    /// <summary>The Packmol command (all-atom level).</summary>
    public string Packmol { get; set; } = "packmol";
    /// <summary>Slurm partition and account (null: the cluster's defaults).</summary>
    public string? Partition { get; set; }
    public string? Account { get; set; }

    /// <summary>Every problem, naming the key and its value.</summary>
    public IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        if (Model is not (MdJob.Primitive or MdJob.AllAtom)) p.Add($"Md:Model is '{Model}'; it must be 'primitive' or 'all-atom'");
        if (AllAtomSize is not ("production" or "smoke")) p.Add($"Md:AllAtomSize is '{AllAtomSize}'; it must be 'production' or 'smoke'");
        if (Model == MdJob.AllAtom && string.IsNullOrWhiteSpace(Packmol)) p.Add("Md:Packmol is empty");
        if (Executor is not ("local" or "slurm")) p.Add($"Md:Executor is '{Executor}'; it must be 'local' or 'slurm'");
        if (string.IsNullOrWhiteSpace(WorkDirectory)) p.Add("Md:WorkDirectory is empty");
        if (string.IsNullOrWhiteSpace(Lammps)) p.Add("Md:Lammps is empty");
        if (!(ProductionPs >= 20)) p.Add($"Md:ProductionPs is {ProductionPs}; it must be >= 20");
        if (!(TimeLimitMinutes > 0)) p.Add($"Md:TimeLimitMinutes is {TimeLimitMinutes}; it must be > 0");
        if (Cpus < 1) p.Add($"Md:Cpus is {Cpus}; it must be >= 1");
        if (!(PollSeconds > 0)) p.Add($"Md:PollSeconds is {PollSeconds}; it must be > 0");
        return p;
    }

    /// <summary>The all-atom data directory: <see cref="AllAtomData"/>, or data/md/allatom next to the build.</summary>
    public string AllAtomDataDirectory() =>
        string.IsNullOrWhiteSpace(AllAtomData) ? Path.Combine(AppContext.BaseDirectory, "data", "md", "allatom") : Path.GetFullPath(AllAtomData);

    /// <summary>The all-atom setup input of a request at this configuration's size.</summary>
    public Finales.Md.Interop.AllAtomSetupInput AllAtomInput(IReadOnlyDictionary<string, double> moleFractions, double temperatureK)
    {
        var d = Finales.Md.Interop.AllAtomSetup.Defaults(moleFractions, temperatureK, AllAtomDataDirectory());
        d.Seed = Seed;
        d.PackmolCommand = Packmol;
        d.LammpsCommand = Lammps;
        if (AllAtomSize == "smoke")
        {
            d.TargetAtoms = 1500;
            d.MinimiseIterations = 200;
            d.NvtSteps = d.NptSteps = d.ProductionSteps = 200;
            d.ThermoEvery = d.DumpEvery = 20;
            d.RestartEvery = 100;
        }
        return d;
    }
}

/// <summary>The MD engine on this machine.</summary>
public static class LammpsEngine
{
    /// <summary>The version line of <c>lmp -h</c> (e.g. "29 Sep 2021 - Update 2"), or null when LAMMPS does not run.</summary>
    public static string? TryVersion(string lammps)
    {
        try
        {
            var psi = new ProcessStartInfo(lammps, "-h") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi);
            if (p is null) return null;
            var text = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            var line = text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("Large-scale Atomic/Molecular", StringComparison.Ordinal));
            if (line is null) return null;
            var dash = line.IndexOf(" - ", StringComparison.Ordinal);
            return dash < 0 ? line : line[(dash + 3)..].Trim();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>Invariant text of a number.</summary>
    internal static string Inv(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
