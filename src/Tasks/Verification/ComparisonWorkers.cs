using System.Collections.Concurrent;

namespace ReMA.Tasks.Verification;

/// <summary>
/// A few dedicated background threads that run comparisons for <see cref="MathEquivalence.Check"/>. Dedicated threads
/// (rather than the thread pool) let a caller block on a result with a timeout without starving the pool when many
/// checks run in parallel from pool threads.
/// </summary>
internal sealed class ComparisonWorkers
{
    private readonly BlockingCollection<Action> _queue = [];

    private ComparisonWorkers(int threadCount)
    {
        for (int i = 0; i < threadCount; i++)
        {
            var thread = new Thread(Work) { IsBackground = true, Name = $"math-verifier-{i}" };
            thread.Start();
        }
    }

    /// <summary>The process-wide workers: as many threads as processors, at least four.</summary>
    public static ComparisonWorkers Shared { get; } = new(System.Math.Max(4, Environment.ProcessorCount));

    /// <summary>Queues <paramref name="compute"/> and returns a task that completes with its result or its exception.</summary>
    public Task<T> Run<T>(Func<T> compute)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Add(() =>
        {
            try
            {
                completion.SetResult(compute());
            }
            catch (Exception ex)
            {
                completion.SetException(ex);
            }
        });
        return completion.Task;
    }

    private void Work()
    {
        foreach (Action item in _queue.GetConsumingEnumerable())
        {
            item();
        }
    }
}
