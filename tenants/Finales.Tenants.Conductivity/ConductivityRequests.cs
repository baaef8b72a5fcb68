using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Core.Interop;

namespace Finales.Tenants.Conductivity;

/// <summary>Example requests for the tenant: random LiPF6/EC/PC formulations inside its limitations, seeded.</summary>
public static class ConductivityRequests
{
    // SMILES keep their '+' in the request text (the default encoder would write \u002B).
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Parameters of one random request: LiPF6 mole fraction 0.02..0.2, the rest EC and PC split 10..90 %,
    /// temperature 243.15..333.15 K (0.01 K steps); fractions rounded to 6 decimals, summing to 1 within 1e-12.</summary>
    public static JsonElement RandomParameters(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var salt = Math.Round(0.02 + 0.18 * random.NextDouble(), 6);
        var ec = Math.Round((1 - salt) * (0.1 + 0.8 * random.NextDouble()), 6);
        var pc = Math.Round(1 - salt - ec, 6);
        var temperature = Math.Round(ConductivityWorker.MinTemperatureKelvin
                                     + (ConductivityWorker.MaxTemperatureKelvin - ConductivityWorker.MinTemperatureKelvin) * random.NextDouble(), 2);
        return Parameters([(ConductivityWorker.LiPF6, salt), (ConductivityWorker.EC, ec), (ConductivityWorker.PC, pc)], temperature);
    }

    /// <summary>The parameters object for given mole fractions and temperature.</summary>
    public static JsonElement Parameters(IEnumerable<(ChemicalId Chemical, double Fraction)> fractions, double temperatureKelvin)
    {
        var formulation = FormulationJson.Encode(fractions.Select(p => KeyValuePair.Create(p.Chemical.InChIKey, p.Fraction)));
        return JsonSerializer.SerializeToElement(new JsonObject { ["formulation"] = formulation, ["temperature"] = temperatureKelvin }, Relaxed);
    }
}
