using ReMA.Abstractions.Campaigns;

namespace ReMA.Grains.Tests;

/// <summary>Polls a campaign until a condition holds, it fails, or time runs out; asks again while its silo goes away.</summary>
public static class CampaignWaits
{
    /// <summary>
    /// Polls the campaign's status until <paramref name="until"/> holds, it failed, or <paramref name="seconds"/> passed.
    /// <paramref name="callSeconds"/> bounds each call: a request that reached a silo just before it died gets no answer
    /// until the client's response timeout (30 s), while a new call finds the campaign where it is now.
    /// </summary>
    public static async Task<CampaignStatus> WaitAsync(ICampaignGrain campaign, Func<CampaignStatus, bool> until, int seconds = 120, int? callSeconds = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            CampaignStatus s;
            try
            {
                Task<CampaignStatus> call = campaign.Status();
                s = await (callSeconds is int bound ? call.WaitAsync(TimeSpan.FromSeconds(bound)) : call);
            }
            catch (Exception e) when (e is OrleansException or TimeoutException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);   // the silo that held the campaign is going away: ask again
                continue;
            }
            if (until(s) || s.Status is "failed" || DateTime.UtcNow > deadline)
            {
                return s;
            }
            await Task.Delay(100);
        }
    }
}
