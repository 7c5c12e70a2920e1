using ReMA.Learner.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace ReMA.Learner.Tests;

public class TorchRuntimeTests
{
    [Fact]
    public void Torch_LoadsAndMultipliesMatrices()
    {
        using Tensor a = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        using Tensor b = tensor(new float[] { 5, 6, 7, 8 }, [2, 2]);
        using Tensor c = a.matmul(b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("CPU")]
    [InlineData(null)]
    public void Device_CpuResolves(string? setting) => Assert.Equal(DeviceType.CPU, TorchDevice.Resolve(setting).type);

    [Fact]
    public void Device_CudaWithoutGpuFailsClearly()
    {
        if (torch.cuda.is_available())
        {
            Assert.Equal(DeviceType.CUDA, TorchDevice.Resolve("cuda:0").type);
            return;
        }
        var error = Assert.Throws<InvalidOperationException>(() => TorchDevice.Resolve("cuda:1"));
        Assert.Contains("cuda:1", error.Message);
        Assert.Contains("CUDA is not available", error.Message);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:x")]
    public void Device_UnknownSettingNamesTheValue(string setting)
    {
        var error = Assert.Throws<ArgumentException>(() => TorchDevice.Resolve(setting));
        Assert.Contains(setting, error.Message);
    }
}
