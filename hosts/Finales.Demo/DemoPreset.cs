using System.Globalization;
using System.Text.Json.Nodes;

namespace Finales.Demo;

/// <summary>One level of the goal: which result value (capability + path in the result data) and how to rank it.</summary>
public sealed record DemoObjective(string Name, string Quantity, string Method, string Path, string Goal, double Tolerance, string Kind);

/// <summary>One capability the optimizer tenant requests, for <see cref="Share"/> of its points (1 = every point).</summary>
public sealed record DemoRequest(string Quantity, string Method, double Share);

/// <summary>A goal of the demo: the Chimera hierarchy the optimizer tenant optimises, most important first.</summary>
public sealed record DemoPreset(string Name, string Description, DemoObjective[] Objectives)
{
    private const string Densimetry = "vibrating_tube_densimetry";

    /// <summary>The MD tenant's conductivity capability (Einstein-Helfand value at <c>conductivity.values</c>).</summary>
    public const string MdMethod = "molecular_dynamics";

    /// <summary>The electrolyte goal; its conductivity level is simulated by the MD tenant (primitive model) for a share
    /// of the points (<see cref="ForRun"/>).</summary>
    public static readonly DemoPreset Electrolyte = new("electrolyte",
        "conductivity >= 0.8 S/m (absolute), then viscosity minimised (20 % relative), then density minimised",
        [
            new("conductivity", "conductivity", MdMethod, "conductivity.values", "max", 0.8, "absolute"),
            new("viscosity", "density", Densimetry, "viscosity.values", "min", 0.2, "relative"),
            new("density", "density", Densimetry, "density.values", "min", 0.0, "relative"),
        ]);

    /// <summary>The paper's goal: maximise viscosity, then minimise density.</summary>
    public static readonly DemoPreset Paper = new("paper",
        "viscosity maximised (20 % relative), then density minimised (the paper's goal)",
        [
            new("viscosity", "density", Densimetry, "viscosity.values", "max", 0.2, "relative"),
            new("density", "density", Densimetry, "density.values", "min", 0.0, "relative"),
        ]);

    /// <summary>The share of the points the MD conductivity is requested for (1 = every point; see <see cref="ForRun"/>).</summary>
    public double MdShare { get; init; } = 1;

    public static DemoPreset Parse(string name) => name switch
    {
        "electrolyte" => Electrolyte,
        "paper" => Paper,
        _ => throw new DemoException($"--preset must be electrolyte or paper, got '{name}'"),
    };

    /// <summary>Whether a level of the goal reads the MD tenant's results.</summary>
    public bool UsesMd => Objectives.Any(o => o.Method == MdMethod);

    /// <summary>
    /// The goal as one run pursues it. With the MD tenant (<paramref name="mdRunning"/>) the MD conductivity is requested
    /// for <paramref name="mdShare"/> of the points, and the description says so. Without it a goal that reads MD results
    /// drops those levels, and its description says that and why (no silent fallback: the report's goal carries it).
    /// </summary>
    public DemoPreset ForRun(bool mdRunning, double mdShare, string whyNoMd)
    {
        if (!UsesMd) return this;
        if (mdRunning)
            return this with
            {
                MdShare = mdShare,
                Description = Description + (mdShare >= 1
                    ? "; conductivity simulated by the MD tenant (primitive model) at every point"
                    : $"; conductivity simulated by the MD tenant (primitive model) at a share {mdShare.ToString("0.###", CultureInfo.InvariantCulture)} of the points"),
            };
        var kept = Objectives.Where(o => o.Method != MdMethod).ToArray();
        var dropped = string.Join(", ", Objectives.Where(o => o.Method == MdMethod).Select(o => o.Name));
        return this with
        {
            Objectives = kept,
            Description = string.Join(", then ", kept.Select(o => $"{o.Name} {(o.Goal == "min" ? "minimised" : "maximised")}")) +
                          $" (without its {dropped} level: {whyNoMd})",
        };
    }

    /// <summary>The capabilities requested, in the objectives' order, with the share of the points each is requested for.</summary>
    public IReadOnlyList<DemoRequest> Requests => Objectives.Select(o => (o.Quantity, o.Method)).Distinct()
        .Select(r => new DemoRequest(r.Quantity, r.Method, r.Method == MdMethod ? MdShare : 1)).ToList();

    /// <summary>The objectives in the optimizer tenant's configuration shape (Optimizer:Objectives).</summary>
    public JsonArray OptimizerObjectives() => new(Objectives.Select(o => (JsonNode?)new JsonObject
    {
        ["Name"] = o.Name, ["Quantity"] = o.Quantity, ["Method"] = o.Method, ["Path"] = o.Path,
        ["Aggregate"] = "mean", ["Goal"] = o.Goal, ["Tolerance"] = o.Tolerance, ["Kind"] = o.Kind,
    }).ToArray());

    /// <summary>The requests in the optimizer tenant's configuration shape (Optimizer:Requests, with Share).</summary>
    public JsonArray OptimizerRequests() => new(Requests.Select(r => (JsonNode?)new JsonObject
    {
        ["Quantity"] = r.Quantity, ["Method"] = r.Method, ["Share"] = r.Share,
    }).ToArray());
}
