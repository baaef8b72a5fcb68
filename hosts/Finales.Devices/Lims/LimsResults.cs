using System.Globalization;

namespace Finales.Devices.Lims;

/// <summary>One replicate row of a LIMS result file. A value is null when its cell was empty.</summary>
public sealed record LimsReplicate(int Row, double? DensityGcm3, string DensityCondition, double? ViscosityMPas, string ViscosityCondition)
{
    public bool DensityValid => LimsCsv.IsValid(DensityCondition);
    public bool ViscosityValid => LimsCsv.IsValid(ViscosityCondition);
}

/// <summary>
/// The outcome of one density + viscosity measurement: the valid replicate values (invalid ones dropped), and per
/// quantity a quality of 10 - 10 x invalid/total over the counted replicates (10 = every replicate valid).
/// </summary>
public sealed record DensityViscosityResult(
    string Sample,
    string Method,
    string ResultFile,
    IReadOnlyList<double> DensitiesGcm3,
    IReadOnlyList<double> ViscositiesMPas,
    double DensityQuality,
    double ViscosityQuality,
    IReadOnlyList<LimsReplicate> Replicates);

/// <summary>A LIMS file (job or result) that does not have the expected format; the message names the file, line and column.</summary>
public sealed class LimsFormatException : DeviceException
{
    public LimsFormatException(string message) : base(message) { }
}

/// <summary>The Anton Paar LIMS file formats: the job file the host writes and the result CSV the instrument writes.</summary>
public static class LimsCsv
{
    public const string MeasurementLevelColumn = "Results::Measurement Level";
    public const string DensityColumn = "Results::Density";
    public const string DensityConditionColumn = "Results::Density Condition";
    public const string ViscosityColumn = "Results::Lovis Dyn. Viscosity";
    public const string ViscosityConditionColumn = "Results::Lovis Condition";
    public const string MasterLevel = "Master";
    public const string ValidCondition = "valid";

    /// <summary>True when a condition cell says the value is valid.</summary>
    public static bool IsValid(string condition) => string.Equals(condition.Trim(), ValidCondition, StringComparison.OrdinalIgnoreCase);

    /// <summary>Checks a sample or method name: non-empty, no ';', no line breaks, no path characters.</summary>
    public static void ValidateName(string field, string value)
    {
        if (string.IsNullOrWhiteSpace(value))
            throw new ArgumentException($"LIMS {field} is empty; it names the job and result files.", field);
        var bad = value.FirstOrDefault(c => c is ';' or '\r' or '\n' or '/' or '\\' or '*' or '?' || Path.GetInvalidFileNameChars().Contains(c));
        if (bad != default)
            throw new ArgumentException($"LIMS {field} '{value}' contains '{bad}'; ';', line breaks and path characters are not allowed.", field);
    }

    /// <summary>The job file text: <c>#V100</c>, then <c>1;&lt;sample&gt;;;;;&lt;method&gt;</c>.</summary>
    public static string FormatJob(string sample, string method)
    {
        ValidateName("sample", sample);
        ValidateName("method", method);
        return $"#V100\n1;{sample};;;;{method}";
    }

