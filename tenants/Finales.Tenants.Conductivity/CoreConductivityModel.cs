namespace Finales.Tenants.Conductivity;

/// <summary>The core's low-fidelity conductivity model (Finales.Core science facade, domain.md section 6).</summary>
public sealed class CoreConductivityModel : IConductivityModel
{
    /// <summary>Whether this build contains the core's science (transitional: false until it is merged into main).</summary>
#if FINALES_SCIENCE
    public static bool Available => true;
#else
    public static bool Available => false;
#endif

    public ConductivityEstimate Estimate(IReadOnlyDictionary<string, double> moleFractions, double temperatureKelvin)
    {
        ArgumentNullException.ThrowIfNull(moleFractions);
#if FINALES_SCIENCE
        try
        {
            var e = Finales.Core.ScienceApi.Conductivity(moleFractions, temperatureKelvin);
            return new ConductivityEstimate(e.ConductivitySiemensPerMeter, e.Rating, e.InDomain);
        }
        catch (Finales.Core.ScienceException e)
        {
            throw new ConductivityModelException(e.Message);
        }
#else
        throw new ConductivityModelException(
            "this build has no conductivity model: the science core (core/Finales.Core/Science) is not merged yet");
#endif
    }
}
