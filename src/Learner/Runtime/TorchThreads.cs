using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ReMA.Learner.Runtime;

/// <summary>
/// Runs C# kernels on libtorch's own OpenMP worker threads. libtorch's intra-op parallelism is an OpenMP team whose
/// workers spin for a while after every torch call; .NET threads started next to it compete with those spinning workers
/// for the same cores (measured: docs/benchmarks.md). Starting the parallel region through <c>GOMP_parallel</c> of the
/// libgomp that libtorch loaded instead puts the C# work on those very workers, the way a torch operator's own
/// parallel loop does. The runtime is found among the process's mapped files (Linux); where it is not (another
/// platform, a libtorch built with another OpenMP), <see cref="Available"/> is false and callers keep their torch path.
/// The callback is entered on OpenMP threads, which .NET attaches on first use; it must not throw across the native
/// frame, so exceptions are caught there and rethrown on the calling thread.
/// </summary>
public static unsafe class TorchThreads
{
    /// <summary>Work split into parts; <see cref="Run"/> is called once per OpenMP thread with that thread's index.</summary>
    public abstract class Body
    {
        /// <summary>Runs part <paramref name="part"/> of <paramref name="parts"/> (0-based; parts is the team's real size).</summary>
        public abstract void Run(int part, int parts);

        internal Exception? Error;
    }

    private static readonly delegate* unmanaged<delegate* unmanaged<nint, void>, nint, uint, uint, void> Parallel;
    private static readonly delegate* unmanaged<int> ThreadNumber;
    private static readonly delegate* unmanaged<int> TeamSize;

    static TorchThreads()
    {
        // torch must be loaded (its libgomp mapped) before the first look-up.
        _ = TorchSharp.torch.get_num_threads();
        string? path = MappedOpenMpRuntime();
        if (path is null || !NativeLibrary.TryLoad(path, out nint handle))
        {
            UnavailableReason = "libtorch's OpenMP runtime (libgomp) is not mapped in this process";
            return;
        }
        if (!NativeLibrary.TryGetExport(handle, "GOMP_parallel", out nint parallel)
            || !NativeLibrary.TryGetExport(handle, "omp_get_thread_num", out nint threadNumber)
            || !NativeLibrary.TryGetExport(handle, "omp_get_num_threads", out nint teamSize))
        {
            UnavailableReason = $"{path} lacks GOMP_parallel, omp_get_thread_num or omp_get_num_threads";
            return;
        }
        Parallel = (delegate* unmanaged<delegate* unmanaged<nint, void>, nint, uint, uint, void>)parallel;
        ThreadNumber = (delegate* unmanaged<int>)threadNumber;
        TeamSize = (delegate* unmanaged<int>)teamSize;
        RuntimePath = path;
    }

    /// <summary>True when C# work can run on libtorch's OpenMP threads in this process.</summary>
    public static bool Available => Parallel != null;

    /// <summary>Why <see cref="Available"/> is false (null when it is true).</summary>
    public static string? UnavailableReason { get; }

    /// <summary>The libgomp file in use (null when unavailable).</summary>
    public static string? RuntimePath { get; }

    /// <summary>
    /// Runs <paramref name="body"/> on a team of <paramref name="threads"/> OpenMP threads (the caller is thread 0) and
    /// returns when every part is done. Exceptions thrown by a part are rethrown here (the first one).
    /// </summary>
    public static void Run(Body body, int threads)
    {
        if (!Available)
        {
            throw new InvalidOperationException($"C# kernels on libtorch's threads are unavailable: {UnavailableReason}.");
        }
        body.Error = null;
        GCHandle handle = GCHandle.Alloc(body);
        try
        {
            Parallel(&Enter, GCHandle.ToIntPtr(handle), (uint)Math.Max(1, threads), 0);
        }
        finally
        {
            handle.Free();
        }
        if (body.Error is Exception error)
        {
            body.Error = null;
            ExceptionDispatchInfoThrow(error);
        }
    }

    [UnmanagedCallersOnly]
    private static void Enter(nint state)
    {
        var body = (Body)GCHandle.FromIntPtr(state).Target!;
        try
        {
            body.Run(ThreadNumber(), TeamSize());
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref body.Error, e, null);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ExceptionDispatchInfoThrow(Exception e) =>
        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e).Throw();

    /// <summary>
    /// The path of the libgomp libtorch uses: among the libgomp files mapped in this process, the one in the folder of
    /// libtorch_cpu (libtorch ships its own copy, with a hash in its name), else the first one; null when none is mapped.
    /// </summary>
    private static string? MappedOpenMpRuntime()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        var runtimes = new List<string>();
        string? torchFolder = null;
        try
        {
            foreach (string line in File.ReadLines("/proc/self/maps"))
            {
                int slash = line.IndexOf('/');
                if (slash < 0)
                {
                    continue;
                }
                string path = line[slash..];
                string name = Path.GetFileName(path);
                if (name.StartsWith("libgomp", StringComparison.Ordinal) && !runtimes.Contains(path))
                {
                    runtimes.Add(path);
                }
                else if (name.StartsWith("libtorch_cpu", StringComparison.Ordinal))
                {
                    torchFolder = Path.GetDirectoryName(path);
                }
            }
        }
        catch (IOException)
        {
        }
        return runtimes.FirstOrDefault(r => Path.GetDirectoryName(r) == torchFolder) ?? runtimes.FirstOrDefault();
    }
}
