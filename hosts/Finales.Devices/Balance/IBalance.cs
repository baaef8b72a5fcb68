namespace Finales.Devices.Balance;

/// <summary>Whether a printed value is the gross mass (no tare) or the net mass (after a tare).</summary>
public enum BalanceValueKind
{
    /// <summary>Printed with the id <c>G     </c>.</summary>
    Gross,
    /// <summary>Printed with the id <c>N     </c>.</summary>
    Net,
}

/// <summary>The Entris II ambient filters, SBI commands ESC K/L/M/N.</summary>
public enum BalanceFilter
{
    /// <summary>ESC K: very stable conditions.</summary>
    VeryStable,
    /// <summary>ESC L: stable conditions.</summary>
    Stable,
    /// <summary>ESC M: unstable conditions.</summary>
    Unstable,
    /// <summary>ESC N: very unstable conditions.</summary>
    VeryUnstable,
}

/// <summary>
/// One printed weighing value. <see cref="IsStable"/> is false when the balance printed no unit (SBI omits the
/// unit while the value is not stable); <see cref="Unit"/> is then the driver's configured unit.
/// </summary>
public sealed record BalanceReading(BalanceValueKind Kind, double Value, string Unit, bool IsStable, string RawLine)
{
    /// <summary>The value converted to grams (units g, mg, kg); other units are a <see cref="BalanceProtocolException"/>.</summary>
    public double MassGrams => Unit switch
    {
        "g" => Value,
        "mg" => Value / 1000.0,
        "kg" => Value * 1000.0,
        _ => throw new BalanceProtocolException($"Balance unit is '{Unit}' in line '{SbiLine.Escape(RawLine)}'; only g, mg and kg convert to grams."),
    };
}

/// <summary>
/// A laboratory balance. Implemented by <see cref="SbiBalance"/> (Sartorius Entris II, SBI over a serial port or
/// TCP) for the real instrument and for <see cref="SimulatedSbiBalance"/> over TCP or in-memory streams.
/// Every method throws <see cref="DeviceTimeoutException"/> when the balance does not answer in time and the typed
/// <see cref="BalanceException"/>s for the balance's special outputs.
/// </summary>
public interface IBalance
{
    /// <summary>Asks for one value (ESC P) and returns it.</summary>
    Task<BalanceReading> ReadAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads values until one is stable or <paramref name="timeout"/> passes.</summary>
    Task<BalanceReading> ReadStableAsync(TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>Tares the balance (ESC T): later values are net values.</summary>
    Task TareAsync(CancellationToken cancellationToken = default);

    /// <summary>Zeroes the balance (ESC V).</summary>
    Task ZeroAsync(CancellationToken cancellationToken = default);

    /// <summary>Selects the ambient filter (ESC K/L/M/N).</summary>
    Task SetFilterAsync(BalanceFilter filter, CancellationToken cancellationToken = default);

    /// <summary>Sounds the beeper (ESC Q).</summary>
    Task BeepAsync(CancellationToken cancellationToken = default);

    /// <summary>Restarts the balance (ESC S).</summary>
    Task RestartAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads the model designation (ESC x1_).</summary>
    Task<string> GetModelAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads the serial number (ESC x2_).</summary>
    Task<string> GetSerialNumberAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The values a balance in auto-print mode streams, as they arrive (no command is sent). A special output
    /// (Stat, High, Low, ERR) ends the enumeration with its typed exception.
    /// </summary>
    IAsyncEnumerable<BalanceReading> StreamAsync(CancellationToken cancellationToken = default);
}

/// <summary>Base of the balance's faults.</summary>
public class BalanceException : DeviceException
{
    public BalanceException(string message) : base(message) { }
}

/// <summary>A line that does not follow the SBI format (length, id, sign, number, characters).</summary>
public sealed class BalanceProtocolException : BalanceException
{
    public BalanceProtocolException(string message) : base(message) { }
}

/// <summary>The balance printed <c>Stat</c>: it has no value to print (busy, e.g. taring or settling).</summary>
public sealed class BalanceBusyException : BalanceException
{
    public BalanceBusyException(string message) : base(message) { }
}

/// <summary>The balance printed <c>High</c> (overload) or <c>Low</c> (underload).</summary>
public sealed class BalanceRangeException : BalanceException
{
    public BalanceRangeException(bool overload, string message) : base(message) => IsOverload = overload;

    /// <summary>True for <c>High</c>, false for <c>Low</c>.</summary>
    public bool IsOverload { get; }
}

/// <summary>The balance printed <c>Stat     ERR ###</c>.</summary>
public sealed class BalanceErrorCodeException : BalanceException
{
    public BalanceErrorCodeException(int code, string message) : base(message) => Code = code;

    /// <summary>The error number the balance printed.</summary>
    public int Code { get; }
}
