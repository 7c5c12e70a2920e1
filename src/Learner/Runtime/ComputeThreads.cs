using ReMA.Learner.Model;
using static TorchSharp.torch;

namespace ReMA.Learner.Runtime;

/// <summary>
/// How many of libtorch's intra-op threads a compute thread (an engine's, a learner update's) uses. libtorch keeps the
/// count per calling thread (OpenMP's thread count and MKL's local one), so an engine thread and a learner thread can
/// differ; setting it also sets the default that threads touching torch for the first time start from, so every compute
/// site here sets its own count (<see cref="Use"/>) instead of relying on that default.
/// <para>
/// A small model's forward is a few hundred microseconds of arithmetic spread over dozens of operators, each a parallel
/// region whose threads meet at a barrier. With two threads on two cores, every barrier waits for a worker that the
/// Orleans scheduler or the episodes' logic has just taken the core from. Measured on the arithmetic preset's nano model
/// (2 cores, one sitting; docs/benchmarks.md): an engine thread with one libtorch thread instead of two took a rollout
/// of 128 episodes through the grains from 0.58 to 0.31 s. The learner's update, which runs alone when rollouts do not
/// overlap it, was faster with both (0.35 s against 0.42 s), so learners keep the process's count unless rollouts
/// overlap their updates (<see cref="ForLearner"/>). Larger models keep every thread: their operators have work to split.
/// </para>
/// </summary>
public static class ComputeThreads
{
    /// <summary>Models with fewer parameters than this use one thread unless told otherwise.</summary>
    public const long SmallModelParameters = 1_000_000;

    /// <summary>
    /// The process's thread count: the silo's ReMA:Torch:Threads (<see cref="Initialize"/>), or, where nothing set it,
    /// torch's count when this class was first used (before any <see cref="Use"/>, which runs only after it).
    /// </summary>
    public static int ProcessDefault { get; private set; } = get_num_threads();

    /// <summary>Sets <see cref="ProcessDefault"/> (and torch's count on the calling thread, unless it already is that) to <paramref name="threads"/>; a host calls it once at start-up.</summary>
    public static void Initialize(int threads)
    {
        if (threads <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), $"the process's thread count must be positive (got {threads}).");
        }
        Use(threads);   // no call into libtorch's set-up when the count is already that (the usual start-up)
        ProcessDefault = threads;
    }

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

    /// <summary>
    /// The threads for a learner's updates of <paramref name="model"/>: <paramref name="configured"/> when positive;
    /// when rollouts overlap the updates and the model is small enough for its engine to take one thread
    /// (<see cref="For"/>), the rest of the process's count (at least one), so that the engine and the learner each
    /// keep a core; otherwise the process's count.
    /// </summary>
    public static int ForLearner(CausalLM model, int? configured, bool besideRollouts)
    {
        if (configured is int n && n > 0)
        {
            return n;
        }
        return besideRollouts && For(model) == 1 ? Math.Max(1, ProcessDefault - 1) : ProcessDefault;
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
