namespace Finales.Hosting;

/// <summary>A TCP port on 127.0.0.1 that is free right now (for a broker a command or the demo starts itself).</summary>
public static class Loopback
{
    public static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var p = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return p;
    }
}
