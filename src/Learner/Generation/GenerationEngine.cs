using System.Collections.Concurrent;
using ReMA.Learner.Model;
using ReMA.Learner.Tokenization;

namespace ReMA.Learner.Generation;

/// <summary>
/// Runs a <see cref="ContinuousBatcher"/> on a dedicated compute thread. Any thread may submit requests; they join
/// the running batch at the next step. Work that must touch the model (for example loading new weights) is queued
/// with <see cref="RunBetweenStepsAsync"/> and runs between decode steps, so in-flight requests continue afterwards.
/// TorchSharp dispose scopes and no_grad are thread-local, which is why all tensor work stays on this one thread.
/// </summary>
public sealed class GenerationEngine : IDisposable
{
    private readonly ContinuousBatcher _batcher;
    private readonly ConcurrentQueue<(GenerationRequest Request, TaskCompletionSource<GenerationResult> Completion)> _incoming = new();
    private readonly ConcurrentQueue<Action> _betweenSteps = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Thread _thread;
    private volatile bool _stopping;

    public GenerationEngine(CausalLM model, ITokenizer tokenizer, EngineOptions? options = null, string name = "generation")
    {
        if (options?.Threads is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"engine: threads must be positive or null for automatic (got {options.Threads}).");
        }
        _batcher = new ContinuousBatcher(model, tokenizer, options);
        Threads = Runtime.ComputeThreads.For(model, options?.Threads);
        _thread = new Thread(Run) { IsBackground = true, Name = $"rema-{name}" };
        _thread.Start();
    }

    public long Steps => _batcher.Steps;
    /// <summary>libtorch intra-op threads the compute thread runs with (see <see cref="EngineOptions.Threads"/>).</summary>
    public int Threads { get; }
    /// <summary>Where the engine's time went so far (written by the engine's thread; a read may lag one step).</summary>
    public EngineTimes Times => _batcher.Times.Snapshot();
    public long GeneratedTokens => _batcher.GeneratedTokens;
    public long WeightsVersion => _batcher.WeightsVersion;
    public int PeakBatch => _batcher.PeakBatch;
    public double MeanBatch => _batcher.MeanBatch;
    /// <summary>Whether decoding runs the C# kernels (see <see cref="EngineOptions.DecodeKernels"/>).</summary>
    public bool DecodesWithKernels => _batcher.DecodesWithKernels;

    public Task<GenerationResult> GenerateAsync(GenerationRequest request)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        var completion = new TaskCompletionSource<GenerationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _incoming.Enqueue((request, completion));
        _signal.Release();
        return completion.Task;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the compute thread between two decode steps (for example loading a new policy
    /// version into the model); the engine then refreshes what it derives from the weights and, when
    /// <paramref name="newVersion"/> is given, stamps later tokens with it.
    /// </summary>
    public Task RunBetweenStepsAsync(Action<CausalLM> work, long? newVersion = null)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _betweenSteps.Enqueue(() =>
        {
            try
            {
                work(_batcher.Model);
                _batcher.RefreshWeights(newVersion);
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        _signal.Release();
        return done.Task;
    }

    private void Run()
    {
        Runtime.ComputeThreads.Use(Threads);
        while (!_stopping)
        {
            while (_betweenSteps.TryDequeue(out Action? work))
            {
                work();
            }
            while (_incoming.TryDequeue(out var item))
            {
                Forward(_batcher.Enqueue(item.Request), item.Completion);
            }
            if (_batcher.HasWork)
            {
                try
                {
                    _batcher.Step();
                }
                catch (Exception e)
                {
                    _batcher.FailAll(new InvalidOperationException($"generation step failed: {e.Message}", e));
                }
            }
            else
            {
                _batcher.Times.BeginWait();
                _signal.Wait();
                _batcher.Times.EndWait();
            }
        }
    }

    private static void Forward(Task<GenerationResult> inner, TaskCompletionSource<GenerationResult> outer) =>
        inner.ContinueWith(t =>
        {
            if (t.IsFaulted)
            {
                outer.TrySetException(t.Exception!.InnerExceptions);
            }
            else
            {
                outer.TrySetResult(t.Result);
            }
        }, TaskScheduler.Default);

    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }
        _stopping = true;
        _signal.Release();
        _thread.Join();
        _batcher.Dispose();
        while (_incoming.TryDequeue(out var item))
        {
            item.Completion.TrySetException(new ObjectDisposedException(nameof(GenerationEngine)));
        }
        _signal.Dispose();
    }
}
