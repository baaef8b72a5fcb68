using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Hosting;
using Finales.Md.Interop;

namespace Finales.Tenants.Md;

/// <summary>What run_info reports about a job.</summary>
public sealed record RunFacts(string EngineVersion, string Model, string Executor, string JobId, MdJob Job, double WallSeconds);

/// <summary>
/// The result data of one request, shaped by its capability's result schema: <c>{run_info, conductivity, density,
/// RDF, number_molecules_per_component}</c>, <c>{run_info, density}</c> or the corpus <c>RDFOutput</c>. Conductivity
/// is Einstein-Helfand (it includes ion pairing); its rating comes from its standard error
/// (<see cref="PrimitiveSetup.Rating"/>). The primitive model's density is the one its box was built with (the core's
/// density model: an implicit solvent cannot predict it): rating 1; the all-atom model's is the NPT stage's mean,
/// rated from its standard error.
/// </summary>
public sealed class MdResults(TenantCapability capability, Guid requestId, JsonElement formulation, double temperatureK)
{
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A failed result that still validates against the capability's schema.</summary>
    public JsonElement Failed(string message, RunFacts? run = null)
    {
        var meta = new JsonObject { ["success"] = false, ["rating"] = 0, ["message"] = message };
        JsonObject data;
        if (capability == MdWorker.Rdf)
            data = new JsonObject
            {
                ["radius"] = new JsonArray(), ["pair_title"] = new JsonArray(), ["RDF"] = new JsonArray(),
                ["cell_volume"] = 0.0, ["cell_formula"] = "", ["meta"] = meta, ["run_info"] = RunInfo(run, null),
            };
        else
            data = new JsonObject
            {
                ["run_info"] = RunInfo(run, null),
                [capability.Quantity] = new JsonObject { ["values"] = new JsonArray(), ["temperature"] = temperatureK, ["meta"] = meta },
            };
        return JsonSerializer.SerializeToElement(data, Relaxed);
    }

    /// <summary>The successful result of an analysed job.</summary>
    public WorkOutcome Succeeded(RunFacts run, MdAnalysisReport report)
    {
        var job = run.Job;
        var eh = report.ConductivityEinsteinHelfandSPerM;
        var ehErr = report.ConductivityEinsteinHelfandErrSPerM;
        double densityValue = double.NaN;
        int densityRating = 0;
        if (job.BuiltDensityGPerCm3 is double built)
            (densityValue, densityRating) = (built, 1);
        else if (report.DensityGPerCm3 is double npt && double.IsFinite(npt))
            (densityValue, densityRating) = (npt, PrimitiveSetup.Rating(npt, report.DensityErrGPerCm3));
        const string noDensity = "the analysis gave no density from the NPT stage";
        JsonObject? density = double.IsNaN(densityValue) ? null : new JsonObject
        {
            ["values"] = new JsonArray(densityValue),
            ["temperature"] = temperatureK,
            ["meta"] = new JsonObject { ["success"] = true, ["rating"] = densityRating },
        };
        JsonObject? rdf = null;
        if (report.TryRdfOutputJson(job.CellFormula, out var rdfJson, out _))
            rdf = JsonNode.Parse(rdfJson)!.AsObject();
        if (rdf is not null) rdf["cell_volume"] = job.CellVolumeAngstrom3 ?? report.MeanVolumeA3;

        JsonObject data;
        string message;
        if (capability == MdWorker.Rdf)
        {
            if (rdf is null)
                return WorkOutcome.Failed(Failed("the analysis gave no RDF", run), "the analysis gave no RDF");
            data = rdf;
            data["meta"] = new JsonObject { ["success"] = true, ["rating"] = PrimitiveSetup.Rating(1, null) };
            data["run_info"] = RunInfo(run, report);
            message = $"{report.Rdfs.Count} RDFs from {report.Frames} frames";
        }
        else if (density is null)
            return WorkOutcome.Failed(Failed(noDensity, run), noDensity);
        else if (capability == MdWorker.Density)
        {
            data = new JsonObject { ["run_info"] = RunInfo(run, report), ["density"] = density };
            message = job.BuiltDensityGPerCm3 is null
                ? $"{densityValue:G4} +- {report.DensityErrGPerCm3:G2} g/cm3 (NPT stage, {job.Model})"
                : $"{densityValue:G4} g/cm3 (the primitive model's box density)";
        }
        else
        {
            if (eh is not double sigma || !double.IsFinite(sigma))
                return WorkOutcome.Failed(Failed("the analysis gave no Einstein-Helfand conductivity", run), "no Einstein-Helfand conductivity");
            data = new JsonObject
            {
                ["run_info"] = RunInfo(run, report),
                ["conductivity"] = new JsonObject
                {
                    ["values"] = new JsonArray(sigma),
                    ["temperature"] = temperatureK,
                    ["meta"] = new JsonObject { ["success"] = true, ["rating"] = PrimitiveSetup.Rating(sigma, ehErr) },
                },
                ["density"] = density,
                ["RDF"] = rdf,
                ["number_molecules_per_component"] = new JsonObject(job.MoleculesByInChIKey.Select(kv =>
                    KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            };
            message = $"{sigma:G4} +- {ehErr:G2} S/m (Einstein-Helfand), Nernst-Einstein {report.ConductivityNernstEinsteinSPerM:G4} S/m";
        }
        return WorkOutcome.Succeeded(JsonSerializer.SerializeToElement(data, Relaxed), message);
    }

    private JsonObject RunInfo(RunFacts? run, MdAnalysisReport? report)
    {
        var info = new JsonObject
        {
            ["formulation"] = formulation.ValueKind == JsonValueKind.Array ? JsonNode.Parse(formulation.GetRawText()) : new JsonArray(),
            ["internal_reference"] = run?.JobId ?? requestId.ToString("D"),
        };
        if (run is null) return info;
        var job = run.Job;
        info["engine"] = "LAMMPS";
        info["engine_version"] = run.EngineVersion;
        info["model"] = run.Model;
        info["executor"] = run.Executor;
        info["job_id"] = run.JobId;
        info["wall_seconds"] = run.WallSeconds;
        info["box"] = job.Box();
        info["steps"] = job.Steps();
        if (report is null) return info;
        info["analysis"] = new JsonObject
        {
            ["frames"] = report.Frames,
            ["conductivity_einstein_helfand_s_per_m"] = report.ConductivityEinsteinHelfandSPerM,
            ["conductivity_einstein_helfand_err_s_per_m"] = report.ConductivityEinsteinHelfandErrSPerM,
            ["conductivity_nernst_einstein_s_per_m"] = report.ConductivityNernstEinsteinSPerM,
            ["conductivity_nernst_einstein_err_s_per_m"] = report.ConductivityNernstEinsteinErrSPerM,
            ["transference_number"] = report.TransferenceNumber,
            ["transference_definition"] = report.TransferenceDefinition,
            ["diffusion_m2_per_s"] = new JsonObject(report.Species.Select(s =>
                KeyValuePair.Create(s.Name, (JsonNode?)new JsonArray(s.DiffusionM2PerS, s.DiffusionErrM2PerS)))),
        };
        return info;
    }
}
