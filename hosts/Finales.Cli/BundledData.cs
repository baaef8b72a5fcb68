namespace Finales.Cli;

/// <summary>
/// Data the CLI ships next to its assembly (copied there at build time, see Finales.Cli.csproj and data/README.md):
/// the vendored FINALES2 corpus (data/finales2-schemas in the repository) and the ASAB example layout (the tubing
/// graph fixture, the 2022 stocks and the example tenant config). Read from the build output only, never from a
/// repository checkout, so a copied CLI build runs `demo` and `bench broker --self` on its own.
/// </summary>
public static class BundledData
{
    /// <summary>The folder holding the bundled data: data/ next to finales.dll.</summary>
    public static string Root { get; } = Path.Combine(AppContext.BaseDirectory, "data");

    /// <summary>A file or folder of the FINALES2 corpus, e.g. "serialized_quantities/density/vibrating_tube_densimetry.json".</summary>
    public static string Corpus(string relative) => Existing(Path.Combine(Root, "finales2-schemas", relative), "FINALES2 corpus");

    /// <summary>The ASAB tubing graph (nodes.csv, edges.csv, tubing.csv; from tests/fixtures/asab-graph).</summary>
    public static string AsabGraphDirectory => Existing(Path.Combine(Root, "asab", "graph"), "ASAB example tubing graph");

    /// <summary>The 2022 stocks of the ASAB example (from tenants/Finales.Tenants.Asab/stocks-2022.json).</summary>
    public static string AsabStocksFile => Existing(Path.Combine(Root, "asab", "stocks-2022.json"), "ASAB example stocks");

    /// <summary>The ASAB example tenant config (from tenants/Finales.Tenants.Asab/asab.example.json).</summary>
    public static string AsabExampleConfig => Existing(Path.Combine(Root, "asab", "asab.example.json"), "ASAB example config");

    private static string Existing(string path, string what) =>
        File.Exists(path) || Directory.Exists(path)
            ? path
            : throw new UsageError($"{what} not found at {path}: the CLI build copies it next to finales.dll (see data/README.md); rebuild the CLI or copy its whole output folder");
}
