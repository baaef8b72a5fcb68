using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Finales.Devices.Lims;

/// <summary>A density + viscosity instrument (Anton Paar DMA 4100 M + Lovis 2000 ME).</summary>
public interface IDensityViscosityMeter
{
    /// <summary>Measures the sample in the cell with the given instrument method and returns every valid replicate.</summary>
    Task<DensityViscosityResult> MeasureAsync(string sample, string method, CancellationToken cancellationToken = default);
}

/// <summary>Options of the LIMS file driver (wall-clock times: the driver talks to the real instrument).</summary>
public sealed record LimsOptions
{
    /// <summary>The folder the instrument watches for <c>.lims</c> jobs.</summary>
    public required string InDirectory { get; init; }
    /// <summary>The folder the instrument writes result CSV files to.</summary>
    public required string OutDirectory { get; init; }
    /// <summary>How often to look for the result file.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>How long a measurement may take before <see cref="DeviceTimeoutException"/>.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(20);
}

/// <summary>
/// The LIMS file-interface driver: writes <c>&lt;in&gt;/&lt;sample&gt;.lims</c>, polls for
/// <c>&lt;out&gt;/&lt;sample&gt;_&lt;method&gt;_&lt;type&gt;.csv</c> and parses it with <see cref="LimsCsv.ParseResult"/>.
/// Result files that existed before the job was written are ignored; a file that fails to parse is re-read once it
/// stops changing (the instrument may still be writing it) and only then reported as malformed.
/// </summary>
public sealed class LimsDensityViscosityMeter : IDensityViscosityMeter
{
    private readonly LimsOptions _options;
    private readonly ILogger _logger;

    public LimsDensityViscosityMeter(LimsOptions options, ILogger<LimsDensityViscosityMeter>? logger = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        if (_options.PollInterval <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), _options.PollInterval, $"LIMS PollInterval is {_options.PollInterval}; it must be > 0.");
        if (_options.Timeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), _options.Timeout, $"LIMS Timeout is {_options.Timeout}; it must be > 0.");
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public async Task<DensityViscosityResult> MeasureAsync(string sample, string method, CancellationToken cancellationToken = default)
    {
        var job = LimsCsv.FormatJob(sample, method);
        if (!Directory.Exists(_options.InDirectory))
            throw new DeviceException($"LIMS in directory '{_options.InDirectory}' does not exist.");
        if (!Directory.Exists(_options.OutDirectory))
            throw new DeviceException($"LIMS out directory '{_options.OutDirectory}' does not exist.");
        var jobPath = Path.Combine(_options.InDirectory, sample + ".lims");
        if (File.Exists(jobPath))
            throw new DeviceException($"LIMS job '{jobPath}' is still pending; the instrument has not taken the previous job for sample '{sample}'.");

        var pattern = $"{sample}_{method}_*.csv";
        var before = Snapshot(pattern);
        var temp = Path.Combine(_options.InDirectory, sample + ".lims.tmp");
        await File.WriteAllTextAsync(temp, job, cancellationToken).ConfigureAwait(false);
        File.Move(temp, jobPath, overwrite: false);
        _logger.LogInformation("LIMS job written for {Sample} with method {Method}: {JobPath}", sample, method, jobPath);

        var started = DateTime.UtcNow;
        (string Path, long Length, DateTime Written, LimsFormatException Error)? failed = null;
        try
        {
            while (true)
            {
                foreach (var file in Directory.EnumerateFiles(_options.OutDirectory, pattern).Order(StringComparer.Ordinal))
                {
                    var info = new FileInfo(file);
                    if (before.TryGetValue(file, out var old) && old == info.LastWriteTimeUtc) continue;
                    string text;
                    try { text = await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false); }
                    catch (IOException) { continue; } // still being written
                    try
                    {
                        var result = LimsCsv.ParseResult(text, file, sample, method);
                        _logger.LogInformation(
                            "LIMS result {File}: {Densities} densities (quality {DensityQuality}), {Viscosities} viscosities (quality {ViscosityQuality})",
                            file, result.DensitiesGcm3.Count, result.DensityQuality, result.ViscositiesMPas.Count, result.ViscosityQuality);
                        return result;
                    }
                    catch (LimsFormatException e)
                    {
                        if (failed is { } f && f.Path == file && f.Length == info.Length && f.Written == info.LastWriteTimeUtc)
                            throw;
                        _logger.LogDebug("LIMS result {File} not readable yet: {Error}", file, e.Message);
                        failed = (file, info.Length, info.LastWriteTimeUtc, e);
                    }
                }
                var elapsed = DateTime.UtcNow - started;
                if (elapsed >= _options.Timeout)
                {
                    var pending = File.Exists(jobPath) ? " The job file is still there: the instrument has not picked it up." : "";
                    throw new DeviceTimeoutException(
                        $"LIMS result '{Path.Combine(_options.OutDirectory, pattern)}' for sample '{sample}' did not appear within {_options.Timeout.TotalSeconds:0.###} s.{pending}");
                }
                await Task.Delay(_options.PollInterval, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or DeviceTimeoutException)
        {
            TryDelete(jobPath);
            throw;
        }
    }

    private Dictionary<string, DateTime> Snapshot(string pattern) =>
        Directory.EnumerateFiles(_options.OutDirectory, pattern).ToDictionary(f => f, File.GetLastWriteTimeUtc);

    private void TryDelete(string path)
    {
        try
        {
            if (File.Exists(path))
            {
                File.Delete(path);
                _logger.LogInformation("LIMS job {JobPath} withdrawn", path);
            }
        }
        catch (IOException e)
        {
            _logger.LogWarning("LIMS job {JobPath} could not be withdrawn: {Error}", path, e.Message);
        }
    }
}