    /// <summary>Parses a job file into (sample, method).</summary>
    public static (string Sample, string Method) ParseJob(string text, string fileName)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length < 2 || lines[0].Trim() != "#V100")
            throw new LimsFormatException($"LIMS job '{fileName}' must start with '#V100' and have a job line; got '{text.ReplaceLineEndings("\\n")}'.");
        var fields = lines[1].Split(';');
        if (fields.Length < 6 || fields[1].Trim().Length == 0 || fields[5].Trim().Length == 0)
            throw new LimsFormatException($"LIMS job '{fileName}' line 2 is '{lines[1]}'; expected '1;<sample>;;;;<method>'.");
        return (fields[1].Trim(), fields[5].Trim());
    }

    /// <summary>
    /// Parses a result CSV (';'-separated, header first). Rows whose measurement level is <c>Master</c> are
    /// skipped, then the first remaining row (the conditioning fill); the rest are the replicates.
    /// </summary>
    public static DensityViscosityResult ParseResult(string text, string fileName, string sample, string method)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        while (lines.Count > 0 && lines[^1].Trim().Length == 0) lines.RemoveAt(lines.Count - 1);
        if (lines.Count == 0)
            throw new LimsFormatException($"LIMS result '{fileName}' is empty.");
        var header = lines[0].TrimStart('\uFEFF').Split(';').Select(h => h.Trim()).ToArray();
        int Column(string name)
        {
            var i = Array.IndexOf(header, name);
            return i >= 0 ? i : throw new LimsFormatException($"LIMS result '{fileName}' has no column '{name}'; header is '{lines[0]}'.");
        }
        var level = Column(MeasurementLevelColumn);
        var density = Column(DensityColumn);
        var densityCondition = Column(DensityConditionColumn);
        var viscosity = Column(ViscosityColumn);
        var viscosityCondition = Column(ViscosityConditionColumn);

        var replicates = new List<LimsReplicate>();
        var skippedFirst = false;
        for (var row = 1; row < lines.Count; row++)
        {
            if (lines[row].Trim().Length == 0) continue;
            var cells = lines[row].Split(';');
            if (cells.Length != header.Length)
                throw new LimsFormatException($"LIMS result '{fileName}' line {row + 1} has {cells.Length} fields; the header has {header.Length}.");
            if (string.Equals(cells[level].Trim(), MasterLevel, StringComparison.OrdinalIgnoreCase)) continue;
            if (!skippedFirst)
            {
                skippedFirst = true;
                continue;
            }
            var r = new LimsReplicate(row + 1,
                ParseNumber(cells[density], fileName, row + 1, DensityColumn),
                cells[densityCondition].Trim(),
                ParseNumber(cells[viscosity], fileName, row + 1, ViscosityColumn),
                cells[viscosityCondition].Trim());
            if (r.DensityValid && r.DensityGcm3 is null)
                throw new LimsFormatException($"LIMS result '{fileName}' line {r.Row}: '{DensityColumn}' is empty but its condition is 'valid'.");
            if (r.ViscosityValid && r.ViscosityMPas is null)
                throw new LimsFormatException($"LIMS result '{fileName}' line {r.Row}: '{ViscosityColumn}' is empty but its condition is 'valid'.");
            replicates.Add(r);
        }
        if (replicates.Count == 0)
            throw new LimsFormatException($"LIMS result '{fileName}' has no replicate rows (after dropping '{MasterLevel}' rows and the first measurement).");

        var densities = replicates.Where(r => r.DensityValid).Select(r => r.DensityGcm3!.Value).ToList();
        var viscosities = replicates.Where(r => r.ViscosityValid).Select(r => r.ViscosityMPas!.Value).ToList();
        return new DensityViscosityResult(sample, method, fileName, densities, viscosities,
            Quality(replicates.Count - densities.Count, replicates.Count),
            Quality(replicates.Count - viscosities.Count, replicates.Count),
            replicates);
    }

    /// <summary>10 - 10 x invalid/total.</summary>
    public static double Quality(int invalid, int total) =>
        total <= 0
            ? throw new ArgumentOutOfRangeException(nameof(total), total, $"Quality needs total > 0; got total {total}.")
            : 10.0 - 10.0 * invalid / total;

    private static double? ParseNumber(string cell, string fileName, int line, string column)
    {
        var text = cell.Trim();
        if (text.Length == 0) return null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value))
            return value;
        // Instruments set to a German locale write a decimal comma.
        if (!text.Contains('.') && double.TryParse(text.Replace(',', '.'), NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value))
            return value;
        throw new LimsFormatException($"LIMS result '{fileName}' line {line}: '{column}' is '{text}', not a number.");
    }
}
