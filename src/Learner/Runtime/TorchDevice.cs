using TorchSharp;

namespace ReMA.Learner.Runtime;

/// <summary>
/// Parses and validates the device setting (<c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>) used wherever tensors are created.
/// Asking for CUDA on a machine without it fails here, at start-up, with a message saying what is available.
/// </summary>
public static class TorchDevice
{
    public static torch.Device Resolve(string? setting)
    {
        string value = string.IsNullOrWhiteSpace(setting) ? "cpu" : setting.Trim().ToLowerInvariant();
        if (value == "cpu")
        {
            return torch.CPU;
        }
        if (value == "meta")
        {
            return torch.META;
        }
        if (value == "cuda" || value.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (value.Length > 4 && !int.TryParse(value.AsSpan(5), out index))
            {
                throw new ArgumentException($"device '{setting}': expected cpu, cuda or cuda:N with N a GPU index.");
            }
            if (!torch.cuda.is_available())
            {
                throw new InvalidOperationException(
                    $"device '{setting}' was requested but CUDA is not available in this process " +
                    "(this build references the CPU libtorch, or no GPU/driver is visible). " +
                    "Use device 'cpu', or build with -p:TorchBackend=cuda on a machine with an NVIDIA GPU.");
            }
            int count = torch.cuda.device_count();
            if (index < 0 || index >= count)
            {
                throw new InvalidOperationException($"device '{setting}': only {count} CUDA device(s) are visible (cuda:0..cuda:{count - 1}).");
            }
            return new torch.Device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"device '{setting}' is not recognised: expected cpu, cuda or cuda:N.");
    }

    /// <summary>Parses a dtype setting: float32 (default) or bfloat16 (float16 is accepted for loading only).</summary>
    public static torch.ScalarType ResolveDType(string? setting) => (setting ?? "float32").Trim().ToLowerInvariant() switch
    {
        "float32" or "fp32" or "f32" => torch.ScalarType.Float32,
        "bfloat16" or "bf16" => torch.ScalarType.BFloat16,
        "float16" or "fp16" or "f16" => torch.ScalarType.Float16,
        _ => throw new ArgumentException($"dtype '{setting}' is not recognised: expected float32 or bfloat16."),
    };

    public static string DTypeName(torch.ScalarType dtype) => dtype switch
    {
        torch.ScalarType.Float32 => "float32",
        torch.ScalarType.BFloat16 => "bfloat16",
        torch.ScalarType.Float16 => "float16",
        _ => dtype.ToString(),
    };
}
