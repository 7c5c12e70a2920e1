using ReMA.Grains.Services;

namespace ReMA.Grains.Tests;

public class TransientTests
{
    [Fact]
    public void InfrastructureFailures_AreTransient_AndWorkFailuresAreNot()
    {
        Assert.True(Transient.Is(new TimeoutException("episode")));
        Assert.True(Transient.Is(new SiloUnavailableException("gone")));
        Assert.True(Transient.Is(new Orleans.Storage.InconsistentStateException("etag")));
        Assert.True(Transient.Is(new InvalidOperationException("wrapped", new HttpRequestException("connection refused"))));
        Assert.True(Transient.Is(new AggregateException(new ArgumentException("x"), new IOException("disk"))));
        Assert.False(Transient.Is(new ArgumentException("learning_rate must be positive")));
        Assert.False(Transient.Is(new InvalidOperationException("task 'x' cannot write demonstrations")));
        Assert.Equal("HttpRequestException: connection refused", Transient.Describe(new InvalidOperationException("wrapped", new HttpRequestException("connection refused\nmore"))));
    }
}
