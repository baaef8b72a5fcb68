namespace Finales.Broker;

/// <summary>One reader of Linux's <c>/proc/PID/stat</c>, for the benchmarks' CPU accounting.</summary>
public static class ProcStat
{
    /// <summary>The parent pid and the user + system CPU seconds of <paramref name="pid"/>; null once it has exited.</summary>
    public static (int ParentPid, double CpuSeconds)? Read(int pid)
    {
        string stat;
        try { stat = File.ReadAllText($"/proc/{pid}/stat"); }
        catch (IOException) { return null; }
        // The command name is in parentheses and may hold either; after it: state, ppid, ..., utime (the 14th field
        // overall) and stime (the 15th), both in ticks of 1/100 s.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (int.Parse(fields[1]), (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0);
    }

    /// <summary>The user + system CPU seconds of <paramref name="pid"/>; NaN once it has exited.</summary>
    public static double CpuSeconds(int pid) => Read(pid)?.CpuSeconds ?? double.NaN;
}
