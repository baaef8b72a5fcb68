namespace Finales.Hpc;

/// <summary>What the Slurm executor needs from its configuration to write a batch script.</summary>
/// <param name="Partition">-p; null = the cluster's default partition.</param>
/// <param name="Account">-A; null = the user's default account.</param>
/// <param name="Modules">Environment modules loaded before the job script (<c>module load X</c>).</param>
/// <param name="ExtraSbatchArgs">Further <c>#SBATCH</c> options verbatim, e.g. <c>--mem=4G</c> or <c>--qos=short</c>.</param>
public sealed record SlurmOptions(string? Partition, string? Account, IReadOnlyList<string> Modules, IReadOnlyList<string> ExtraSbatchArgs)
{
    public static SlurmOptions Default { get; } = new(null, null, [], []);
}
