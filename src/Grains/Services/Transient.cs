using System.Net.Sockets;

namespace ReMA.Grains.Services;

/// <summary>
/// Failures of the infrastructure rather than of the work: storage unreachable or throttled, a silo gone, a message
/// rejected or timed out, the network. A unit of work that failed this way is worth repeating later; anything else
/// (bad configuration, a bug) is not.
/// </summary>
public static class Transient
{
    public static bool Is(Exception e) => Chain(e).Any(x => x switch
    {
        TimeoutException or IOException or SocketException or HttpRequestException => true,
        OrleansException => true,                                 // silo unavailable, message rejected, storage provider errors
        _ => x.GetType().FullName == "Azure.RequestFailedException",   // Azure Storage (no compile-time reference here)
    });

    /// <summary>
    /// Storage that answers but no longer holds what the cluster wrote: a container or table that does not exist (an
    /// in-memory emulator restarted, an account wiped). Retrying cannot bring the data back, so the campaign loop gives
    /// up after a bounded time (<see cref="Campaigns.CampaignLoopOptions.StorageLossSeconds"/>) instead of looping forever.
    /// </summary>
    public static bool IsStorageLoss(Exception e) => Chain(e).Any(x =>
        x.GetType().FullName == "Azure.RequestFailedException"
        && x.GetType().GetProperty("Status")?.GetValue(x) is 404
        && x.GetType().GetProperty("ErrorCode")?.GetValue(x) is "ContainerNotFound" or "TableNotFound");

    /// <summary>A one-line description for logs and the campaign status (type and message of the innermost cause).</summary>
    public static string Describe(Exception e)
    {
        Exception inner = Chain(e).Last();
        return $"{inner.GetType().Name}: {inner.Message.Split('\n')[0].Trim()}";
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        var pending = new Stack<Exception>([e]);
        int seen = 0;
        while (pending.Count > 0 && seen++ < 32)
        {
            Exception x = pending.Pop();
            yield return x;
            if (x is AggregateException aggregate)
            {
                foreach (Exception inner in aggregate.InnerExceptions.Reverse())
                {
                    pending.Push(inner);
                }
            }
            else if (x.InnerException is Exception inner)
            {
                pending.Push(inner);
            }
        }
    }
}
