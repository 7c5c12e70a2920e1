using ReMA.Abstractions.Campaigns;

namespace ReMA.Grains.Tests;

/// <summary>Polls a campaign until a condition holds, it fails, or time runs out; asks again while its silo goes away.</summary>
public static class CampaignWaits
{
    public static async Task<CampaignStatus> WaitAsync(ICampaignGrain campaign, Func<CampaignStatus, bool> until, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            CampaignStatus s;
            try
            {
                s = await campaign.Status();
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
