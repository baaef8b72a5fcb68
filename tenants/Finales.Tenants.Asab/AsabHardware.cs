using System.Text.RegularExpressions;
using Finales.Core;
using Finales.Devices;
using Finales.Devices.Balance;
using Finales.Devices.Fluidics;
using Finales.Devices.Lims;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Finales.Tenants.Asab;

/// <summary>
/// The lab robot's devices as the ASAB worker drives them: pumps and valves by node name, the density/viscosity meter,
/// an optional balance, and how a pump is told which tubing path it now moves liquid along.
/// </summary>
public interface IAsabHardware : IAsyncDisposable
{
    ISyringePump Pump(string node);
    IRotaryValve Valve(string name);
    IDensityViscosityMeter Meter { get; }
    IBalance? Balance { get; }
    /// <summary>The route a pump moves liquid along from now on (the simulator moves its ledger along it; real tubing is physical, so a no-op there).</summary>
    void UseRoute(string pump, FluidRoute route);
    /// <summary>The route the gas drive refills along (its gas supply), or null when the gas line is pressure-driven.</summary>
    FluidRoute? GasRefillRoute { get; }
    /// <summary>Sets the measuring cell's temperature, kelvin.</summary>
    Task SetCellTemperatureAsync(double kelvin, CancellationToken cancellationToken);
    /// <summary>Runs several pumps together (mixing): each to its fill level at its flow. Real hardware starts them
    /// at once; the simulator interleaves them in small slices (see <see cref="SimulatedAsabLab.MixSliceMl"/>).</summary>
    Task MoveTogetherAsync(IReadOnlyList<(ISyringePump Pump, double LevelMl, double FlowMlPerS)> moves, CancellationToken cancellationToken);
    /// <summary>The composition (mole fractions by chemical name) the worker is about to provide to the cell.</summary>
    void AnnounceSample(IReadOnlyDictionary<string, double> moleFractions);
}

/// <summary>
/// The simulated lab: <see cref="SimulatedFluidics"/> wired along the tubing graph (reservoirs with the stocks, a
/// solvent reservoir, waste, a gas drive at the gas node), a <see cref="SimulatedLimsInstrument"/> whose true
/// properties are the virtual electrolyte of the liquid actually in the measuring cell, and a
/// <see cref="SimulatedSbiBalance"/> under the balance vessel spoken to over SBI in memory. Every wait is time-compressed
/// by <see cref="AsabSettings.TimeScale"/>.
/// </summary>
public sealed class SimulatedAsabLab : IAsabHardware
{
    private readonly AsabSettings _settings;
    private readonly SimulatedLimsInstrument _instrument;
    private readonly SbiBalance? _balance;
    private readonly CancellationTokenSource _stop = new();
    private readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> _molesPerMl;
    private readonly ILogger _logger;
    private double _cellTemperatureK;

