using ReMA.Learner.Model;
using static TorchSharp.torch;

namespace ReMA.Learner.Runtime;

/// <summary>
/// How many of libtorch's intra-op threads a compute thread (an engine's, a learner update's) uses. libtorch keeps the
/// count per calling thread (OpenMP's thread count and MKL's local one), so an engine thread and a learner thread can
/// differ.
/// <para>
/// A small model's forward is a few hundred microseconds of arithmetic spread over dozens of operators, each a parallel
/// region whose threads meet at a barrier. With two threads on two cores, every barrier waits for a worker that the
/// Orleans scheduler, the episodes' logic or the other compute thread has just taken the core from. Measured on the
/// arithmetic preset's nano model (2 cores, the same sitting; docs/benchmarks.md): one thread instead of two took a
/// rollout of 128 episodes from 0.59 to 0.31 s through the grains and the RL step from 0.97 to 0.69 s, with the
/// learner's update unchanged (0.32 and 0.31 s). Larger models keep every thread: their operators have work to split.
/// </para>
/// </summary>
public static class ComputeThreads
{
    /// <summary>Models with fewer parameters than this use one thread unless told otherwise.</summary>
    public const long SmallModelParameters = 1_000_000;

    /// <summary>The process's thread count when this class was first used (the silo's ReMA:Torch:Threads, or torch's default).</summary>
    public static int ProcessDefault { get; } = get_num_threads();

    /// <summary>
    /// The threads for <paramref name="model"/>: <paramref name="configured"/> when positive; otherwise 1 for a model
    /// under <see cref="SmallModelParameters"/> parameters on the CPU, else <see cref="ProcessDefault"/>.
    /// </summary>
    public static int For(CausalLM model, int? configured = null)
    {
        if (configured is int n && n > 0)
        {
            return n;
        }
        return model.Device.type == TorchSharp.DeviceType.CPU && model.ParameterCount() < SmallModelParameters ? 1 : ProcessDefault;
    }

    /// <summary>Sets the calling thread's count to <paramref name="threads"/> (positive) unless it already is.</summary>
    public static void Use(int threads)
    {
        if (threads <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), $"compute threads must be positive (got {threads}).");
        }
        if (get_num_threads() != threads)
        {
            set_num_threads(threads);
        }
    }
}
