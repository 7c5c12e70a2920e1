using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using ReMA.Learner.Runtime;
using ReMA.Learner.Tests.Training;
using ReMA.Learner.Training;
using static TorchSharp.torch;

namespace ReMA.Learner.Tests;

/// <summary>Each compute thread's libtorch thread count (<see cref="ComputeThreads"/>).</summary>
public class ComputeThreadsTests
{
    /// <summary>Runs <paramref name="work"/> on a new thread of its own (libtorch keeps the count per thread).</summary>
    private static T OnOwnThread<T>(Func<T> work)
    {
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        thread.Start();
        thread.Join();
        return error is null ? result : throw new InvalidOperationException("work on its own thread failed", error);
    }

    [Fact]
    public void For_GivesSmallModelsOneThread_LargerOnesTheProcessCount_AndAConfiguredCountWins()
    {
        using CausalLM tiny = TestModels.Tiny("nano");
        Assert.True(tiny.ParameterCount() < ComputeThreads.SmallModelParameters);
        Assert.Equal(1, ComputeThreads.For(tiny));
        Assert.Equal(3, ComputeThreads.For(tiny, 3));
        using var larger = new CausalLM(ModelPresets.Get("micro", 64), CPU, ScalarType.Float32, seed: 1);
        Assert.True(larger.ParameterCount() >= ComputeThreads.SmallModelParameters);
        Assert.Equal(ComputeThreads.ProcessDefault, ComputeThreads.For(larger));
        Assert.Equal(ComputeThreads.ProcessDefault, ComputeThreads.For(larger, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ComputeThreads.Use(0));
    }

    [Fact]
    public void Use_SetsTheCallingThreadsCountOnly()
    {
        using var setFirst = new ManualResetEventSlim();
        using var setSecond = new ManualResetEventSlim();
        int firstAfterSecond = 0;
        var first = new Thread(() =>
        {
            ComputeThreads.Use(1);
            setFirst.Set();
            setSecond.Wait();
            firstAfterSecond = get_num_threads();
        });
        first.Start();
        setFirst.Wait();
        int second = OnOwnThread(() =>
        {
            ComputeThreads.Use(2);
            return get_num_threads();
        });
        setSecond.Set();
        first.Join();
        Assert.Equal(2, second);
        Assert.Equal(1, firstAfterSecond);
    }

    [Fact]
    public async Task Engine_RunsItsComputeThreadWithTheChosenCount()
    {
        using CausalLM model = TestModels.Tiny("nano");
        foreach (int? threads in new int?[] { null, 2 })
        {
            using var engine = new GenerationEngine(model, TestModels.Chars, new EngineOptions { MaxBatch = 4, Threads = threads });
            Assert.Equal(threads ?? 1, engine.Threads);
            int observed = 0;
            await engine.RunBetweenStepsAsync(_ => observed = get_num_threads());
            Assert.Equal(threads ?? 1, observed);
        }
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new GenerationEngine(model, TestModels.Chars, new EngineOptions { Threads = 0 }));
        Assert.Contains("threads must be positive or null", error.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(1)]
    public void Updates_RunWithTheirCount_OnTheCallingThread(int? threads)
    {
        int other = (threads ?? ComputeThreads.ProcessDefault) == 1 ? 2 : 1;
        int observed = OnOwnThread(() =>
        {
            ComputeThreads.Use(other);
            using CausalLM model = TestModels.Tiny("nano-qwen2", seed: 4);
            var rows = TrainingFixtures.WithOld(model, TrainingFixtures.MixedRows(model.Config.VocabSize), (i, j) => 0.1f * ((i + j) % 3 - 1));
            using var updater = new PolicyUpdater(model, update: new UpdateOptions { Threads = threads });
            updater.Update(rows.Select(r => new AdvantagedRow(r, Enumerable.Repeat(1f, r.Turns).ToArray())).ToList());
            return get_num_threads();
        });
        Assert.Equal(threads ?? ComputeThreads.ProcessDefault, observed);
        Assert.Contains("threads must be positive or null", Assert.Throws<ArgumentException>(() => new UpdateOptions { Threads = -1 }.Validate()).Message);
    }

    [Fact]
    public void Learners_LeaveTheEngineACore_OnlyWhenRolloutsOverlapASmallModelsUpdates()
    {
        using CausalLM tiny = TestModels.Tiny("nano");
        using var larger = new CausalLM(ModelPresets.Get("micro", 64), CPU, ScalarType.Float32, seed: 1);
        Assert.Equal(ComputeThreads.ProcessDefault, ComputeThreads.ForLearner(tiny, null, besideRollouts: false));
        Assert.Equal(Math.Max(1, ComputeThreads.ProcessDefault - 1), ComputeThreads.ForLearner(tiny, null, besideRollouts: true));
        Assert.Equal(ComputeThreads.ProcessDefault, ComputeThreads.ForLearner(larger, 0, besideRollouts: true));
        Assert.Equal(3, ComputeThreads.ForLearner(tiny, 3, besideRollouts: true));
    }

    [Fact]
    public void Learners_ShareTheCoresAmongThoseUpdatingTogether_WhenTheModelIsSmall()
    {
        using CausalLM tiny = TestModels.Tiny("nano");
        using var larger = new CausalLM(ModelPresets.Get("micro", 64), CPU, ScalarType.Float32, seed: 1);
        int cores = ComputeThreads.ProcessDefault;
        Assert.Equal(Math.Max(1, cores / 2), ComputeThreads.ForLearner(tiny, null, besideRollouts: false, concurrent: 2));
        Assert.Equal(Math.Max(1, (cores - 1) / 2), ComputeThreads.ForLearner(tiny, null, besideRollouts: true, concurrent: 2));
        Assert.Equal(1, ComputeThreads.ForLearner(tiny, null, besideRollouts: false, concurrent: cores + 1));
        Assert.Equal(cores, ComputeThreads.ForLearner(larger, null, besideRollouts: false, concurrent: 2));   // they take turns instead
        Assert.Equal(3, ComputeThreads.ForLearner(tiny, 3, besideRollouts: false, concurrent: 2));
    }

    /// <summary>
    /// Reservations of the process's cores: granted at once while they fit, otherwise in the order asked; one larger
    /// than the process waits until nothing is held; a cancelled wait leaves the queue; zero is granted at once.
    /// </summary>
    [Fact]
    public async Task Reservations_RunSideBySideWhileTheyFit_AndTakeTurnsInOrderWhenNot()
    {
        int cores = ComputeThreads.ProcessDefault;
        Assert.Equal(0, ComputeThreads.Reserved);
        IDisposable all = await ComputeThreads.ReserveAsync(cores);
        Assert.Equal(cores, ComputeThreads.Reserved);
        Task<IDisposable> one = ComputeThreads.ReserveAsync(1);
        Assert.True(ComputeThreads.ReserveAsync(0).IsCompletedSuccessfully);
        using var cancel = new CancellationTokenSource();
        Task<IDisposable> cancelled = ComputeThreads.ReserveAsync(1, cancel.Token);
        Task<IDisposable> oversized = ComputeThreads.ReserveAsync(cores + 5);
        await Task.Delay(50);
        Assert.False(one.IsCompleted);
        Assert.False(cancelled.IsCompleted);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        all.Dispose();
        all.Dispose();   // once only
        IDisposable first = await one.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, ComputeThreads.Reserved);
        await Task.Delay(50);
        Assert.False(oversized.IsCompleted);
        first.Dispose();
        IDisposable big = await oversized.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(cores + 5, ComputeThreads.Reserved);
        big.Dispose();
        Assert.Equal(0, ComputeThreads.Reserved);
        if (cores >= 2)
        {
            using IDisposable a = await ComputeThreads.ReserveAsync(1).WaitAsync(TimeSpan.FromSeconds(10));
            using (IDisposable b = await ComputeThreads.ReserveAsync(1).WaitAsync(TimeSpan.FromSeconds(10)))
            {
                Assert.Equal(2, ComputeThreads.Reserved);
            }
            // A request that would fit waits behind an earlier one that does not; cancelling that one lets it through.
            using var cancelHead = new CancellationTokenSource();
            Task<IDisposable> head = ComputeThreads.ReserveAsync(cores, cancelHead.Token);
            Task<IDisposable> behind = ComputeThreads.ReserveAsync(1);
            await Task.Delay(50);
            Assert.False(head.IsCompleted);
            Assert.False(behind.IsCompleted);
            cancelHead.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => head);
            using IDisposable c = await behind.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(2, ComputeThreads.Reserved);
        }
        Assert.Equal(0, ComputeThreads.Reserved);
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = ComputeThreads.ReserveAsync(-1); });
    }
}