    public SimulatedAsabLab(AsabSettings settings, StockSet stocks, IReadOnlyList<string> graphNodes, ILoggerFactory? loggers = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(stocks);
        ArgumentNullException.ThrowIfNull(graphNodes);
        _settings = settings;
        loggers ??= NullLoggerFactory.Instance;
        _logger = loggers.CreateLogger<SimulatedAsabLab>();
        var clock = new DeviceClock(settings.TimeScale);
        _cellTemperatureK = settings.TemperatureMinK;
        Fluidics = new SimulatedFluidics(new SimulatedFluidicsOptions { Clock = clock }, loggers);
        var solventChemical = ScienceApi.FindChemical(settings.SolventChemical);
        var moles = stocks.MolesPerMlByStock().ToDictionary(kv => kv.Key, kv => kv.Value);
        moles[SolventLiquid] = new Dictionary<string, double> { [solventChemical.Name] = solventChemical.DensityGramsPerCubicCentimeter / solventChemical.MolarMassGramsPerMole };
        _molesPerMl = moles;

        foreach (var s in stocks.Stocks)
        {
            Fluidics.DefineLiquid(s.Name, s.DensityGcm3);
            Fluidics.AddReservoir(s.Reservoir, s.Name, s.VolumeMl);
        }
        Fluidics.DefineLiquid(SolventLiquid, solventChemical.DensityGramsPerCubicCentimeter);
        Fluidics.AddReservoir(settings.Solvent, SolventLiquid, settings.SolventVolumeMl);
        Fluidics.AddVessel(settings.Waste);
        Fluidics.AddGasSource(GasSupplyNode);
        Fluidics.AddPump(settings.GasSource, SyringeSize.FromNominalVolume(settings.GasSyringeMl));
        GasRefillRoute = FluidRoute.Of([settings.GasSource, GasSupplyNode], [0.0]);
        Fluidics.AddPump(settings.CleaningPump, SyringeSize.FromNominalVolume(settings.CleaningSyringeMl));
        foreach (var p in settings.Pumps) Fluidics.AddPump(p.Node, SyringeSize.FromNominalVolume(p.SyringeMl));
        foreach (var valve in graphNodes.Select(n => ValveCentre.Match(n)).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct())
        {
            var ports = graphNodes.Select(n => Regex.Match(n, "^" + Regex.Escape(valve) + @"\.(\d+)$")).Where(m => m.Success)
                .Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(2).Max();
            Fluidics.AddValve(valve, Math.Clamp(Math.Max(ports, 2), 2, 16));
        }

        if (!string.IsNullOrWhiteSpace(settings.BalanceVessel))
        {
            BalanceSimulator = new SimulatedSbiBalance(new SimulatedSbiBalanceOptions
            {
                Clock = clock, CapacityGrams = 100_000, ResponseDelay = TimeSpan.FromMilliseconds(5),
            }, loggers.CreateLogger<SimulatedSbiBalance>());
            Fluidics.PlaceOnBalance(settings.BalanceVessel, BalanceSimulator.AddLoad);
            _balance = new SbiBalance(BalanceSimulator.ConnectInMemory(_stop.Token), new SbiBalanceOptions(), loggers.CreateLogger<SbiBalance>(), endpoint: "simulated");
        }

        var work = settings.Resolve(settings.WorkDirectory);
        var lin = string.IsNullOrWhiteSpace(settings.LimsInDirectory) ? Path.Combine(work, "lims-in") : settings.Resolve(settings.LimsInDirectory);
        var lout = string.IsNullOrWhiteSpace(settings.LimsOutDirectory) ? Path.Combine(work, "lims-out") : settings.Resolve(settings.LimsOutDirectory);
        _instrument = new SimulatedLimsInstrument(new SimulatedLimsOptions
        {
            InDirectory = lin, OutDirectory = lout, Clock = clock,
            MeasurementDuration = TimeSpan.FromSeconds(settings.MeasurementSeconds),
            Replicates = settings.Replicates, Seed = settings.Seed,
            InvalidDensityProbability = settings.InvalidDensityProbability, InvalidViscosityProbability = settings.InvalidViscosityProbability,
            TemperatureCelsius = settings.TemperatureMinK - 273.15,
            PollInterval = TimeSpan.FromMilliseconds(20),
        }, CellProperties, loggers.CreateLogger<SimulatedLimsInstrument>());
        _instrument.Start();
        Meter = new LimsDensityViscosityMeter(new LimsOptions
        {
            InDirectory = lin, OutDirectory = lout, PollInterval = TimeSpan.FromMilliseconds(10),
            Timeout = TimeSpan.FromSeconds(Math.Max(5.0, settings.LimsTimeoutSeconds * settings.TimeScale)),
        }, loggers.CreateLogger<LimsDensityViscosityMeter>());
        _logger.LogInformation("Simulated ASAB lab: {Stocks} stocks, {Pumps} stock pumps, LIMS folders {In} -> {Out}, time scale {Scale}",
            stocks.Stocks.Count, settings.Pumps.Count, lin, lout, settings.TimeScale);
    }

    /// <summary>The ledger liquid name of the cleaning solvent.</summary>
    public const string SolventLiquid = "solvent";
    private static readonly Regex ValveCentre = new(@"^(V\d+)\.0$");
    private string GasSupplyNode => _settings.GasSource + ".supply";

    public SimulatedFluidics Fluidics { get; }
    public SimulatedSbiBalance? BalanceSimulator { get; }
    public SimulatedLimsInstrument Instrument => _instrument;
    public IDensityViscosityMeter Meter { get; }
    public IBalance? Balance => _balance;
    public FluidRoute? GasRefillRoute { get; }
    /// <summary>Replace the instrument's property source (fault injection in tests); null restores the virtual electrolyte.</summary>
    public Func<string, SampleProperties>? PropertyOverride { get; set; }

    public ISyringePump Pump(string node) => Fluidics.Pump(node);
    public IRotaryValve Valve(string name) => Fluidics.Valve(name);
    public void UseRoute(string pump, FluidRoute route) => Fluidics.Connect(pump, route);

    public Task SetCellTemperatureAsync(double kelvin, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _cellTemperatureK, kelvin);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Mole-fraction distance below which the cell's ledger composition counts as the announced sample. The ledger
    /// mixes in slices (<see cref="MixSliceMl"/>), so the cell's ends hold part slices and its composition differs from
    /// the plan by up to a few 1e-3; within this tolerance the instrument sees the announced (planned) composition. A
    /// cell that differs more (contaminated, half filled, another mixture) is measured as it is.
    /// </summary>
    public const double LedgerTolerance = 5e-3;

