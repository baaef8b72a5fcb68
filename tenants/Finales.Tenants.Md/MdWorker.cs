using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Core;
using Finales.Core.Interop;
using Finales.Hosting;
using Finales.Hpc;
using Finales.Md.Interop;

namespace Finales.Tenants.Md;

/// <summary>
/// The MD simulation tenant: one LAMMPS job per request (the primitive or the all-atom model, per
/// <see cref="MdOptions.Model"/>), analysed by the trajectory analysis,
/// answering <c>conductivity/molecular_dynamics</c>, <c>density/molecular_dynamics</c> and
/// <c>radial_density_function/molacular_dynamics</c> (the corpus' spelling). A request the model cannot simulate
/// gets a failed result naming the field, and no job is submitted. A job that fails gets a failed result with the
/// scheduler's state and reason and the log's last lines.
/// </summary>
public sealed class MdWorker : ITenantWorker
{
    public static readonly TenantCapability Conductivity = new("conductivity", "molecular_dynamics");
    public static readonly TenantCapability Density = new("density", "molecular_dynamics");
    public static readonly TenantCapability Rdf = new("radial_density_function", "molacular_dynamics");
    /// <summary>Temperature of a request that gives none (the schemas of conductivity and density allow null).</summary>
    public const double DefaultTemperatureK = 298.15;
    /// <summary>Admitted LiPF6 mole fraction (the model itself checks the molarity, 0.05..3 mol/L).</summary>
    public const double MinSaltFraction = 0.005, MaxSaltFraction = 0.3;

    private readonly MdOptions _options;
    private readonly IMdJobRunner _runner;
    private readonly string _engineVersion;
    private readonly string _executorKind;
    private readonly CancellationToken _hostStopping;

