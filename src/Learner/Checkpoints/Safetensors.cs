using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace ReMA.Learner.Checkpoints;

/// <summary>Header entry of one tensor in a .safetensors file.</summary>
public sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End);

/// <summary>
/// Reader and writer for the safetensors format: an 8-byte little-endian header length, a JSON header mapping names to
/// dtype, shape and byte offsets, then the raw little-endian data. Every malformed input is reported with the file name.
/// </summary>
public static class Safetensors
{
    private const long MaxHeaderBytes = 100L * 1024 * 1024;

    public static IReadOnlyDictionary<string, SafetensorsEntry> ReadHeader(string path, out long dataStart)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: safetensors file not found.", path);
        }
        using FileStream stream = File.OpenRead(path);
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.Read(lengthBytes) != 8)
        {
            throw new InvalidDataException($"{path}: corrupt safetensors file (shorter than the 8-byte header length).");
        }
        long headerLength = BitConverter.ToInt64(lengthBytes);
        if (headerLength <= 1 || headerLength > MaxHeaderBytes || headerLength > stream.Length - 8)
        {
            throw new InvalidDataException($"{path}: corrupt safetensors file (header length {headerLength} does not fit a file of {stream.Length} bytes).");
        }
        byte[] header = new byte[headerLength];
        stream.ReadExactly(header);
        dataStart = 8 + headerLength;
        long dataLength = stream.Length - dataStart;

        JsonObject obj;
        try
        {
            obj = JsonNode.Parse(header)?.AsObject() ?? throw new InvalidDataException("empty header");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or InvalidDataException)
        {
            throw new InvalidDataException($"{path}: corrupt safetensors file (header is not a JSON object: {e.Message}).", e);
        }
        var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
        foreach ((string name, JsonNode? node) in obj)
        {
            if (name == "__metadata__")
            {
                continue;
            }
            try
            {
                string dtype = node!["dtype"]!.GetValue<string>();
                long[] shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
                JsonArray offsets = node["data_offsets"]!.AsArray();
                long begin = offsets[0]!.GetValue<long>(), end = offsets[1]!.GetValue<long>();
                long expected = shape.Aggregate(1L, (a, d) => a * d) * ElementSize(dtype, path, name);
                if (begin < 0 || end < begin || end > dataLength || end - begin != expected)
                {
                    throw new InvalidDataException($"{path}: corrupt safetensors file (tensor '{name}' has data_offsets [{begin}, {end}] but needs {expected} bytes within {dataLength}).");
                }
                entries[name] = new SafetensorsEntry(name, dtype, shape, begin, end);
            }
            catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                throw new InvalidDataException($"{path}: corrupt safetensors file (entry '{name}' lacks a valid dtype, shape or data_offsets).", e);
            }
        }
        return entries;
    }

    /// <summary>Reads one tensor onto the CPU in the file's dtype.</summary>
    public static Tensor ReadTensor(string path, SafetensorsEntry entry, long dataStart)
    {
        using FileStream stream = File.OpenRead(path);
        stream.Position = dataStart + entry.Begin;
        byte[] bytes = new byte[entry.End - entry.Begin];
        stream.ReadExactly(bytes);
        Tensor tensor = empty(entry.Shape, dtype: ToScalarType(entry.DType, path, entry.Name));
        if (bytes.Length > 0)
        {
            tensor.bytes = bytes;
        }
        return tensor;
    }

    /// <summary>Writes tensors (any device, any supported dtype) to <paramref name="path"/> atomically (temp file + rename).</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var ordered = tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var header = new JsonObject();
        var meta = new JsonObject { ["format"] = "pt" };
        foreach ((string k, string v) in metadata ?? new Dictionary<string, string>())
        {
            meta[k] = v;
        }
        header["__metadata__"] = meta;
        long offset = 0;
        var blobs = new List<byte[]>(ordered.Count);
        foreach ((string name, Tensor tensor) in ordered)
        {
            using Tensor cpu = tensor.detach().cpu().contiguous();
            byte[] data = cpu.NumberOfElements == 0 ? [] : cpu.bytes.ToArray();
            blobs.Add(data);
            header[name] = new JsonObject
            {
                ["dtype"] = ToSafetensorsDType(cpu.dtype),
                ["shape"] = new JsonArray(cpu.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + data.Length),
            };
            offset += data.Length;
        }
        byte[] headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (headerBytes.Length + 7) / 8 * 8;
        string temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        using (FileStream stream = File.Create(temp))
        {
            stream.Write(BitConverter.GetBytes((long)padded));
            stream.Write(headerBytes);
            for (int i = headerBytes.Length; i < padded; i++)
            {
                stream.WriteByte((byte)' ');
            }
            foreach (byte[] blob in blobs)
            {
                stream.Write(blob);
            }
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    private static long ElementSize(string dtype, string path, string name) => dtype switch
    {
        "F64" or "I64" => 8,
        "F32" or "I32" => 4,
        "BF16" or "F16" or "I16" => 2,
        "U8" or "I8" or "BOOL" => 1,
        _ => throw new InvalidDataException($"{path}: tensor '{name}' has dtype '{dtype}', which is not supported (expected F32, BF16, F16, F64, I64, I32, I16, I8, U8 or BOOL)."),
    };

    private static ScalarType ToScalarType(string dtype, string path, string name) => dtype switch
    {
        "F64" => ScalarType.Float64,
        "F32" => ScalarType.Float32,
        "BF16" => ScalarType.BFloat16,
        "F16" => ScalarType.Float16,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw new InvalidDataException($"{path}: tensor '{name}' has unsupported dtype '{dtype}'."),
    };

    private static string ToSafetensorsDType(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 => "F64",
        ScalarType.Float32 => "F32",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Float16 => "F16",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new ArgumentException($"dtype {dtype} cannot be written to safetensors."),
    };
}
