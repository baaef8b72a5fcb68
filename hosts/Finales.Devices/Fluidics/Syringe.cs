using System.Globalization;

namespace Finales.Devices.Fluidics;

/// <summary>
/// A glass syringe on a neMESYS pump: inner diameter and stroke fix its volume and flow limits.
/// Flow limits are area x 1.042 um/s .. area x 6.33 mm/s (the pump's slowest and fastest plunger speeds).
/// </summary>
public sealed record SyringeSize(string Name, double InnerDiameterMm, double StrokeMm = 60.0)
{
    /// <summary>Slowest plunger speed, mm/s.</summary>
    public const double MinPlungerSpeedMmPerS = 1.042e-3;
    /// <summary>Fastest plunger speed, mm/s.</summary>
    public const double MaxPlungerSpeedMmPerS = 6.33;

    public static SyringeSize Ml25 { get; } = new("25 mL", 23.0329);
    public static SyringeSize Ml10 { get; } = new("10 mL", 14.5673);
    public static SyringeSize Ml5 { get; } = new("5 mL", 10.3006);
    public static SyringeSize Ml2_5 { get; } = new("2.5 mL", 7.28366);
    public static SyringeSize Ml1 { get; } = new("1 mL", 4.60659);

    /// <summary>The syringes the lab robot stocks.</summary>
    public static IReadOnlyList<SyringeSize> Standard { get; } = [Ml25, Ml10, Ml5, Ml2_5, Ml1];

    /// <summary>The standard syringe of a nominal volume (25, 10, 5, 2.5, 1 mL).</summary>
    public static SyringeSize FromNominalVolume(double volumeMl) =>
        Standard.FirstOrDefault(s => Math.Abs(s.CapacityMl - volumeMl) < 0.01 * volumeMl)
        ?? throw new ArgumentOutOfRangeException(nameof(volumeMl), volumeMl,
            $"Syringe volume is {volumeMl} mL; standard syringes are {string.Join(", ", Standard.Select(s => s.Name))}.");

    /// <summary>Piston area, mm2.</summary>
    public double AreaMm2 => Math.PI * InnerDiameterMm * InnerDiameterMm / 4.0;

    /// <summary>Volume of a full stroke, mL.</summary>
    public double CapacityMl => AreaMm2 * StrokeMm / 1000.0;

    /// <summary>Smallest flow, mL/s.</summary>
    public double MinFlowMlPerS => AreaMm2 * MinPlungerSpeedMmPerS / 1000.0;

    /// <summary>Largest flow, mL/s.</summary>
    public double MaxFlowMlPerS => AreaMm2 * MaxPlungerSpeedMmPerS / 1000.0;

    /// <summary>Throws <see cref="FlowOutOfRangeException"/> unless min &lt;= |flow| &lt;= max.</summary>
    public void ValidateFlow(string pump, double flowMlPerS)
    {
        var magnitude = Math.Abs(flowMlPerS);
        if (!double.IsFinite(flowMlPerS) || magnitude < MinFlowMlPerS * (1 - 1e-9) || magnitude > MaxFlowMlPerS * (1 + 1e-9))
            throw new FlowOutOfRangeException(pump, this, flowMlPerS);
    }

    /// <summary>
    /// Throws <see cref="FillLevelOutOfRangeException"/> unless 0 &lt;= level &lt;= capacity (with 0.01 % slack, so
    /// the nominal 10 mL fits a 9.99998 mL stroke); returns the level clamped to the stroke.
    /// </summary>
    public double ValidateFillLevel(string pump, double levelMl)
    {
        if (!double.IsFinite(levelMl) || levelMl < 0 || levelMl > CapacityMl * (1 + 1e-4))
            throw new FillLevelOutOfRangeException(pump, this, levelMl);
        return Math.Min(levelMl, CapacityMl);
    }
}

/// <summary>A requested flow outside the syringe's limits.</summary>
public sealed class FlowOutOfRangeException : DeviceException
{
    public FlowOutOfRangeException(string pump, SyringeSize syringe, double flowMlPerS)
        : base(string.Create(CultureInfo.InvariantCulture,
            $"Pump {pump}: flow {flowMlPerS:G6} mL/s is outside the limits of the {syringe.Name} syringe ({syringe.MinFlowMlPerS:G4} .. {syringe.MaxFlowMlPerS:G4} mL/s)."))
    {
        FlowMlPerS = flowMlPerS;
        MinFlowMlPerS = syringe.MinFlowMlPerS;
        MaxFlowMlPerS = syringe.MaxFlowMlPerS;
    }

    public double FlowMlPerS { get; }
    public double MinFlowMlPerS { get; }
    public double MaxFlowMlPerS { get; }
}

/// <summary>A requested fill level outside 0 .. the syringe's capacity.</summary>
public sealed class FillLevelOutOfRangeException : DeviceException
{
    public FillLevelOutOfRangeException(string pump, SyringeSize syringe, double levelMl)
        : base(string.Create(CultureInfo.InvariantCulture,
            $"Pump {pump}: fill level {levelMl:G6} mL is outside 0 .. {syringe.CapacityMl:G6} mL of the {syringe.Name} syringe."))
    {
        LevelMl = levelMl;
    }

    public double LevelMl { get; }
}
