using System.Diagnostics;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Finales.Demo;

/// <summary>What the live view shows besides the broker's state: the run's phase and the optimizer's iteration.</summary>
public readonly record struct DemoProgress(string Status, int Iteration);

/// <summary>
/// The demo's live progress. On a terminal a Spectre.Console live display (progress bar, per-tenant table, the last
/// notes), redrawn four times a second; with --plain or redirected output plain lines without ANSI codes (a note per
/// event, a progress line at most every 5 s), which the tests read.
/// </summary>
public sealed class DemoLiveView(DemoSettings s, Stopwatch clock, Func<DemoProgress> progress, Func<CancellationToken, Task<BrokerSnapshot?>> read)
{
    private readonly List<string> _notes = [];
    private DateTime _lastPlain = DateTime.MinValue;
    private string _lastPlainLine = "";

    /// <summary>Records a note; plain output prints it at once, the live display shows the last four.</summary>
    public void Note(string message)
    {
        var line = $"{DateTime.Now:HH:mm:ss} {message}";
        lock (_notes) _notes.Add(line);
        if (s.Plain) lock (Console.Out) Console.WriteLine(line);
    }

    /// <summary>Shows progress until <paramref name="ct"/> is cancelled, then draws the final state once more.</summary>
    public async Task Run(CancellationToken ct)
    {
        if (s.Plain)
        {
            while (!ct.IsCancellationRequested)
            {
                await PlainLine(final: false, ct);
                await Pause(TimeSpan.FromSeconds(1), ct);
            }
            await PlainLine(final: true, CancellationToken.None);
            return;
        }
        var console = AnsiConsole.Console;
        await console.Live(new Text("starting")).AutoClear(false).StartAsync(async ctx =>
        {
            while (true)
            {
                var stopping = ct.IsCancellationRequested;
                if (await ReadState(stopping ? CancellationToken.None : ct) is { } state)
                {
                    ctx.UpdateTarget(Display(state));
                    ctx.Refresh();
                }
                if (stopping) break;
                await Pause(TimeSpan.FromMilliseconds(250), ct);
            }
        });
    }

    private static async Task Pause(TimeSpan delay, CancellationToken ct)
    {
        try { await Task.Delay(delay, ct); }
        catch (OperationCanceledException) { }
    }

    private sealed record State(DemoProgress Progress, IReadOnlyList<TenantCounts> Counts, int Done, string Requests, (int Complete, string Best) Best);

    /// <summary>The broker's state now, or null while it cannot answer (a chaos restart).</summary>
    private async Task<State?> ReadState(CancellationToken ct)
    {
        BrokerSnapshot? snapshot;
        try { snapshot = await read(ct); }
        catch (OperationCanceledException) { return null; }
        if (snapshot is null) return null;
        var statuses = snapshot.StatusCounts();
        var p = progress();
        // An iteration is done when its requests are resolved: with one batch in flight, that is all but the last.
        var done = statuses.GetValueOrDefault("pending") + statuses.GetValueOrDefault("reserved") == 0 ? p.Iteration : Math.Max(0, p.Iteration - 1);
        var requests = string.Join(", ", statuses.OrderBy(kv => kv.Key).Select(kv => $"{kv.Value} {kv.Key}"));
        var counts = snapshot.Live().OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        return new State(p, counts, done, requests, DemoReport.LiveBest(snapshot, s.Preset));
    }

    private async Task PlainLine(bool final, CancellationToken ct)
    {
        if (!final && DateTime.UtcNow - _lastPlain < TimeSpan.FromSeconds(5)) return;
        if (await ReadState(ct) is not { } state) return;
        _lastPlain = DateTime.UtcNow;
        var tenants = string.Join(" | ", state.Counts.Select(t => $"{t.Name} posted {t.Posted} claimed {t.Claimed} resolved {t.Resolved}"));
        var line = $"iteration {state.Progress.Iteration}/{s.Iterations} ({state.Done} done), best {state.Best.Best} ({state.Best.Complete} points) | {tenants} | requests: {state.Requests}";
        if (final && line == _lastPlainLine) return;
        _lastPlainLine = line;
        lock (Console.Out) Console.WriteLine($"{DateTime.Now:HH:mm:ss} [{clock.Elapsed:mm\\:ss}] {line}");
    }

    private IRenderable Display(State state)
    {
        var title = new Markup($"[bold]Finales demo[/]: {Markup.Escape(s.Preset.Name)} preset, seed {s.Seed}{(s.Chaos ? ", chaos" : "")}   " +
                               $"elapsed {clock.Elapsed:mm\\:ss}   [yellow]{Markup.Escape(state.Progress.Status)}[/]");
        var bar = new BreakdownChart().Width(40).HideTags()
            .AddItem("done", state.Done, Color.Green)
            .AddItem("to do", Math.Max(0, s.Iterations - state.Done), Color.Grey);
        var iteration = new Text($"iteration {state.Progress.Iteration}/{s.Iterations} ({state.Done} done)   best {state.Best.Best} ({state.Best.Complete} points)");
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("tenant").AddColumn(new TableColumn("posted").RightAligned())
            .AddColumn(new TableColumn("claimed").RightAligned()).AddColumn(new TableColumn("resolved").RightAligned());
        foreach (var t in state.Counts)
            table.AddRow(new Text(t.Name), new Text(t.Posted.ToString()), new Text(t.Claimed.ToString()), new Text(t.Resolved.ToString()));
        List<IRenderable> rows = [title, bar, iteration, table, new Text($"requests: {state.Requests}")];
        lock (_notes) rows.AddRange(_notes.TakeLast(4).Select(n => (IRenderable)new Text("  " + n, new Style(Color.Grey))));
        return new Rows(rows);
    }
}
