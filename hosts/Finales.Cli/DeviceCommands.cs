using System.CommandLine;
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
    public static FinalesCommand Create()
    {
        var device = new FinalesCommand("device", "poke a lab device or its simulator: balance, lims, syringes, pump")
        {
            // Documented in the help since the first version: 1 usage error, 2 device error.
            UsageExitCode = 1,
            Notes = "Exit codes: 0 success, 1 usage error, 2 device error.",
            Examples = ["./finales device balance --simulate", "./finales device syringes"],
        };
        device.Subcommands.Add(Balance());
        device.Subcommands.Add(Lims());
        device.Subcommands.Add(Leaf("syringes", "list the standard syringes with their volumes and flow limits", [], (_, _, _) => Task.FromResult(Syringes())));
        device.Subcommands.Add(Pump());
        return device;
    }

    /// <summary>A device sub-command: its options plus --verbose, run with a logger factory and Ctrl-C cancellation.</summary>
    private static FinalesCommand Leaf(string name, string description, Option[] options, Func<ParseResult, ILoggerFactory, CancellationToken, Task<int>> run,
        params string[] examples)
    {
        var command = new FinalesCommand(name, description) { Examples = examples };
        var verbose = Opt.Switch("--verbose", "log the protocol traffic");
        foreach (var o in options) command.Options.Add(o);
        command.Options.Add(verbose);
        command.SetAction(parse =>
        {
            using var loggers = LoggerFactory.Create(b => b
                .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; })
                .SetMinimumLevel(parse.GetValue(verbose) ? LogLevel.Debug : LogLevel.Warning));
            using var cts = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
            try
            {
                return run(parse, loggers, cts.Token).GetAwaiter().GetResult();
            }
            catch (ArgumentException e)
            {
                throw new UsageError(e.Message);
            }
            catch (DeviceException e)
            {
                Console.Error.WriteLine($"finales device {name}: {e.GetType().Name}: {e.Message}");
                return 2;
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine($"finales device {name}: cancelled.");
                return 2;
            }
        });
        return command;
    }

    private static FinalesCommand Balance()
    {
        var simulate = Opt.Switch("--simulate", "start a simulated balance on 127.0.0.1 and talk to it over TCP");
        var load = Opt.Number("--load", "with --simulate: grams on the simulated pan", 12.3456, helpName: "G");
        var host = Opt.Text("--host", "a balance behind a TCP serial server (with --port)", "H");
        var port = Opt.OptionalInt("--port", "its TCP port", 1, 65535, "P");
        var serial = Opt.Text("--serial", "a balance on a serial port (8N1)", "PORT");
        var baud = Opt.Int("--baud", "baud rate of the serial port", 9600);
        var count = Opt.Int("--count", "read N values", 1, 0);
        var tare = Opt.Switch("--tare", "tare before reading");
        var info = Opt.Switch("--info", "also print model (ESC x1_) and serial number (ESC x2_)");
        var timeout = Opt.Number("--timeout", "answer timeout in ms", 2000, 1, helpName: "MS");
        return Leaf("balance", "read a Sartorius Entris II over SBI (ESC P)", [simulate, load, host, port, serial, baud, count, tare, info, timeout],
            (p, loggers, ct) => BalanceAsync(new BalanceArgs(p.GetValue(simulate), p.GetValue(load), p.GetValue(host), p.GetValue(port), p.GetValue(serial),
                p.GetValue(baud), p.GetValue(count), p.GetValue(tare), p.GetValue(info), p.GetValue(timeout)), loggers, ct),
            "./finales device balance --simulate --count 3", "./finales device balance --host 192.168.0.50 --port 4001 --info");
    }

    private sealed record BalanceArgs(bool Simulate, double Load, string? Host, int? Port, string? Serial, int Baud, int Count, bool Tare, bool Info, double TimeoutMs);

    private static FinalesCommand Lims()
    {
        var inDir = Opt.Text("--in", "the LIMS input folder", "DIR");
        var outDir = Opt.Text("--out", "the LIMS output folder", "DIR");
        var sample = Opt.Text("--sample", "sample name", "S");
        var method = Opt.Text("--method", "measuring method", "M");
        inDir.Required = outDir.Required = sample.Required = method.Required = true;
        var timeout = Opt.Number("--timeout", "seconds to wait for the result", 1200, 0, helpName: "S");
        var simulate = Opt.Switch("--simulate", "also run a simulated instrument on those folders");
        var density = Opt.Number("--density", "with --simulate: the sample's density", 1.2034, helpName: "G_CM3");
        var viscosity = Opt.Number("--viscosity", "with --simulate: its viscosity", 2.91, helpName: "MPAS");
        var seed = Opt.Int("--seed", "with --simulate: noise seed", 1);
        var invalid = Opt.Number("--invalid", "with --simulate: probability of an invalid reading", 0, 0, 1, "P");
        var timeScale = Opt.Number("--time-scale", "with --simulate: wall seconds per simulated second", 0.001);
        return Leaf("lims", "measure density + viscosity through the Anton Paar LIMS folders",
            [inDir, outDir, sample, method, timeout, simulate, density, viscosity, seed, invalid, timeScale],
            (p, loggers, ct) => LimsAsync(new LimsArgs(p.GetValue(inDir)!, p.GetValue(outDir)!, p.GetValue(sample)!, p.GetValue(method)!, p.GetValue(timeout),
                p.GetValue(simulate), p.GetValue(density), p.GetValue(viscosity), p.GetValue(seed), p.GetValue(invalid), p.GetValue(timeScale)), loggers, ct),
            "./finales device lims --in lims/in --out lims/out --sample s1 --method DV --simulate");
    }

    private sealed record LimsArgs(string In, string Out, string Sample, string Method, double TimeoutSeconds, bool Simulate, double Density, double Viscosity,
        int Seed, double Invalid, double TimeScale);

    private static FinalesCommand Pump()
    {
        var simulate = Opt.Switch("--simulate", "required: the CETONI SDK binding is site-specific (see docs/devices.md)");
        var volume = Opt.Number("--volume", "mL to fill and dispense", 5.0, 0, helpName: "ML");
        var flow = Opt.Number("--flow", "flow in mL/s", 0.5, 0, helpName: "ML_S");
        var timeScale = Opt.Number("--time-scale", "wall seconds per simulated second", 0.001);
        return Leaf("pump", "fill a simulated 10 mL syringe from a reservoir and dispense into a vial on a simulated balance",
            [simulate, volume, flow, timeScale],
            (p, loggers, ct) => p.GetValue(simulate)
                ? PumpAsync(p.GetValue(volume), p.GetValue(flow), p.GetValue(timeScale), loggers, ct)
                : throw new UsageError("pump needs --simulate: the CETONI SDK binding is site-specific (see docs/devices.md)."),
            "./finales device pump --simulate --volume 2");
    }

    private static async Task<int> BalanceAsync(BalanceArgs o, ILoggerFactory loggers, CancellationToken ct)
    {
        var driverOptions = new SbiBalanceOptions { ResponseTimeout = TimeSpan.FromMilliseconds(o.TimeoutMs) };
        SimulatedSbiBalanceServer? server = null;
        SbiBalance balance;
        if (o.Simulate)
        {
            var sim = new SimulatedSbiBalance(new SimulatedSbiBalanceOptions(), loggers.CreateLogger<SimulatedSbiBalance>()) { PanLoadGrams = o.Load };
            server = new SimulatedSbiBalanceServer(sim);
            Console.WriteLine($"simulated balance listening on {server.Host}:{server.Port}");
            balance = await SbiBalance.ConnectTcpAsync(server.Host, server.Port, driverOptions, loggers.CreateLogger<SbiBalance>(), ct);
        }
        else if (o.Host is { } host)
        {
            var port = o.Port ?? throw new UsageError("--port is missing; expected 1..65535.");
            balance = await SbiBalance.ConnectTcpAsync(host, port, driverOptions, loggers.CreateLogger<SbiBalance>(), ct);
        }
        else if (o.Serial is { } serial)
        {
            balance = SbiBalance.OpenSerial(serial, o.Baud, options: driverOptions, logger: loggers.CreateLogger<SbiBalance>());
        }
        else throw new UsageError("balance needs --simulate, --host H --port P, or --serial PORT.");

        try
        {
            if (o.Info)
            {
                Console.WriteLine($"model:  {await balance.GetModelAsync(ct)}");
                Console.WriteLine($"serial: {await balance.GetSerialNumberAsync(ct)}");
            }
            if (o.Tare)
            {
                await balance.TareAsync(ct);
                Console.WriteLine("tared");
            }
            var count = o.Count;
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

    private static async Task<int> LimsAsync(LimsArgs o, ILoggerFactory loggers, CancellationToken ct)
    {
        var (inDir, outDir, sample, method) = (o.In, o.Out, o.Sample, o.Method);
        SimulatedLimsInstrument? sim = null;
        if (o.Simulate)
        {
            var truth = new SampleProperties(o.Density, o.Viscosity);
            var invalid = o.Invalid;
            sim = new SimulatedLimsInstrument(new SimulatedLimsOptions
            {
                InDirectory = inDir,
                OutDirectory = outDir,
                Seed = o.Seed,
                InvalidDensityProbability = invalid,
                InvalidViscosityProbability = invalid,
                Clock = new DeviceClock(o.TimeScale),
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
                Timeout = TimeSpan.FromSeconds(o.TimeoutSeconds),
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

    private static async Task<int> PumpAsync(double volume, double flow, double timeScale, ILoggerFactory loggers, CancellationToken ct)
    {
        var f = new SimulatedFluidics(new SimulatedFluidicsOptions { Clock = new DeviceClock(timeScale) }, loggers);
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
}