    private IReadOnlyDictionary<string, double>? _announced;

    public void AnnounceSample(IReadOnlyDictionary<string, double> moleFractions) => Volatile.Write(ref _announced, moleFractions);

    /// <summary>
    /// Mixture volume per slice when the simulator runs pumps "together". The simulated ledger moves simultaneous pumps
    /// in equal-volume round-robin steps per wall-clock tick, so at high time compression the streams would meet in
    /// proportions that depend on thread scheduling. Instead the pumps take turns dispensing their share of each slice
    /// (volume fraction x slice) at their own flow: the mixture is proportional at the slice scale and the ledger is
    /// the same on every run.
    /// </summary>
    public double MixSliceMl { get; init; } = 0.05;

    public async Task MoveTogetherAsync(IReadOnlyList<(ISyringePump Pump, double LevelMl, double FlowMlPerS)> moves, CancellationToken cancellationToken)
    {
        var start = new double[moves.Count];
        for (var i = 0; i < moves.Count; i++) start[i] = await moves[i].Pump.GetFillLevelAsync(cancellationToken).ConfigureAwait(false);
        var total = moves.Select((m, i) => start[i] - m.LevelMl).Sum();
        var slices = Math.Max(1, (int)Math.Ceiling(total / MixSliceMl));
        for (var k = 1; k <= slices; k++)
            for (var i = 0; i < moves.Count; i++)
            {
                var target = k == slices ? moves[i].LevelMl : start[i] - (start[i] - moves[i].LevelMl) * k / slices;
                await moves[i].Pump.SetFillLevelAsync(target, moves[i].FlowMlPerS, cancellationToken).ConfigureAwait(false);
            }
    }

    /// <summary>Mole fractions of the liquid in the measuring cell (gas ignored); empty when the cell holds no liquid.</summary>
    public Dictionary<string, double> CellComposition() =>
        StockSet.MoleFractions(Fluidics.LineContents(_settings.CellInlet, _settings.CellOutlet), _molesPerMl);

    /// <summary>Liquid volume (mL, gas excluded) in the measuring cell.</summary>
    public double CellLiquidMl() => Fluidics.LineContents(_settings.CellInlet, _settings.CellOutlet).Where(kv => kv.Key != SimulatedFluidics.Gas).Sum(kv => kv.Value);

    private SampleProperties CellProperties(string sample)
    {
        if (PropertyOverride is { } o) return o(sample);
        var composition = CellComposition();
        if (composition.Count == 0)
            throw new DeviceException($"Simulated DMA 4100 M: the cell holds no liquid for sample '{sample}' (filling error)");
        if (Volatile.Read(ref _announced) is { } announced && AsabPlanner.Distance(announced, composition) < LedgerTolerance)
            composition = announced.ToDictionary(kv => kv.Key, kv => kv.Value);
        else
            _logger.LogWarning("Simulated cell holds {Composition}, not the announced sample", string.Join(", ", composition.Select(kv => FormattableString.Invariant($"{kv.Key} {kv.Value:0.####}"))));
        var truth = ScienceApi.Electrolyte(composition, Volatile.Read(ref _cellTemperatureK));
        return new SampleProperties(truth.DensityGramsPerCubicCentimeter, truth.ViscosityMillipascalSeconds);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _balance?.Dispose();
        await _instrument.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}

/// <summary>
/// The real devices: the LIMS file driver on the instrument's folders, the SBI balance over a serial port or TCP, and
/// the Qmix pumps/valves over site-supplied SDK bindings (the SDK is proprietary and not part of this build).
/// </summary>
public sealed class RealAsabLab : IAsabHardware
{
    private readonly Dictionary<string, ISyringePump> _pumps = new();
    private readonly Dictionary<string, IRotaryValve> _valves = new();
    private readonly AsabSettings _settings;
    private readonly SbiBalance? _balance;