    /// <param name="options">The "Md" section.</param>
    /// <param name="runner">Job supervision (local or Slurm executor underneath).</param>
    /// <param name="engineVersion">The LAMMPS version reported in run_info.</param>
    /// <param name="executorKind">"local" or "slurm", reported in run_info.</param>
    /// <param name="hostStopping">Cancelled when the host stops: a job is then left running for re-attach; any other
    /// cancellation (the lease was lost: the request was retracted or taken away) cancels the job.</param>
    public MdWorker(MdOptions options, IMdJobRunner runner, string engineVersion, string executorKind, CancellationToken hostStopping)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _runner = runner ?? throw new ArgumentNullException(nameof(runner));
        _engineVersion = engineVersion ?? throw new ArgumentNullException(nameof(engineVersion));
        _executorKind = executorKind ?? throw new ArgumentNullException(nameof(executorKind));
        _hostStopping = hostStopping;
        var problems = options.Problems();
        if (problems.Count > 0) throw new ArgumentException(string.Join("; ", problems), nameof(options));
    }

    public IReadOnlyList<TenantCapability> Capabilities { get; } = [Conductivity, Density, Rdf];

    /// <summary>LiPF6 0.005..0.3 (required) in any mix of EC, EMC, DMC and PC, mole fractions, 243.15..353.15 K,
    /// for each capability.</summary>
    public string LimitationsJson()
    {
        var components = new[] { "LiPF6", "EC", "EMC", "DMC", "PC" }.Select(name =>
        {
            var c = Finales.Core.ScienceApi.FindChemical(name);
            return name == "LiPF6"
                ? new DesignComponentSpec(c.InChIKey, new FractionInterval(MinSaltFraction, MaxSaltFraction))
                : new DesignComponentSpec(c.InChIKey, new FractionInterval(0, 1));
        }).ToArray();
        var list = new JsonArray();
        foreach (var cap in Capabilities)
            list.Add(Finales.Core.Interop.LimitationsJson.TenantEntry(cap.Quantity, cap.Method,
                Finales.Core.Interop.LimitationsJson.DesignSpace(components, PrimitiveSetup.MinTemperatureK, PrimitiveSetup.MaxTemperatureK)));
        return list.ToJsonString();
    }

    public async Task<WorkOutcome> ProcessAsync(WorkItem item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        var p = item.Parameters;
        var formulation = p.ValueKind == JsonValueKind.Object && p.TryGetProperty("formulation", out var f) ? f : default;
        double? givenTemperature = p.ValueKind == JsonValueKind.Object && p.TryGetProperty("temperature", out var t)
                                   && t.ValueKind == JsonValueKind.Number ? t.GetDouble() : null;
        var temperature = givenTemperature ?? DefaultTemperatureK;
        var results = new MdResults(item.Capability, item.RequestId, formulation, temperature);

        if (!TryPrepare(item, out var job, out var refusal))
            return WorkOutcome.Failed(results.Failed(refusal), refusal);

        var dir = Path.Combine(Path.GetFullPath(_options.WorkDirectory), item.RequestId.ToString("D"));
        Directory.CreateDirectory(dir);
        // The files are a function of the request; a re-attached job's LAMMPS may still be reading them: never rewrite.
        foreach (var (name, text) in job.Files)
        {
            var path = Path.Combine(dir, name);
            if (!File.Exists(path)) await File.WriteAllTextAsync(path, text, cancellationToken);
        }
        var spec = new JobSpec(item.RequestId.ToString("D"), dir, job.Script, job.RestartScript,
            TimeSpan.FromMinutes(_options.TimeLimitMinutes), _options.Cpus);

        JobVerdict verdict;
        try
        {
            verdict = await _runner.RunAsync(spec, d => LogComplete(Path.Combine(d, job.LogFile)), cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !_hostStopping.IsCancellationRequested)
        {
            // Not a host stop: the request was retracted or its lease lost. Its job must not run on.
            await _runner.CancelAsync(spec.Name, CancellationToken.None);
            throw;
        }

        var run = new RunFacts(_engineVersion, _options.Model, _executorKind, verdict.JobId, job, verdict.Wall.TotalSeconds);
        if (!verdict.Success)
        {
            var why = $"the LAMMPS job failed ({verdict.FinalState}): {verdict.Reason}; log tail: {verdict.LogTail}";
            return WorkOutcome.Failed(results.Failed(why, run), why);
        }
        if (!MdAnalysis.TryAnalyse(job.AnalysisInput(dir), cancellationToken, out var report, out var error))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var why = "the trajectory analysis failed: " + error;
            return WorkOutcome.Failed(results.Failed(why, run), why);
        }
        return results.Succeeded(run, report);
    }

    /// <summary>The job of a request, or why the model cannot simulate it (naming the field): no job then.</summary>
    public bool TryPrepare(WorkItem item, out MdJob job, out string refusal)
    {
        ArgumentNullException.ThrowIfNull(item);
        job = null!;
        var p = item.Parameters;
        if (p.ValueKind != JsonValueKind.Object) { refusal = $"parameters must be an object, got {p.ValueKind}"; return false; }
        if (!p.TryGetProperty("formulation", out var formulation) || formulation.ValueKind != JsonValueKind.Array)
        { refusal = "formulation must be a list of components"; return false; }
        double temperature = DefaultTemperatureK;
        if (p.TryGetProperty("temperature", out var t) && t.ValueKind != JsonValueKind.Null)
        {
            if (t.ValueKind != JsonValueKind.Number) { refusal = $"temperature is {t.GetRawText()}; it must be a number in kelvin"; return false; }
            temperature = t.GetDouble();
        }
        else if (item.Capability == Rdf) { refusal = "temperature is missing; radial_density_function/molacular_dynamics requires it"; return false; }
        if (!FormulationJson.TryDecodeMoleFractions(formulation, DuplicateChemicalPolicy.Refuse, out var fractions, out var decodeError))
        { refusal = "formulation: " + decodeError; return false; }
        if (_options.Model == MdJob.AllAtom)
        {
            if (!MdJob.TryAllAtom(_options.AllAtomInput(fractions, temperature), out job, out refusal)) return false;
        }
        else
        {
            var settings = PrimitiveRunSettings.Default(_options.Seed).WithProductionPs(_options.ProductionPs);
            if (!PrimitiveSetup.TryBuild(fractions, temperature, settings, _options.Lammps, out var primitive, out var error))
            { refusal = error; return false; }
            job = MdJob.Of(primitive);
        }
        refusal = "";
        return true;
    }

    private static bool LogComplete(string log) => File.Exists(log) && PrimitiveSetup.LogShowsCompletion(File.ReadAllText(log));
}
