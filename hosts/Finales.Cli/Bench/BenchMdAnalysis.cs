using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Finales.Md.Interop;

namespace Finales.Cli;

/// <summary>
/// `finales bench md-analysis`: the trajectory analysis (MSD, Nernst-Einstein, Einstein-Helfand, 3 RDFs) of a seeded
/// synthetic random-walk trajectory, and of one 4x longer, each in a child process so that its peak resident memory
/// (VmHWM) is its own; then, when python3 can import MDAnalysis, the same file through EinsteinMSD(fft=True) and
/// InterRDF for the time ratio and the largest relative difference of MSD and g(r).
/// </summary>
public static class BenchMdAnalysis
{
    // Positions on a 1/8 A grid (exact in the dump's 6 decimals and in MDAnalysis's 32-bit floats), so every distance
    // is sqrt(n) / 8 A; RMAX 9.929 A puts all 200 bin edges at least 1.8e-5 A away from every such distance, far more
    // than 32-bit rounding moves one, so that both programs put every pair in the same bin.
    private const double BoxA = 22.0, StepA = 0.2, TimestepFs = 1.0, QuantumA = 1.0 / 8, RMax = 9.929;
    private const int Stride = 10, Bins = 200;
    private const string Species = "cation:1:1,anion:2:-1";
    private const string Rdfs = "1-1:1:1:9.929:200,1-2:1:2:9.929:200,2-2:2:2:9.929:200";

    public static FinalesCommand Create()
    {
        var frames = Opt.Int("--frames", "frames of the trajectory (the 4x run has 4 x FRAMES)", 2000, 20);
        var atoms = Opt.Int("--atoms", "atoms of the trajectory", 1000, 4);
        var seed = Opt.Int("--seed", "seed of the synthetic random walk", 1);
        var dir = Opt.Text("--dir", "where the two dumps and the reports are written (default: a new temp directory)", "DIR");
        var keep = Opt.Switch("--keep", "reuse the two dumps already in DIR (written by an earlier run with the same options)");
        var noMda = Opt.Switch("--no-mdanalysis", "skip the MDAnalysis comparison");
        var one = Opt.Text("--one", "internal: analyse one file in this process (the child of a run)", "FILE");
        var output = Opt.Text("--out", "internal: where --one writes its report", "FILE");
        var command = new FinalesCommand("md-analysis", "trajectory analysis time and peak memory (1x and 4x length), vs MDAnalysis if installed")
        {
            Errors = ErrorStyle.IndentedJson,
            Notes = """
                Writes DIR/traj.lammpsdump (FRAMES frames) and DIR/traj4.lammpsdump (4 x FRAMES), analyses each in a child
                process (MSD, Nernst-Einstein, Einstein-Helfand, 3 RDFs; time, peak RSS) and compares with MDAnalysis
                (EinsteinMSD fft=True, InterRDF) when python3 imports it. Prints JSON.
                """,
            Examples = ["./finales bench md-analysis", "./finales bench md-analysis --frames 500 --atoms 200 --no-mdanalysis"],
        };
        foreach (var o in new Option[] { frames, atoms, seed, dir, keep, noMda, one, output })
            command.Options.Add(o);
        command.SetAction(parse => parse.GetValue(one) is { } file
            ? RunOne(file, parse.GetValue(output) ?? throw new UsageError("--one needs --out FILE"))
            : Run(parse.GetValue(frames), parse.GetValue(atoms), parse.GetValue(seed), parse.GetValue(dir), parse.GetValue(keep), parse.GetValue(noMda)));
        return command;
    }

