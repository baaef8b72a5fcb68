namespace Finales.Tenants.Conductivity;

/// <summary>A conductivity estimate in the schema's unit (S/m) with its rating (0-5) and whether the inputs were
/// inside the model's training domain.</summary>
public sealed record ConductivityEstimate(double SiemensPerMeter, int Rating, bool InDomain);

/// <summary>The model cannot answer for these inputs; the message names the field and the value.</summary>
public sealed class ConductivityModelException(string message) : Exception(message);

/// <summary>The low-fidelity conductivity model of domain.md section 6, as the tenant sees it.</summary>
public interface IConductivityModel
{
    /// <summary>Conductivity of a formulation given as mole fractions (keyed by InChIKey, SMILES or name, summing to 1)
    /// at a temperature in kelvin. Throws <see cref="ConductivityModelException"/> when the model cannot answer.</summary>
    ConductivityEstimate Estimate(IReadOnlyDictionary<string, double> moleFractions, double temperatureKelvin);
}
