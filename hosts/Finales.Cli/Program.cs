namespace Finales.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.WriteLine("finales");
        return 0;
    }
}