    private static int Run(int frames, int atoms, int seed, string? dirOption, bool keep, bool noMdAnalysis)
    {
        var dir = dirOption ?? Path.Combine(Path.GetTempPath(), $"finales-bench-md-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        var dump1 = Path.Combine(dir, "traj.lammpsdump");
        var dump4 = Path.Combine(dir, "traj4.lammpsdump");
        var sw = Stopwatch.StartNew();
        // The exact D of the walk (a formula of step, stride and timestep: the same whether or not the files are kept).
        var exactD = StepA * StepA / (2 * Stride * TimestepFs) * 1e-5;
        if (!(keep && File.Exists(dump1) && File.Exists(dump4)))
        {
            MdSynthetic.WriteRandomWalkDump(dump1, frames, atoms, seed, BoxA, StepA, Stride, TimestepFs, QuantumA);
            MdSynthetic.WriteRandomWalkDump(dump4, 4 * frames, atoms, seed, BoxA, StepA, Stride, TimestepFs, QuantumA);
            Console.Error.WriteLine($"bench md-analysis: wrote {frames} and {4 * frames} frames of {atoms} atoms in {sw.Elapsed.TotalSeconds:F1} s to {dir}");
        }

        var ours1 = Child(dump1, Path.Combine(dir, "finales.json"));
        var ours4 = Child(dump4, Path.Combine(dir, "finales4.json"));
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "finales.json")));

        var python = noMdAnalysis ? null : FindMdAnalysis();
        JsonDocument? mda = null;
        if (python is not null)
            mda = RunMdAnalysis(python, dump1, Path.Combine(dir, "mdanalysis.json"));

        using var stdout = Console.OpenStandardOutput();
        using var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("machine", $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
        w.WriteString("date", DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        w.WriteNumber("atoms", atoms);
        w.WriteNumber("exact_diffusion_m2_per_s", exactD);
        w.WriteNumber("finales_diffusion_cation_m2_per_s", report.RootElement.GetProperty("species")[0].GetProperty("diffusion_m2_per_s").GetDouble());
        WriteRun(w, "finales", frames, ours1);
        WriteRun(w, "finales_4x", 4 * frames, ours4);
        w.WriteNumber("peak_rss_ratio_4x", Math.Round(ours4.PeakRssMb / ours1.PeakRssMb, 2));
        w.WriteString("memory_note", "the reader holds one frame; the per-species centre-of-mass store grows as frames x units x 12 bytes (MSD over all time origins needs the whole series)");
        if (mda is null)
            w.WriteString("mdanalysis", python is null ? "not run (python3 cannot import MDAnalysis, or --no-mdanalysis)" : "failed (see stderr)");
        else
        {
            var m = mda.RootElement;
            var seconds = m.GetProperty("seconds").GetDouble();
            var cpu = m.GetProperty("cpu_seconds").GetDouble();
            w.WriteStartObject("mdanalysis");
            w.WriteString("version", m.GetProperty("version").GetString());
            w.WriteNumber("seconds", Math.Round(seconds, 2));
            w.WriteNumber("cpu_seconds", Math.Round(cpu, 2));
            w.WriteNumber("speedup_wall", Math.Round(seconds / ours1.Seconds, 1));
            w.WriteNumber("speedup_cpu", Math.Round(cpu / ours1.CpuSeconds, 1));
            w.WriteNumber("msd_max_rel_diff", MaxRelDiff(report.RootElement.GetProperty("species"), "msd_A2", m.GetProperty("msd"), skipFirst: true));
            w.WriteNumber("rdf_max_rel_diff", MaxRelDiff(report.RootElement.GetProperty("rdfs"), "g", m.GetProperty("rdf"), skipFirst: false));
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.Flush();
        Console.WriteLine();
        return 0;
    }

    private sealed record RunResult(double Seconds, double CpuSeconds, double PeakRssMb, double ComStoreMb);

    private static void WriteRun(Utf8JsonWriter w, string name, int frames, RunResult r)
    {
        w.WriteStartObject(name);
        w.WriteNumber("frames", frames);
        w.WriteNumber("seconds", Math.Round(r.Seconds, 2));
        w.WriteNumber("cpu_seconds", Math.Round(r.CpuSeconds, 2));
        w.WriteNumber("peak_rss_mb", r.PeakRssMb);
        w.WriteNumber("com_store_mb", Math.Round(r.ComStoreMb, 1));
        w.WriteEndObject();
    }

    /// <summary>Child mode: analyse one file, write the report to --out, print seconds and peak RSS as JSON.</summary>
    private static int RunOne(string dump, string output)
    {
        if (!MdAnalysis.TryParseSpecies(Species, out var species, out var error) || !MdAnalysis.TryParseRdfPairs(Rdfs, out var pairs, out error))
            throw new InvalidOperationException(error);
        var sw = Stopwatch.StartNew();
        var input = new MdAnalysisInput(dump, null, TimestepFs, 298.15, species, pairs, null, null);
        if (!MdAnalysis.TryAnalyse(input, out var report, out error))
            throw new UsageError(error);
        var seconds = sw.Elapsed.TotalSeconds;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        File.WriteAllText(output, report.ToJson());
        var units = report.Species.Sum(s => s.Units);
        Console.WriteLine(JsonSerializer.Serialize(new RunResult(seconds, cpu, BenchBroker.PeakRssMb(Environment.ProcessId), report.Frames * (double)units * 12 / 1048576)));
        return 0;
    }

    private static RunResult Child(string dump, string output)
    {
        var exe = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet")
            psi.ArgumentList.Add(typeof(BenchMdAnalysis).Assembly.Location);
        foreach (var arg in new[] { "bench", "md-analysis", "--one", dump, "--out", output })
            psi.ArgumentList.Add(arg);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {exe}");
        var text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new UsageError($"the analysis of {dump} failed (exit code {p.ExitCode})");
        return JsonSerializer.Deserialize<RunResult>(text) ?? throw new UsageError($"no result from the analysis of {dump}");
    }

    private static string? FindMdAnalysis()
    {
        foreach (var python in new[] { "python3", "/usr/bin/python3" })
        {
            try
            {
                using var p = Process.Start(new ProcessStartInfo(python, ["-c", "import MDAnalysis"]) { RedirectStandardError = true });
                if (p is null) continue;
                p.StandardError.ReadToEnd();
                p.WaitForExit();
                if (p.ExitCode == 0) return python;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // not installed under this name
            }
        }
        return null;
    }

    private const string Script = """
        import json, sys, time
        import MDAnalysis as mda
        from MDAnalysis.analysis.msd import EinsteinMSD
        from MDAnalysis.analysis.rdf import InterRDF
        dump, out, rmax, bins = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
        t0, c0 = time.perf_counter(), time.process_time()
        u = mda.Universe(dump, format="LAMMPSDUMP")
        msd = []
        for t in ("1", "2"):
            m = EinsteinMSD(u, select="type " + t, msd_type="xyz", fft=True)
            m.run()
            msd.append(m.results.timeseries.tolist())
        rdf = []
        for a, b in (("1", "1"), ("1", "2"), ("2", "2")):
            g1, g2 = u.select_atoms("type " + a), u.select_atoms("type " + b)
            r = InterRDF(g1, g2, nbins=bins, range=(0.0, rmax), exclusion_block=(1, 1) if a == b else None)
            r.run()
            rdf.append(r.results.rdf.tolist())
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        json.dump({"version": mda.__version__, "seconds": seconds, "cpu_seconds": cpu, "msd": msd, "rdf": rdf}, open(out, "w"))
        """;

    private static JsonDocument? RunMdAnalysis(string python, string dump, string output)
    {
        var script = Path.Combine(Path.GetDirectoryName(output)!, "mdanalysis_bench.py");
        File.WriteAllText(script, Script);
        var psi = new ProcessStartInfo(python, [script, dump, output, RMax.ToString(CultureInfo.InvariantCulture), Bins.ToString(CultureInfo.InvariantCulture)]);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {python}");
        p.WaitForExit();
        return p.ExitCode == 0 ? JsonDocument.Parse(File.ReadAllText(output)) : null;
    }

    /// <summary>max over series and points of |ours - theirs| / |theirs| where theirs is not 0.</summary>
    private static double MaxRelDiff(JsonElement ours, string property, JsonElement theirs, bool skipFirst)
    {
        var max = 0.0;
        for (var s = 0; s < theirs.GetArrayLength(); s++)
        {
            var a = ours[s].GetProperty(property);
            var b = theirs[s];
            if (a.GetArrayLength() != b.GetArrayLength())
                throw new UsageError($"series {s}: {a.GetArrayLength()} points here, {b.GetArrayLength()} from MDAnalysis");
            for (var k = skipFirst ? 1 : 0; k < b.GetArrayLength(); k++)
            {
                var t = b[k].GetDouble();
                if (t != 0) max = Math.Max(max, Math.Abs(a[k].GetDouble() - t) / Math.Abs(t));
            }
        }
        return max;
    }
}
