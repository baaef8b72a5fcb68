namespace Finales.Demo;

/// <summary>
/// Children started by `finales demo` get FINALES_EXIT_ON_STDIN_EOF=1 and a pipe as stdin: when the demo dies, even by
/// kill -9, the pipe closes and the child exits (through the normal shutdown path), so no orphan is left behind.
/// </summary>
public static class ParentWatch
{
    public const string Variable = "FINALES_EXIT_ON_STDIN_EOF";

    public static void StartIfRequested()
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1") return;
        var thread = new Thread(() =>
        {
            try { while (Console.In.Read() >= 0) { } }
            catch (IOException) { }
            Console.Error.WriteLine("finales: the parent process is gone (stdin closed); shutting down");
            Environment.Exit(70);
        })
        { IsBackground = true, Name = "parent-watch" };
        thread.Start();
    }
}
