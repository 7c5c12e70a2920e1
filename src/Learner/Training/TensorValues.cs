using static TorchSharp.torch;

namespace ReMA.Learner.Training;

internal static class TensorValues
{
    /// <summary>A one-element tensor of any numeric dtype as a double.</summary>
    public static double ToDouble(this Tensor t)
    {
        using Tensor d = t.to(ScalarType.Float64);
        return d.item<double>();
    }

    public static long ToInt64(this Tensor t)
    {
        using Tensor l = t.to(ScalarType.Int64);
        return l.item<long>();
    }
}
