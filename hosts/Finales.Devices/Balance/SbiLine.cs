using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Finales.Devices.Balance;

/// <summary>
/// The Sartorius Balance Interface (SBI) 22-character output line and command bytes.
/// Data line: 6-char id (<c>G     </c> gross, <c>N     </c> net), sign (col 7), value right-aligned in cols 8-16,
/// a space, the unit in 3 chars (blank while unstable), CR LF. Special outputs: <c>Stat</c>,
/// <c>High</c>/<c>Low</c>, <c>Stat     ERR ###</c>.
/// </summary>
public static partial class SbiLine
{
    /// <summary>Characters of a line before CR LF.</summary>
    public const int PayloadLength = 20;

    /// <summary>Characters of a line including CR LF.</summary>
    public const int LineLength = 22;

    /// <summary>The escape byte that starts every SBI command.</summary>
    public const byte Esc = 0x1B;

    /// <summary>ESC P: print one value.</summary>
    public static readonly byte[] Print = [Esc, (byte)'P'];
    /// <summary>ESC T: tare.</summary>
    public static readonly byte[] Tare = [Esc, (byte)'T'];
    /// <summary>ESC V: zero.</summary>
    public static readonly byte[] Zero = [Esc, (byte)'V'];
    /// <summary>ESC Q: beep.</summary>
    public static readonly byte[] Beep = [Esc, (byte)'Q'];
    /// <summary>ESC S: restart.</summary>
    public static readonly byte[] Restart = [Esc, (byte)'S'];
    /// <summary>ESC x1_: model designation.</summary>
    public static readonly byte[] Model = [Esc, (byte)'x', (byte)'1', (byte)'_'];
    /// <summary>ESC x2_: serial number.</summary>
    public static readonly byte[] SerialNumber = [Esc, (byte)'x', (byte)'2', (byte)'_'];

