using System.Globalization;
using Finales.Devices;
using Finales.Devices.Balance;
using Finales.Devices.Fluidics;
using Finales.Devices.Lims;
using Microsoft.Extensions.Logging;

namespace Finales.Cli;

/// <summary>`finales device ...`: poke a lab device (or its simulator) from a shell.</summary>
public static class DeviceCommands
{
    private const string Help = """
        Usage: ./finales device <device> [options]

        Devices:
          balance    read a Sartorius Entris II over SBI (ESC P)
                       --simulate [--load G]        start a simulated balance on 127.0.0.1 and talk to it over TCP
                       --host H --port P            a balance behind a TCP serial server
                       --serial PORT [--baud N]     a balance on a serial port (8N1, default 9600 Bd)
                       --count N                    read N values (default 1)
                       --tare                       tare before reading
                       --info                       also print model (ESC x1_) and serial number (ESC x2_)
                       --timeout MS                 answer timeout (default 2000)
          lims       measure density + viscosity through the Anton Paar LIMS folders
                       --in DIR --out DIR --sample S --method M   (required)
                       --timeout S                  seconds to wait for the result (default 1200)
                       --simulate                   also run a simulated instrument on those folders
                         [--density G_CM3] [--viscosity MPAS] [--seed N] [--invalid P] [--time-scale X]
          syringes   list the standard syringes with their volumes and flow limits
          pump       fill a simulated 10 mL syringe from a reservoir and dispense into a vial on a simulated balance
                       --simulate (required) [--volume ML] [--flow ML_S] [--time-scale X]

        Common: --verbose logs the protocol traffic; -h/--help shows this text.
        Exit codes: 0 success, 1 usage error, 2 device error.
        """;

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Help);
            return args.Length == 0 ? 1 : 0;
        }
        Options options;
        try
        {
            options = Options.Parse(args[1..]);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"finales device {args[0]}: {e.Message}");
            return 1;
        }
        if (options.Has("help") || options.Has("h"))
        {
            Console.WriteLine(Help);
            return 0;
        }
        using var loggers = LoggerFactory.Create(b => b
            .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; })
            .SetMinimumLevel(options.Has("verbose") ? LogLevel.Debug : LogLevel.Warning));
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        try
        {
            return args[0] switch
            {
                "balance" => BalanceAsync(options, loggers, cts.Token).GetAwaiter().GetResult(),
                "lims" => LimsAsync(options, loggers, cts.Token).GetAwaiter().GetResult(),
                "syringes" => Syringes(),
                "pump" => PumpAsync(options, loggers, cts.Token).GetAwaiter().GetResult(),
                _ => Usage($"unknown device '{args[0]}'; expected balance, lims, syringes or pump."),
            };
        }
        catch (ArgumentException e)
        {
            return Usage(e.Message);
        }
        catch (DeviceException e)
        {
            Console.Error.WriteLine($"finales device {args[0]}: {e.GetType().Name}: {e.Message}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"finales device {args[0]}: cancelled.");
            return 2;
        }
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine($"finales device: {message} Run './finales device --help'.");
        return 1;
    }

    private static async Task<int> BalanceAsync(Options o, ILoggerFactory loggers, CancellationToken ct)
    {
        var driverOptions = new SbiBalanceOptions { ResponseTimeout = TimeSpan.FromMilliseconds(o.Double("timeout", 2000)) };
        SimulatedSbiBalanceServer? server = null;
        SbiBalance balance;
        if (o.Has("simulate"))
        {
            var sim = new SimulatedSbiBalance(new SimulatedSbiBalanceOptions(), loggers.CreateLogger<SimulatedSbiBalance>()) { PanLoadGrams = o.Double("load", 12.3456) };
            server = new SimulatedSbiBalanceServer(sim);
            Console.WriteLine($"simulated balance listening on {server.Host}:{server.Port}");
            balance = await SbiBalance.ConnectTcpAsync(server.Host, server.Port, driverOptions, loggers.CreateLogger<SbiBalance>(), ct);
        }
        else if (o.Get("host") is { } host)
        {
            var port = o.Int("port", -1);
            if (port is < 1 or > 65535) throw new ArgumentException($"--port is {o.Get("port") ?? "missing"}; expected 1..65535.");
            balance = await SbiBalance.ConnectTcpAsync(host, port, driverOptions, loggers.CreateLogger<SbiBalance>(), ct);
        }
        else if (o.Get("serial") is { } serial)
        {
            balance = SbiBalance.OpenSerial(serial, o.Int("baud", 9600), options: driverOptions, logger: loggers.CreateLogger<SbiBalance>());
        }
        else throw new ArgumentException("balance needs --simulate, --host H --port P, or --serial PORT.");

        try
        {
            if (o.Has("info"))
            {
                Console.WriteLine($"model:  {await balance.GetModelAsync(ct)}");
                Console.WriteLine($"serial: {await balance.GetSerialNumberAsync(ct)}");
            }
            if (o.Has("tare"))
            {
                await balance.TareAsync(ct);
                Console.WriteLine("tared");
            }
            var count = o.Int("count", 1);
            for (var i = 0; i < count; i++)
            {
                var r = await balance.ReadAsync(ct);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"line '{SbiLine.Escape(r.RawLine)}' -> {r.Kind} {r.Value} {r.Unit}{(r.IsStable ? "" : " (unstable)")}"));
            }
            return 0;
        }
        finally
        {
            balance.Dispose();
            if (server is not null) await server.DisposeAsync();
        }
    }

    private static async Task<int> LimsAsync(Options o, ILoggerFactory loggers, CancellationToken ct)
    {
        var inDir = o.Require("in");
        var outDir = o.Require("out");
        var sample = o.Require("sample");
        var method = o.Require("method");
        SimulatedLimsInstrument? sim = null;
        if (o.Has("simulate"))
        {
            var truth = new SampleProperties(o.Double("density", 1.2034), o.Double("viscosity", 2.91));
            var invalid = o.Double("invalid", 0.0);
            sim = new SimulatedLimsInstrument(new SimulatedLimsOptions
            {
                InDirectory = inDir,
                OutDirectory = outDir,
                Seed = o.Int("seed", 1),
                InvalidDensityProbability = invalid,
                InvalidViscosityProbability = invalid,
                Clock = new DeviceClock(o.Double("time-scale", 0.001)),
            }, _ => truth, loggers.CreateLogger<SimulatedLimsInstrument>());
            sim.Start();
            Console.WriteLine($"simulated DMA 4100 M + Lovis 2000 ME watching {inDir}");
        }
        try
        {
            var meter = new LimsDensityViscosityMeter(new LimsOptions
            {
                InDirectory = inDir,
                OutDirectory = outDir,
                PollInterval = TimeSpan.FromMilliseconds(sim is null ? 500 : 20),
                Timeout = TimeSpan.FromSeconds(o.Double("timeout", 1200)),
            }, loggers.CreateLogger<LimsDensityViscosityMeter>());
            var r = await meter.MeasureAsync(sample, method, ct);
            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine($"result file: {r.ResultFile}");
            Console.WriteLine($"density g/cm3:     [{string.Join(", ", r.DensitiesGcm3.Select(d => d.ToString("F5", inv)))}]  quality {r.DensityQuality.ToString("0.##", inv)}");
            Console.WriteLine($"viscosity mPa s:   [{string.Join(", ", r.ViscositiesMPas.Select(d => d.ToString("F4", inv)))}]  quality {r.ViscosityQuality.ToString("0.##", inv)}");
            return 0;
        }
        finally
        {
            if (sim is not null) await sim.DisposeAsync();
        }
    }

    private static int Syringes()
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine("syringe  inner d mm  volume mL  min flow mL/s  max flow mL/s");
        foreach (var s in SyringeSize.Standard)
            Console.WriteLine(string.Create(inv, $"{s.Name,-8} {s.InnerDiameterMm,10:0.#####} {s.CapacityMl,10:0.####} {s.MinFlowMlPerS,14:0.###e+0} {s.MaxFlowMlPerS,14:0.####}"));
        return 0;
    }

    private static async Task<int> PumpAsync(Options o, ILoggerFactory loggers, CancellationToken ct)
    {
        if (!o.Has("simulate")) throw new ArgumentException("pump needs --simulate: the CETONI SDK binding is site-specific (see docs/devices.md).");
        var volume = o.Double("volume", 5.0);
        var flow = o.Double("flow", 0.5);
        var f = new SimulatedFluidics(new SimulatedFluidicsOptions { Clock = new DeviceClock(o.Double("time-scale", 0.001)) }, loggers);
        f.DefineLiquid("EC:EMC 3:7", 1.1013);
        f.AddReservoir("Reservoir1", "EC:EMC 3:7", 50);
        f.AddVessel("vial_1");
        var pump = f.AddPump("A0.0", SyringeSize.Ml10);
        var valve = f.AddValve("V1");
        var sim = new SimulatedSbiBalance(new SimulatedSbiBalanceOptions()) { PanLoadGrams = 0 };
        f.PlaceOnBalance("vial_1", sim.AddLoad);
        using var balance = new SbiBalance(sim.ConnectInMemory(ct));
        var fill = FluidRoute.Of(["Reservoir1", "V1.1", "V1.0", "A0.0"], [0.3, 0.0, 0.2], new ValveSetting("V1", 1));
        var dispense = FluidRoute.Of(["A0.0", "V1.0", "V1.5", "vial_1"], [0.2, 0.0, 0.4], new ValveSetting("V1", 5));
        var inv = CultureInfo.InvariantCulture;
        await valve.SwitchToAsync(1, ct);
        f.Connect("A0.0", fill);
        await pump.SetFillLevelAsync(volume, flow, ct);
        var filled = await pump.GetFillLevelAsync(ct);
        Console.WriteLine(string.Create(inv, $"filled A0.0 to {filled:0.###} mL via {fill} (reservoir left: {f.VolumeMl("Reservoir1"):0.###} mL)"));
        await valve.SwitchToAsync(5, ct);
        f.Connect("A0.0", dispense);
        await pump.SetFillLevelAsync(0, flow, ct);
        var vial = f.Contents("vial_1");
        Console.WriteLine(string.Create(inv, $"dispensed via {dispense}: vial holds {string.Join(", ", vial.Select(kv => $"{kv.Key} {kv.Value:0.###} mL"))}"));
        var reading = await balance.ReadAsync(ct);
        Console.WriteLine(string.Create(inv, $"balance line '{SbiLine.Escape(reading.RawLine)}' -> {reading.MassGrams} g (ledger: {f.MassGrams("vial_1"):0.####} g)"));
        return 0;
    }

    /// <summary>`--name value` and `--flag` options.</summary>
    private sealed class Options
    {
        private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

        public static Options Parse(string[] args)
        {
            var o = new Options();
            for (var i = 0; i < args.Length; i++)
            {
                if (!args[i].StartsWith('-')) throw new ArgumentException($"unexpected argument '{args[i]}'.");
                var name = args[i].TrimStart('-');
                string? value = null;
                if (i + 1 < args.Length && (!args[i + 1].StartsWith("--", StringComparison.Ordinal) || double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out _)))
                    value = args[++i];
                o._values[name] = value;
            }
            return o;
        }

        public bool Has(string name) => _values.ContainsKey(name);
        public string? Get(string name) => _values.TryGetValue(name, out var v) ? v : null;
        public string Require(string name) => Get(name) ?? throw new ArgumentException($"--{name} is required.");

        public double Double(string name, double fallback) =>
            Get(name) is not { } text ? fallback
            : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v
            : throw new ArgumentException($"--{name} is '{text}'; expected a number.");

        public int Int(string name, int fallback) =>
            Get(name) is not { } text ? fallback
            : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
            : throw new ArgumentException($"--{name} is '{text}'; expected an integer.");
    }
}
