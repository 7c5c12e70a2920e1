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
/// overlap it, was faster with both (0.35 s against 0.42 s) before its rows shared prefixes; since, half an RL step's
/// shared pass takes the same time on one thread as on two. Learners keep the process's count unless rollouts overlap
/// their updates or several learners update together, which then share the cores (<see cref="ForLearner"/>). Larger
/// models keep every thread: their operators have work to split; learners of such models that run at the same time
/// in one process take turns (<see cref="ReserveAsync"/>).
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
    /// The threads for a learner's updates (or fine-tuning) of <paramref name="model"/>: <paramref name="configured"/>
    /// when positive; for a model small enough for its engine to take one thread (<see cref="For"/>), the process's
    /// cores shared among the <paramref name="concurrent"/> learners that run at the same time, less one core for the
    /// engine when rollouts overlap the updates (at least one each); otherwise the process's count, and co-located
    /// learners take turns (<see cref="ReserveAsync"/>).
    /// </summary>
    /// <param name="concurrent">Learners of the campaign that update at the same time (the policies trained together).</param>
    public static int ForLearner(CausalLM model, int? configured, bool besideRollouts, int concurrent = 1)
    {
        if (configured is int n && n > 0)
        {
            return n;
        }
        if (For(model) != 1)
        {
            return ProcessDefault;
        }
        int cores = besideRollouts ? ProcessDefault - 1 : ProcessDefault;
        return Math.Max(1, cores / Math.Max(1, concurrent));
    }

    private static readonly object Gate = new();
    private static readonly LinkedList<(int Threads, TaskCompletionSource<IDisposable> Granted)> Waiting = new();
    private static int _reserved;

    /// <summary>Cores of the process held by running reservations (<see cref="ReserveAsync"/>).</summary>
    public static int Reserved
    {
        get
        {
            lock (Gate)
            {
                return _reserved;
            }
        }
    }

    /// <summary>
    /// Waits until <paramref name="threads"/> of the process's cores (<see cref="ProcessDefault"/>) are free and holds
    /// them until the result is disposed, so that compute sites of one process that run at the same time (learners of
    /// two policies updating together) never ask for more threads than there are cores: with small models each takes
    /// one and they run side by side; with larger ones each takes them all and they take turns. Requests are granted
    /// in the order they came; one larger than the process is granted when nothing else holds a core. Zero (a model
    /// off the CPU) is granted at once.
    /// </summary>
    public static Task<IDisposable> ReserveAsync(int threads, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        if (threads == 0)
        {
            return Task.FromResult<IDisposable>(new Reservation(0));
        }
        lock (Gate)
        {
            if (Waiting.Count == 0 && Fits(threads))
            {
                _reserved += threads;
                return Task.FromResult<IDisposable>(new Reservation(threads));
            }
            var granted = new TaskCompletionSource<IDisposable>(TaskCreationOptions.RunContinuationsAsynchronously);
            var node = Waiting.AddLast((threads, granted));
            if (cancellationToken.CanBeCanceled)
            {
                CancellationTokenRegistration registration = cancellationToken.Register(() =>
                {
                    lock (Gate)
                    {
                        if (node.List is not null && granted.TrySetCanceled(cancellationToken))
                        {
                            Waiting.Remove(node);
                            GrantWaiting();
                        }
                    }
                });
                // Granted or cancelled, the registration is no longer needed.
                granted.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            return granted.Task;
        }
    }

    private static bool Fits(int threads) => _reserved == 0 || _reserved + threads <= ProcessDefault;

    private static void GrantWaiting()
    {
        while (Waiting.First is { } first && Fits(first.Value.Threads))
        {
            Waiting.RemoveFirst();
            _reserved += first.Value.Threads;
            first.Value.Granted.TrySetResult(new Reservation(first.Value.Threads));
        }
    }

    private sealed class Reservation(int threads) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (threads == 0 || Interlocked.Exchange(ref _released, 1) == 1)
            {
                return;
            }
            lock (Gate)
            {
                _reserved -= threads;
                GrantWaiting();
            }
        }
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
