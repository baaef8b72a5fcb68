using System.Text.Json.Nodes;

namespace Finales.Demo;

/// <summary>One level of the goal: which result value (capability + path in the result data) and how to rank it.</summary>
public sealed record DemoObjective(string Name, string Quantity, string Method, string Path, string Goal, double Tolerance, string Kind);

/// <summary>A goal of the demo: the Chimera hierarchy the optimizer tenant optimises, most important first.</summary>
public sealed record DemoPreset(string Name, string Description, DemoObjective[] Objectives)
{
    private const string Densimetry = "vibrating_tube_densimetry";

    public static readonly DemoPreset Electrolyte = new("electrolyte",
        "conductivity >= 0.8 S/m (absolute), then viscosity minimised (20 % relative), then density minimised",
        [
            new("conductivity", "conductivity", "two_electrode", "conductivity.values", "max", 0.8, "absolute"),
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

    public static DemoPreset Parse(string name) => name switch
    {
        "electrolyte" => Electrolyte,
        "paper" => Paper,
        _ => throw new DemoException($"--preset must be electrolyte or paper, got '{name}'"),
    };

    /// <summary>The capabilities requested for every point.</summary>
    public IReadOnlyList<(string Quantity, string Method)> Requests => Objectives.Select(o => (o.Quantity, o.Method)).Distinct().ToList();

    /// <summary>The objectives in the optimizer tenant's configuration shape (Optimizer:Objectives).</summary>
    public JsonArray OptimizerObjectives() => new(Objectives.Select(o => (JsonNode?)new JsonObject
    {
        ["Name"] = o.Name, ["Quantity"] = o.Quantity, ["Method"] = o.Method, ["Path"] = o.Path,
        ["Aggregate"] = "mean", ["Goal"] = o.Goal, ["Tolerance"] = o.Tolerance, ["Kind"] = o.Kind,
    }).ToArray());
}
