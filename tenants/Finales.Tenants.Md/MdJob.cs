using System.Text.Json.Nodes;
using Finales.Md.Interop;

namespace Finales.Tenants.Md;

/// <summary>
/// One prepared job of either model level: the files to write into its job directory, its scripts, how to analyse
/// it and what its result states. <see cref="BuiltDensityGPerCm3"/> is the primitive model's box density (an
/// implicit solvent cannot predict one); null for the all-atom level, whose density is the NPT stage's.
/// <see cref="CellVolumeAngstrom3"/> null means the production run's mean volume.
/// </summary>
public sealed record MdJob(
    string Model,
    IReadOnlyDictionary<string, string> Files,
    string Script,
    string RestartScript,
    string LogFile,
    Func<string, MdAnalysisInput> AnalysisInput,
    double? BuiltDensityGPerCm3,
    string CellFormula,
    double? CellVolumeAngstrom3,
    IReadOnlyDictionary<string, int> MoleculesByInChIKey,
    Func<JsonObject> Box,
    Func<JsonObject> Steps)
{
    public const string Primitive = "primitive";
    public const string AllAtom = "all-atom";

    /// <summary>The primitive model's job (<see cref="PrimitiveSetup.TryBuild"/>).</summary>
    public static MdJob Of(PrimitiveJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return new MdJob(Primitive, job.Files, job.Script, job.RestartScript, job.LogFile, job.AnalysisInput,
            job.DensityGPerCm3, job.CellFormula, job.CellVolumeAngstrom3,
            new Dictionary<string, int> { [Finales.Core.ScienceApi.FindChemical("LiPF6").InChIKey] = job.IonCount / 2 },
            () => new JsonObject
            {
                ["edge_angstrom"] = job.BoxLengthAngstrom, ["ions"] = job.IonCount, ["salt_mol_per_l"] = job.SaltMolarity,
                ["relative_permittivity"] = job.Permittivity, ["viscosity_mpa_s"] = job.ViscosityMPaS,
            },
            () => new JsonObject
            {
                ["timestep_fs"] = job.TimestepFs, ["equilibration"] = job.EquilibrationSteps, ["production"] = job.ProductionSteps,
                ["frame_every"] = job.FrameEverySteps,
            });
    }

    /// <summary>
    /// The all-atom job (<see cref="AllAtomSetup.TryPrepare"/>). The setup writes its files into a scratch
    /// directory that is removed again; the job carries their text, so nothing is written under the tenant's work
    /// directory for a request the level refuses (false and the setup's message naming the field and value).
    /// </summary>
    public static bool TryAllAtom(AllAtomSetupInput input, out MdJob job, out string error)
    {
        ArgumentNullException.ThrowIfNull(input);
        job = null!;
        var scratch = Path.Combine(Path.GetTempPath(), "finales-md-prepare-" + Guid.NewGuid().ToString("N"));
        try
        {
            if (!AllAtomSetup.TryPrepare(input, scratch, out var plan, out error)) return false;
            var files = plan.Files.ToDictionary(f => f, f => File.ReadAllText(Path.Combine(scratch, f)), StringComparer.Ordinal);
            var molecules = plan.Counts.ToDictionary(kv => Finales.Core.ScienceApi.FindChemical(kv.Key).InChIKey, kv => kv.Value);
            var cellFormula = string.Join(" ", plan.Counts.Select(kv => $"({kv.Key}){kv.Value}"));
            var logFile = Path.GetFileName(plan.LogPath);
            var dumpFile = Path.GetFileName(plan.DumpPath);
            job = new MdJob(AllAtom, files, plan.Script, plan.RestartScript, logFile,
                dir => new MdAnalysisInput(Path.Combine(dir, dumpFile), Path.Combine(dir, logFile), plan.TimestepFs,
                    plan.TemperatureK, plan.Species, plan.RdfPairs, null, null)
                { TypeMasses = plan.TypeMasses },
                null, cellFormula, null, molecules,
                () => new JsonObject
                {
                    ["atoms"] = plan.Atoms, ["initial_edge_angstrom"] = plan.BoxEdgeAngstrom,
                    ["packing_density_g_per_cm3"] = plan.EstimatedDensityGPerCm3, ["cutoff_angstrom"] = plan.CutoffAngstrom,
                    ["molecules"] = new JsonObject(plan.Counts.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                    ["mole_fractions"] = new JsonObject(plan.AchievedMoleFractions.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                },
                () => new JsonObject
                {
                    ["timestep_fs"] = plan.TimestepFs, ["minimise_iterations"] = input.MinimiseIterations, ["nvt"] = input.NvtSteps,
                    ["npt"] = input.NptSteps, ["production"] = input.ProductionSteps, ["frame_every"] = input.DumpEvery,
                });
            return true;
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
    }
}