    /// <summary>The command for an ambient filter: ESC K/L/M/N.</summary>
    public static byte[] Filter(BalanceFilter filter) => filter switch
    {
        BalanceFilter.VeryStable => [Esc, (byte)'K'],
        BalanceFilter.Stable => [Esc, (byte)'L'],
        BalanceFilter.Unstable => [Esc, (byte)'M'],
        BalanceFilter.VeryUnstable => [Esc, (byte)'N'],
        _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, $"Balance filter is {filter}; expected VeryStable, Stable, Unstable or VeryUnstable."),
    };

    /// <summary>
    /// Formats a data line (with CR LF). The value is rounded to <paramref name="decimals"/>; a magnitude that
    /// does not fit the 9 value columns is an <see cref="ArgumentOutOfRangeException"/>.
    /// </summary>
    public static string FormatReading(BalanceValueKind kind, double value, int decimals, string unit, bool stable)
    {
        if (!double.IsFinite(value))
            throw new ArgumentOutOfRangeException(nameof(value), value, $"Balance value is {value}; it must be finite.");
        if (unit.Length > 3)
            throw new ArgumentOutOfRangeException(nameof(unit), unit, $"Balance unit is '{unit}'; at most 3 characters.");
        var rounded = Math.Round(value, decimals, MidpointRounding.AwayFromZero);
        var magnitude = Math.Abs(rounded).ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        if (magnitude.Length > 9)
            throw new ArgumentOutOfRangeException(nameof(value), value, $"Balance value {value} needs {magnitude.Length} columns; SBI has 9 (cols 8-16).");
        var id = kind == BalanceValueKind.Net ? "N     " : "G     ";
        var sign = rounded < 0 ? '-' : '+';
        return id + sign + magnitude.PadLeft(9) + " " + (stable ? unit : "").PadRight(3) + "\r\n";
    }

    /// <summary>Formats a special output or a text answer (model, serial number) as a 22-character line.</summary>
    public static string FormatText(string text) =>
        text.Length > PayloadLength
            ? throw new ArgumentOutOfRangeException(nameof(text), text, $"SBI text '{text}' has {text.Length} characters; at most {PayloadLength}.")
            : text.PadRight(PayloadLength) + "\r\n";

    /// <summary>The <c>Stat</c> output.</summary>
    public static string FormatStat() => FormatText("Stat");

    /// <summary>The <c>High</c> (overload) or <c>Low</c> (underload) output, in the value columns.</summary>
    public static string FormatRange(bool overload) => FormatText("       " + (overload ? "High" : "Low").PadLeft(9));

    /// <summary>The <c>Stat     ERR ###</c> output.</summary>
    public static string FormatError(int code) =>
        code is < 0 or > 999
            ? throw new ArgumentOutOfRangeException(nameof(code), code, $"Balance error code is {code}; it must be 0..999.")
            : FormatText("Stat     ERR " + code.ToString("000", CultureInfo.InvariantCulture));

    /// <summary>
    /// Parses one line (with or without its CR LF) into a reading. Special outputs throw their typed exceptions;
    /// anything else that is not a 20-character SBI data line throws <see cref="BalanceProtocolException"/>.
    /// <paramref name="defaultUnit"/> is reported for unstable values (SBI prints no unit for them).
    /// </summary>
    public static BalanceReading ParseReading(string line, string defaultUnit = "g")
    {
        var payload = StripNewline(line);
        ThrowIfSpecial(payload, line);
        if (payload.Length != PayloadLength)
            throw new BalanceProtocolException($"Balance line '{Escape(line)}' has {payload.Length} characters before CR LF; SBI data lines have {PayloadLength}.");
        var id = payload[..6];
        var kind = id switch
        {
            "G     " => BalanceValueKind.Gross,
            "N     " => BalanceValueKind.Net,
            _ => throw new BalanceProtocolException($"Balance line '{Escape(line)}' has id '{Escape(id)}' in cols 1-6; expected 'G     ' or 'N     '."),
        };
        var signChar = payload[6];
        var sign = signChar switch
        {
            '+' or ' ' => 1.0,
            '-' => -1.0,
            _ => throw new BalanceProtocolException($"Balance line '{Escape(line)}' has sign '{Escape(signChar.ToString())}' in col 7; expected '+', '-' or ' '."),
        };
        var valueText = payload[7..16];
        if (!ValueRegex().IsMatch(valueText) ||
            !double.TryParse(valueText.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var magnitude))
            throw new BalanceProtocolException($"Balance line '{Escape(line)}' has value '{Escape(valueText)}' in cols 8-16; expected a right-aligned decimal number.");
        if (payload[16] != ' ')
            throw new BalanceProtocolException($"Balance line '{Escape(line)}' has '{Escape(payload[16].ToString())}' in col 17; expected a space before the unit.");
        var unit = payload[17..20].Trim();
        if (unit.Any(c => !char.IsLetter(c) && c != '%' && c != '/'))
            throw new BalanceProtocolException($"Balance line '{Escape(line)}' has unit '{Escape(unit)}' in cols 18-20; expected letters.");
        var stable = unit.Length > 0;
        return new BalanceReading(kind, sign * magnitude, stable ? unit : defaultUnit, stable, line);
    }

    /// <summary>Parses a text answer (model, serial number): the trimmed payload; special outputs throw.</summary>
    public static string ParseText(string line)
    {
        var payload = StripNewline(line);
        ThrowIfSpecial(payload, line);
        var text = payload.Trim();
        if (text.Length == 0)
            throw new BalanceProtocolException($"Balance line '{Escape(line)}' is blank; expected a text answer.");
        return text;
    }

    /// <summary>Shows control characters as &lt;CR&gt;, &lt;LF&gt;, &lt;ESC&gt; or &lt;0xNN&gt; so error messages stay readable.</summary>
    public static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
            sb.Append(c switch
            {
                '\r' => "<CR>",
                '\n' => "<LF>",
                (char)0x1B => "<ESC>",
                _ when c < ' ' || c > '~' => $"<0x{(int)c:X2}>",
                _ => c.ToString(),
            });
        return sb.ToString();
    }

    private static string StripNewline(string line) => line.TrimEnd('\r', '\n');

    private static void ThrowIfSpecial(string payload, string line)
    {
        var text = payload.Trim();
        var err = ErrRegex().Match(text);
        if (err.Success)
        {
            var code = int.Parse(err.Groups[1].Value, CultureInfo.InvariantCulture);
            throw new BalanceErrorCodeException(code, $"Balance reported error {code:000} (line '{Escape(line)}').");
        }
        switch (text)
        {
            case "Stat":
                throw new BalanceBusyException($"Balance printed 'Stat': no value available (busy, e.g. taring or settling); line '{Escape(line)}'.");
            case "High":
                throw new BalanceRangeException(true, $"Balance printed 'High': overload, the load exceeds the weighing range; line '{Escape(line)}'.");
            case "Low":
                throw new BalanceRangeException(false, $"Balance printed 'Low': underload, the pan is below the zero range; line '{Escape(line)}'.");
        }
    }

    [GeneratedRegex(@"^ *[0-9]+(\.[0-9]+)?$")]
    private static partial Regex ValueRegex();

    [GeneratedRegex(@"^Stat\s+ERR\s*([0-9]{1,3})$")]
    private static partial Regex ErrRegex();
}