    /// <summary>Builds the real drivers. Throws <see cref="AsabConfigurationException"/> naming what is missing
    /// (LIMS folders, balance port, Qmix bindings).</summary>
    public RealAsabLab(AsabSettings settings, IReadOnlyList<string> graphNodes, Func<string, IQmixPumpBinding>? pumpBinding,
        Func<string, IQmixValveBinding>? valveBinding, ILoggerFactory? loggers = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        loggers ??= NullLoggerFactory.Instance;
        var lin = settings.Resolve(settings.LimsInDirectory);
        var lout = settings.Resolve(settings.LimsOutDirectory);
        if (!Directory.Exists(lin)) throw new AsabConfigurationException($"Asab:LimsInDirectory is '{settings.LimsInDirectory}'; {lin} does not exist (the instrument's LIMS import folder)");
        if (!Directory.Exists(lout)) throw new AsabConfigurationException($"Asab:LimsOutDirectory is '{settings.LimsOutDirectory}'; {lout} does not exist (the instrument's LIMS export folder)");
        var pumpNodes = settings.Pumps.Select(p => p.Node).Append(settings.CleaningPump).Append(settings.GasSource).ToList();
        var valveNames = graphNodes.Select(n => Regex.Match(n, @"^(V\d+)\.0$")).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct().ToList();
        if (pumpBinding is null || valveBinding is null)
            throw new AsabConfigurationException(
                $"Asab:Simulated is false, but this build has no CETONI Qmix SDK binding for the pumps {string.Join(", ", pumpNodes)} and valves {string.Join(", ", valveNames)}: " +
                "the SDK is proprietary and site-specific. Bind IQmixPumpBinding/IQmixValveBinding and start the tenant with AsabTenant.CreateWorker(settings, pumpBinding, valveBinding) " +
                "(docs/asab.md), or set Asab:Simulated to true.");
        Meter = new LimsDensityViscosityMeter(new LimsOptions { InDirectory = lin, OutDirectory = lout, Timeout = TimeSpan.FromSeconds(settings.LimsTimeoutSeconds) },
            loggers.CreateLogger<LimsDensityViscosityMeter>());
        foreach (var p in settings.Pumps)
            _pumps[p.Node] = new QmixSyringePump(p.Node, SyringeSize.FromNominalVolume(p.SyringeMl), pumpBinding(p.Node), logger: loggers.CreateLogger<QmixSyringePump>());
        _pumps[settings.CleaningPump] = new QmixSyringePump(settings.CleaningPump, SyringeSize.FromNominalVolume(settings.CleaningSyringeMl), pumpBinding(settings.CleaningPump), logger: loggers.CreateLogger<QmixSyringePump>());
        _pumps[settings.GasSource] = new QmixSyringePump(settings.GasSource, SyringeSize.FromNominalVolume(settings.GasSyringeMl), pumpBinding(settings.GasSource), logger: loggers.CreateLogger<QmixSyringePump>());
        foreach (var v in valveNames) _valves[v] = new QmixRotaryValve(v, valveBinding(v));
        if (!string.IsNullOrWhiteSpace(settings.BalanceVessel))
        {
            try
            {
                _balance = !string.IsNullOrWhiteSpace(settings.BalanceSerialPort)
                    ? SbiBalance.OpenSerial(settings.BalanceSerialPort, settings.BalanceBaud, logger: loggers.CreateLogger<SbiBalance>())
                    : SbiBalance.ConnectTcpAsync(settings.BalanceHost, settings.BalanceTcpPort, logger: loggers.CreateLogger<SbiBalance>()).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is DeviceException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                throw new AsabConfigurationException($"Asab balance ({(settings.BalanceSerialPort.Length > 0 ? settings.BalanceSerialPort : settings.BalanceHost + ":" + settings.BalanceTcpPort)}) cannot be opened: {e.Message}");
            }
        }
    }

    public IDensityViscosityMeter Meter { get; }
    public IBalance? Balance => _balance;
    public FluidRoute? GasRefillRoute => null;
    public ISyringePump Pump(string node) => _pumps.TryGetValue(node, out var p) ? p : throw new FluidicsException($"No pump at node {node}.");
    public IRotaryValve Valve(string name) => _valves.TryGetValue(name, out var v) ? v : throw new FluidicsException($"No valve named {name}.");
    public void UseRoute(string pump, FluidRoute route) { }
    public void AnnounceSample(IReadOnlyDictionary<string, double> moleFractions) { }

    public Task MoveTogetherAsync(IReadOnlyList<(ISyringePump Pump, double LevelMl, double FlowMlPerS)> moves, CancellationToken cancellationToken) =>
        Task.WhenAll(moves.Select(m => m.Pump.SetFillLevelAsync(m.LevelMl, m.FlowMlPerS, cancellationToken)));

    public Task SetCellTemperatureAsync(double kelvin, CancellationToken cancellationToken)
    {
        // The LIMS method fixes the cell temperature: the configured range must be a single temperature for real hardware.
        if (Math.Abs(kelvin - _settings.TemperatureMinK) > 0.01)
            throw new DeviceException($"The instrument method '{_settings.LimsMethod}' measures at {_settings.TemperatureMinK} K; {kelvin} K was requested.");
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _balance?.Dispose();
        return ValueTask.CompletedTask;
    }
}
