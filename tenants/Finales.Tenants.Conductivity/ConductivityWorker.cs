using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Core;
using Finales.Core.Interop;
using Finales.Hosting;

namespace Finales.Tenants.Conductivity;

/// <summary>A chemical as FINALES2 names it.</summary>
public sealed record ChemicalId(string Name, string Smiles, string InChIKey)
{
    /// <summary>The identifiers of a chemical of the core's table (by name, SMILES or InChIKey).</summary>
    public static ChemicalId Of(string key)
    {
        var c = ScienceApi.FindChemical(key);
        return new ChemicalId(c.Name, c.Smiles, c.InChIKey);
    }
}

/// <summary>
/// The computational tenant of the paper: answers <c>conductivity/polynomial_interpolation</c> with the
/// low-fidelity model. Requests it cannot serve (outside its limitations, not mole fractions, no temperature,
/// rejected by the model) get a failed result: <c>conductivity.meta.success = false</c>, rating 0, no values and
/// <c>meta.message</c> saying why; the data still validates against the capability's result schema.
/// </summary>
public sealed class ConductivityWorker : ITenantWorker
{
    public static readonly TenantCapability Capability = new("conductivity", "polynomial_interpolation");
    // The identifiers come from the core's chemicals table, never copied here.
    public static readonly ChemicalId LiPF6 = ChemicalId.Of("LiPF6");
    public static readonly ChemicalId EC = ChemicalId.Of("EC");
    public static readonly ChemicalId PC = ChemicalId.Of("PC");
    public const double MinTemperatureKelvin = 243.15;
    public const double MaxTemperatureKelvin = 333.15;
    /// <summary>Admitted mole fraction of LiPF6 (the model needs salt; above 0.5 is far outside its data).</summary>
    public const double MinSaltFraction = 0.001, MaxSaltFraction = 0.5;

    private readonly IConductivityModel _model;
    private readonly IReadOnlyList<TenantLimitation> _own;

    private readonly TimeSpan _simulated;

    /// <param name="model">The conductivity model.</param>
    /// <param name="simulatedSeconds">Simulated compute time per request (demos and crash tests: the model itself takes microseconds).</param>
    public ConductivityWorker(IConductivityModel model, double simulatedSeconds = 0)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        if (!(simulatedSeconds >= 0)) throw new ArgumentOutOfRangeException(nameof(simulatedSeconds), simulatedSeconds, "Conductivity:SimulatedSeconds must be >= 0");
        _simulated = TimeSpan.FromSeconds(simulatedSeconds);
        _own = Finales.Core.Interop.LimitationsJson.ParseTenantLimitations(LimitationsJson(), out var problems);
        if (problems.Count > 0) throw new InvalidOperationException("the tenant's own limitations do not parse: " + string.Join("; ", problems));
    }

    public IReadOnlyList<TenantCapability> Capabilities { get; } = [Capability];

    /// <summary>The limitations in the FINALES2 language: one formulation alternative of LiPF6 (required, mole fraction
    /// 0.001..0.5), EC and PC (each 0..1, may be absent), mole fractions, temperature 243.15..333.15 K.</summary>
    public string LimitationsJson()
    {
        var limitations = Finales.Core.Interop.LimitationsJson.DesignSpace(
            [
                new DesignComponentSpec(LiPF6.InChIKey, new FractionInterval(MinSaltFraction, MaxSaltFraction)),
                new DesignComponentSpec(EC.InChIKey, new FractionInterval(0, 1)),
                new DesignComponentSpec(PC.InChIKey, new FractionInterval(0, 1)),
            ],
            MinTemperatureKelvin, MaxTemperatureKelvin);
        return new JsonArray(Finales.Core.Interop.LimitationsJson.TenantEntry(Capability.Quantity, Capability.Method, limitations)).ToJsonString();
    }

    public async Task<WorkOutcome> ProcessAsync(WorkItem item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (_simulated > TimeSpan.Zero) await Task.Delay(_simulated, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        return Evaluate(item.RequestId, item.Parameters);
    }

    /// <summary>The result data for one request's parameters (pure apart from the model).</summary>
    public WorkOutcome Evaluate(Guid requestId, JsonElement parameters)
    {
        var formulation = parameters.ValueKind == JsonValueKind.Object && parameters.TryGetProperty("formulation", out var f) ? f : default;
        double? temperature = parameters.ValueKind == JsonValueKind.Object && parameters.TryGetProperty("temperature", out var t)
                              && t.ValueKind == JsonValueKind.Number ? t.GetDouble() : null;

        WorkOutcome Fail(string message) => WorkOutcome.Failed(Data(requestId, formulation, temperature, null, message), message);

        if (parameters.ValueKind != JsonValueKind.Object)
            return Fail($"parameters must be an object, got {parameters.ValueKind}");
        if (formulation.ValueKind != JsonValueKind.Array)
            return Fail($"formulation must be a list of components, got {(formulation.ValueKind == JsonValueKind.Undefined ? "nothing" : formulation.ValueKind.ToString())}");
        if (temperature is null)
            return Fail($"temperature is {(parameters.TryGetProperty("temperature", out var raw) ? raw.GetRawText() : "missing")}; " +
                        $"polynomial_interpolation needs a temperature in kelvin ({MinTemperatureKelvin}..{MaxTemperatureKelvin})");

        if (!Finales.Core.Interop.LimitationsJson.TryAdmit(_own, parameters, out var refusal))
            return Fail("outside this tenant's limitations: " + refusal);

        if (!FormulationJson.TryDecodeMoleFractions(formulation, DuplicateChemicalPolicy.Refuse, out var fractions, out var refused))
            return Fail(refused);

        try
        {
            var estimate = _model.Estimate(fractions, temperature.Value);
            if (!double.IsFinite(estimate.SiemensPerMeter))
                return Fail($"the model gave a non-finite conductivity ({estimate.SiemensPerMeter}) for these inputs");
            var note = estimate.InDomain ? "" : "extrapolated outside the training domain";
            return WorkOutcome.Succeeded(Data(requestId, formulation, temperature, estimate, null),
                $"{estimate.SiemensPerMeter.ToString("G6", CultureInfo.InvariantCulture)} S/m at {temperature.Value.ToString(CultureInfo.InvariantCulture)} K, rating {estimate.Rating}" +
                (note.Length > 0 ? ", " + note : ""));
        }
        catch (ConductivityModelException e)
        {
            return Fail(e.Message);
        }
    }

    /// <summary>Result data shaped like examples/results/conductivity/polynomial_interpolation.json.</summary>
    private static JsonElement Data(Guid requestId, JsonElement formulation, double? temperature, ConductivityEstimate? estimate, string? failure)
    {
        var meta = new JsonObject { ["success"] = estimate is not null, ["rating"] = estimate?.Rating ?? 0 };
        if (failure is not null) meta["message"] = failure;
        var values = estimate is null ? new JsonArray() : new JsonArray(estimate.SiemensPerMeter);
        var data = new JsonObject
        {
            ["run_info"] = new JsonObject
            {
                ["formulation"] = formulation.ValueKind == JsonValueKind.Array ? JsonNode.Parse(formulation.GetRawText()) : new JsonArray(),
                ["internal_reference"] = requestId.ToString("D"),
            },
            ["conductivity"] = new JsonObject
            {
                ["values"] = values,
                ["temperature"] = temperature,
                ["meta"] = meta,
            },
        };
        return JsonSerializer.SerializeToElement(data, Relaxed);
    }

    // SMILES keep their '+' in the result text (the default encoder would write \u002B).
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
