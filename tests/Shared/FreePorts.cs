using System.Net;
using System.Net.Sockets;

namespace ReMA.Tests.Shared;

/// <summary>
/// Loopback ports for the servers tests start (silos, gateways, web hosts, Azurite). Compiled into each test project
/// that needs it (linked from tests/Shared).
/// </summary>
public static class FreePorts
{
    private static readonly HashSet<int> HandedOut = [];
    private static readonly Random Choice = new();

    /// <summary>
    /// A port that is free now, below Linux's ephemeral range (32768-60999), never the same twice in this process. A port
    /// the OS hands out for port 0 lies in that range, where any outgoing connection (a storage client's, another
    /// silo's) may take it as its source port before the server binds it: a silo died with "address already in use",
    /// and Azurite exited with EADDRINUSE, that way.
    /// </summary>
    public static int Next()
    {
        lock (HandedOut)
        {
            for (int attempt = 0; attempt < 500; attempt++)
            {
                int port = Choice.Next(20000, 32000);
                if (!HandedOut.Add(port))
                {
                    continue;
                }
                try
                {
                    using var listener = new TcpListener(IPAddress.Loopback, port);
                    listener.Start();
                    return port;
                }
                catch (SocketException)
                {
                    // in use: try another
                }
            }
        }
        throw new InvalidOperationException("no free loopback port found in 20000-31999 after 500 tries.");
    }
}
