using Finales.Hpc;
using Finales.Tenants.Md;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Finales.Cli;

/// <summary>`finales tenant md --config FILE`: the MD simulation tenant (docs/md-tenant.md).</summary>
public static class TenantMdCommand
{
    public static FinalesCommand Create()
    {
        var config = TenantCommands.ConfigOption();
        var command = new FinalesCommand("md", "MD simulation: LAMMPS primitive model, local or Slurm (conductivity|density|radial_density_function/molecular_dynamics)")
        {
            Notes = """
                Answers conductivity/molecular_dynamics, density/molecular_dynamics and radial_density_function/molacular_dynamics
                with LAMMPS runs of the primitive model of LiPF6 (implicit carbonate solvent), run locally or through Slurm.
                Config: a "Tenant" section (docs/tenants.md) and an "Md" section (Model primitive|all-atom, Executor local|slurm,
                WorkDirectory, Lammps, ProductionPs, Seed, TimeLimitMinutes, Cpus, PollSeconds, Partition, Account,
                AllAtomSize production|smoke, AllAtomData, Packmol; docs/md-tenant.md).
                Example config: tenants/Finales.Tenants.Md/md.example.json
                """,
            Examples = ["./finales tenant md --config md.json"],
        };
        command.Options.Add(config);
        command.SetAction(parse => Run(parse.GetValue(config)));
        return command;
    }

    private static int Run(string? configFile)
    {
        return TenantCommands.RunHost(configFile, sp =>
        {
            var options = sp.GetRequiredService<IConfiguration>().GetSection("Md").Get<MdOptions>() ?? new MdOptions();
            var problems = options.Problems();
            if (problems.Count > 0) throw new UsageError("invalid Md configuration: " + string.Join("; ", problems));
            var version = LammpsEngine.TryVersion(options.Lammps)
                          ?? throw new UsageError($"LAMMPS ('{options.Lammps}') does not run on this machine; install it with: apt-get install -y lammps");
            IJobExecutor executor = options.Executor == "slurm"
                ? new SlurmExecutor(new SlurmOptions(options.Partition, options.Account, [], []))
                : new LocalExecutor();
            Directory.CreateDirectory(options.WorkDirectory);
            var runner = SupervisedJobs.Create(executor, Path.Combine(options.WorkDirectory, "jobs.db"), TimeSpan.FromSeconds(options.PollSeconds));
            var stopping = sp.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            return new MdWorker(options, runner, version, executor.Kind, stopping);
        });
    }
}
