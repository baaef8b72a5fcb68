using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Finales.Devices.Lims;

/// <summary>The true density and dynamic viscosity of the liquid in the measuring cell.</summary>
public readonly record struct SampleProperties(double DensityGcm3, double ViscosityMPas);

/// <summary>Options of the simulated DMA 4100 M + Lovis 2000 ME.</summary>
public sealed record SimulatedLimsOptions
{
    public required string InDirectory { get; init; }
    public required string OutDirectory { get; init; }
    /// <summary>Simulated duration of one measurement (all replicates).</summary>
    public TimeSpan MeasurementDuration { get; init; } = TimeSpan.FromMinutes(4);
    /// <summary>Non-master rows written per result (the first is the conditioning fill, which the driver skips).</summary>
    public int Replicates { get; init; } = 5;
    /// <summary>Probability that a replicate's density condition is not valid.</summary>
    public double InvalidDensityProbability { get; init; }
    /// <summary>Probability that a replicate's viscosity condition is not valid.</summary>
    public double InvalidViscosityProbability { get; init; }
    /// <summary>Density noise, 1 sigma, g/cm3.</summary>
    public double DensityNoiseGcm3 { get; init; } = 1e-4;
    /// <summary>Relative viscosity noise, 1 sigma.</summary>
    public double ViscosityRelativeNoise { get; init; } = 0.005;
    /// <summary>Seed of the noise and of the invalid conditions.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>The &lt;type&gt; part of <c>&lt;sample&gt;_&lt;method&gt;_&lt;type&gt;.csv</c>.</summary>
    public string ResultType { get; init; } = "Results";
    /// <summary>Cell temperature written to the file, degrees Celsius.</summary>
    public double TemperatureCelsius { get; init; } = 25.0;
    /// <summary>Wall-clock interval of the polling fallback (a FileSystemWatcher may miss events on network shares).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(100);
    /// <summary>Time compression for the measurement duration.</summary>
    public DeviceClock Clock { get; init; } = DeviceClock.RealTime;
}

/// <summary>
/// A simulated Anton Paar density + viscosity meter behind its LIMS file interface. It watches the in folder
/// (FileSystemWatcher plus polling), consumes each <c>.lims</c> job, waits the (time-compressed) measurement
/// duration, asks the property source (a delegate given to the constructor) for the sample's true properties and writes a result CSV with a
/// Master row and replicate rows carrying seeded noise and, with the configured probability, invalid conditions.
/// It knows nothing about the chemistry: the lab robot plugs its virtual electrolyte in through the delegate.
/// </summary>
public sealed class SimulatedLimsInstrument : IAsyncDisposable
{
    private static readonly string[] InvalidConditions = ["invalid", "bubbles detected", "filling error"];

    private readonly SimulatedLimsOptions _options;
    private readonly Func<string, SampleProperties> _propertySource;
    private readonly ILogger _logger;
    private readonly Random _random;
    private readonly Channel<string> _jobs = Channel.CreateUnbounded<string>();
    private readonly ConcurrentDictionary<string, byte> _seen = new();
    private readonly CancellationTokenSource _stop = new();
    private FileSystemWatcher? _watcher;
    private Task _worker = Task.CompletedTask;
    private Task _poller = Task.CompletedTask;
    private int _completed;
    private int _rejected;

    public SimulatedLimsInstrument(SimulatedLimsOptions options, Func<string, SampleProperties> propertySource,
        ILogger<SimulatedLimsInstrument>? logger = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _propertySource = propertySource ?? throw new ArgumentNullException(nameof(propertySource));
        if (options.Replicates < 2)
            throw new ArgumentOutOfRangeException(nameof(options), options.Replicates, $"Replicates is {options.Replicates}; at least 2 (the first is discarded).");
        foreach (var (name, p) in new[] { ("InvalidDensityProbability", options.InvalidDensityProbability), ("InvalidViscosityProbability", options.InvalidViscosityProbability) })
            if (p is < 0 or > 1 || double.IsNaN(p))
                throw new ArgumentOutOfRangeException(nameof(options), p, $"{name} is {p}; it must be in [0, 1].");
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _random = new Random(options.Seed);
    }

    /// <summary>Measurements whose result file has been written.</summary>
    public int CompletedMeasurements => Volatile.Read(ref _completed);

    /// <summary>Job files that could not be read (renamed to <c>.rejected</c>).</summary>
    public int RejectedJobs => Volatile.Read(ref _rejected);

    /// <summary>Raised after a result file is written, with its path.</summary>
    public event Action<string>? ResultWritten;

    /// <summary>Starts watching the in folder (creating both folders if needed).</summary>
    public void Start()
    {
        if (_watcher is not null) throw new InvalidOperationException("The simulated LIMS instrument is already started.");
        Directory.CreateDirectory(_options.InDirectory);
        Directory.CreateDirectory(_options.OutDirectory);
        _watcher = new FileSystemWatcher(_options.InDirectory, "*.lims") { EnableRaisingEvents = true };
        _watcher.Created += (_, e) => Enqueue(e.FullPath);
        _watcher.Renamed += (_, e) => Enqueue(e.FullPath);
        _worker = Task.Run(() => WorkAsync(_stop.Token));
        _poller = Task.Run(() => PollAsync(_stop.Token));
        _logger.LogInformation("Simulated LIMS instrument watching {InDirectory}, writing {OutDirectory}", _options.InDirectory, _options.OutDirectory);
    }

    private void Enqueue(string path)
    {
        if (path.EndsWith(".lims", StringComparison.Ordinal) && _seen.TryAdd(path, 0))
            _jobs.Writer.TryWrite(path);
    }

