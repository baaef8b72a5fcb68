namespace Finales.Demo;

/// <summary>
/// The settings of one `finales demo` run, checked: sizes in range, a fresh store and run folder. <see cref="Create"/>
/// makes the store's and the run's folders.
/// </summary>
public sealed class DemoSettings
{
    public string Store { get; private init; } = "";
    public string Dir { get; private init; } = "";
    public string ReportDir { get; private init; } = "";
    public int Iterations { get; private init; }
    public int Batch { get; private init; }
    public int Seed { get; private init; }
    public DemoPreset Preset { get; private init; } = DemoPreset.Electrolyte;
    public bool Chaos { get; private init; }
    public bool Plain { get; private init; }
    public double TimeScale { get; private init; }
    public DemoData Data { get; private init; } = null!;
    public DemoMdOptions Md { get; private init; } = DemoMdOptions.Default;
    /// <summary>The LAMMPS executable the MD tenant runs, or null when the run has no MD tenant: LAMMPS is not found
    /// (<see cref="LammpsMissing"/>), or neither the preset nor the MD series needs it.</summary>
    public string? Lammps { get; private init; }
    /// <summary>The run wants the MD tenant but the LAMMPS command is neither a file nor on PATH.</summary>
    public bool LammpsMissing { get; private init; }

    /// <summary>Checks the options (a <see cref="DemoException"/> names the first bad one) and creates the run folder.
    /// A null store means finales-demo/run-TIME.db, a null report directory report/ in the run folder.</summary>
    public static DemoSettings Create(string? store, int iterations, int batch, int seed, string preset, bool chaos, bool plain, double timeScale,
        string? reportDir, DemoData data, DemoMdOptions? md = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        md ??= DemoMdOptions.Default;
        if (md.Problem() is { } mdProblem) throw new DemoException(mdProblem);
        var parsedPreset = DemoPreset.Parse(preset);
        if (iterations < 1 || iterations > 1000) throw new DemoException($"--iterations must be 1..1000, got {iterations}");
        if (batch < 1 || batch > 50) throw new DemoException($"--batch must be 1..50, got {batch}");
        if (timeScale <= 0 || timeScale > 1) throw new DemoException($"--time-scale must be in (0, 1], got {timeScale}");
        var fullStore = Path.GetFullPath(store ?? DefaultStore());
        if (File.Exists(fullStore) || Directory.Exists(fullStore))
            throw new DemoException($"store {fullStore} already exists; the demo starts on a fresh store (choose another --store)");
        var dir = RunFolder(fullStore);
        if (Directory.Exists(dir) || File.Exists(dir))
            throw new DemoException($"run folder {dir} already exists (another run's configs, journals and logs); " +
                                    "each run writes into a folder of its own (choose another --store)");
        var report = Path.GetFullPath(reportDir ?? Path.Combine(dir, "report"));
        if (File.Exists(report)) throw new DemoException($"--report {report} is a file; give a directory");
        if (md.Slurm && !DemoMd.SlurmAnswers(out var why))
            throw new DemoException($"--slurm: no Slurm cluster answers ({why}); run without --slurm to use the local executor");
        // The MD tenant runs when the goal or the MD series needs it and LAMMPS is found; a goal that reads MD results
        // loses those levels otherwise, and its description says why (the report's goal carries it).
        var wantsMd = md.Points > 0 || parsedPreset.UsesMd;
        var lammps = wantsMd ? DemoMd.FindLammps(md.Lammps) : null;
        Directory.CreateDirectory(Path.GetDirectoryName(fullStore)!);
        Directory.CreateDirectory(dir);
        return new DemoSettings
        {
            Store = fullStore, Dir = dir, ReportDir = report, Iterations = iterations, Batch = batch, Seed = seed,
            Preset = parsedPreset.ForRun(lammps is not null, md.Share, $"no MD tenant, {md.Lammps} not found"),
            Chaos = chaos, Plain = plain, TimeScale = timeScale, Data = data, Md = md, Lammps = lammps, LammpsMissing = wantsMd && lammps is null,
        };
    }

    /// <summary>
    /// The folder of everything a run writes besides the store (tenant configs and journals, logs, the ASAB work
    /// directory, the default report): the store's path without its extension, so runs on different stores of one
    /// directory never share a file (DIR/a.db: DIR/a/; a store without an extension, DIR/a: DIR/a.run/).
    /// </summary>
    public static string RunFolder(string store)
    {
        var full = Path.GetFullPath(store);
        return Path.HasExtension(full) ? Path.ChangeExtension(full, null) : full + ".run";
    }

    /// <summary>finales-demo/run-TIME.db, with a suffix when a run started in the same second already took the name.</summary>
    private static string DefaultStore()
    {
        var stem = Path.Combine("finales-demo", $"run-{DateTime.Now:yyyyMMdd-HHmmss}");
        var name = stem;
        for (var i = 2; File.Exists(name + ".db") || Directory.Exists(RunFolder(name + ".db")); i++) name = $"{stem}-{i}";
        return name + ".db";
    }
}

/// <summary>
/// The data files the demo reads, which its host ships (the CLI copies them next to finales.dll, see data/README.md):
/// the FINALES2 capability files (serialized_quantities/ of the corpus) and the ASAB example's tubing graph, stocks
/// and tenant config.
/// </summary>
public sealed record DemoData(string CapabilitiesDirectory, string AsabGraphDirectory, string AsabStocksFile, string AsabExampleConfig);