    private async Task PollAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                foreach (var file in Directory.EnumerateFiles(_options.InDirectory, "*.lims")) Enqueue(file);
                await Task.Delay(_options.PollInterval, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { return; }
            catch (IOException e) { _logger.LogWarning("Simulated LIMS poll failed: {Error}", e.Message); }
        }
    }

    private async Task WorkAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var path in _jobs.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                try { await ProcessAsync(path, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                catch (Exception e) when (e is IOException or LimsFormatException or DeviceException or UnauthorizedAccessException)
                {
                    _logger.LogWarning("Simulated LIMS job {JobPath} failed: {Error}", path, e.Message);
                }
                finally { _seen.TryRemove(path, out _); }
            }
        }
        catch (OperationCanceledException) { }
    }

    private async Task ProcessAsync(string path, CancellationToken ct)
    {
        if (!File.Exists(path)) return; // withdrawn by the host
        string text;
        try { text = await File.ReadAllTextAsync(path, ct).ConfigureAwait(false); }
        catch (IOException) { await Task.Delay(_options.PollInterval, ct).ConfigureAwait(false); text = await File.ReadAllTextAsync(path, ct).ConfigureAwait(false); }
        string sample, method;
        try { (sample, method) = LimsCsv.ParseJob(text, path); }
        catch (LimsFormatException e)
        {
            // Renamed before it is counted: whoever sees the count sees the .rejected file.
            File.Move(path, path + ".rejected", overwrite: true);
            Interlocked.Increment(ref _rejected);
            _logger.LogWarning("Simulated LIMS rejected {JobPath}: {Error}", path, e.Message);
            return;
        }
        File.Delete(path); // the instrument consumes the job
        _logger.LogInformation("Simulated LIMS measuring {Sample} with {Method}", sample, method);
        await _options.Clock.DelayAsync(_options.MeasurementDuration, ct).ConfigureAwait(false);
        var truth = _propertySource(sample);
        if (!double.IsFinite(truth.DensityGcm3) || truth.DensityGcm3 <= 0 || !double.IsFinite(truth.ViscosityMPas) || truth.ViscosityMPas <= 0)
            throw new DeviceException($"Simulated LIMS property source gave density {truth.DensityGcm3} g/cm3 and viscosity {truth.ViscosityMPas} mPa s for '{sample}'; both must be finite and > 0.");
        var csv = FormatResult(sample, method, truth);
        var final = Path.Combine(_options.OutDirectory, $"{sample}_{method}_{_options.ResultType}.csv");
        var temp = final + ".tmp";
        await File.WriteAllTextAsync(temp, csv, ct).ConfigureAwait(false);
        File.Move(temp, final, overwrite: true);
        Interlocked.Increment(ref _completed);
        _logger.LogInformation("Simulated LIMS wrote {ResultFile}", final);
        ResultWritten?.Invoke(final);
    }

    /// <summary>The result CSV for a sample with the given true properties (draws from the seeded generator).</summary>
    public string FormatResult(string sample, string method, SampleProperties truth)
    {
        var rows = new List<(double D, string DC, double V, string VC)>();
        lock (_random)
        {
            for (var i = 0; i < _options.Replicates; i++)
            {
                var d = truth.DensityGcm3 + _options.DensityNoiseGcm3 * Gaussian();
                var v = truth.ViscosityMPas * (1 + _options.ViscosityRelativeNoise * Gaussian());
                var dc = "valid";
                var vc = "valid";
                if (_random.NextDouble() < _options.InvalidDensityProbability)
                {
                    dc = InvalidConditions[_random.Next(InvalidConditions.Length)];
                    d *= 0.99; // a bubble in the U-tube reads low
                }
                if (_random.NextDouble() < _options.InvalidViscosityProbability)
                {
                    vc = InvalidConditions[_random.Next(InvalidConditions.Length)];
                    v *= 1.05;
                }
                rows.Add((d, dc, v, vc));
            }
        }
        var validD = rows.Skip(1).Where(r => r.DC == "valid").Select(r => r.D).DefaultIfEmpty(double.NaN).Average();
        var validV = rows.Skip(1).Where(r => r.VC == "valid").Select(r => r.V).DefaultIfEmpty(double.NaN).Average();
        var inv = CultureInfo.InvariantCulture;
        var t = _options.TemperatureCelsius.ToString("F2", inv);
        var sb = new StringBuilder();
        sb.Append("Sample Name;Method;").Append(LimsCsv.MeasurementLevelColumn).Append(';').Append(LimsCsv.DensityColumn).Append(';')
          .Append(LimsCsv.DensityConditionColumn).Append(';').Append(LimsCsv.ViscosityColumn).Append(';')
          .Append(LimsCsv.ViscosityConditionColumn).Append(";Results::Temperature\r\n");
        static string Num(double x, string f) => double.IsNaN(x) ? "" : x.ToString(f, CultureInfo.InvariantCulture);
        sb.Append($"{sample};{method};Master;{Num(validD, "F5")};{(double.IsNaN(validD) ? "invalid" : "valid")};{Num(validV, "F4")};{(double.IsNaN(validV) ? "invalid" : "valid")};{t}\r\n");
        for (var i = 0; i < rows.Count; i++)
            sb.Append($"{sample};{method};Repetition {i + 1};{Num(rows[i].D, "F5")};{rows[i].DC};{Num(rows[i].V, "F4")};{rows[i].VC};{t}\r\n");
        return sb.ToString();
    }

    private double Gaussian()
    {
        var u1 = 1.0 - _random.NextDouble();
        var u2 = _random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _jobs.Writer.TryComplete();
        _watcher?.Dispose();
        await Task.WhenAll(_worker, _poller).ConfigureAwait(false);
        _stop.Dispose();
    }
}
