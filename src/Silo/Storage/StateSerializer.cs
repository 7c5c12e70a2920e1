using Orleans.Serialization;
using Orleans.Storage;

namespace ReMA.Silo.Storage;

/// <summary>
/// How the cluster's Azure providers write grain state: Orleans' own binary serialiser (the one the state types are
/// annotated for with <c>[GenerateSerializer]</c> and <c>[Id]</c>), behind a 4-byte marker.
/// </summary>
/// <remarks>
/// Orleans' default storage serialiser (System.Text.Json with its grain-storage options) does not round-trip these
/// types: it omits members equal to their type's default (false, 0, null), so a member whose initialiser is not the
/// default reads back as the initialiser (<c>sft.enabled: false</c> became true, a learner's <c>LastStep = 0</c> became -1),
/// and it fills collections that already hold their initialiser's items (<c>eval.sets: [test]</c> read back as
/// <c>[test, ood-operands, test]</c>). Every failover of a campaign's silo changed its configuration that way.
/// Payloads without the marker were written by that serialiser (clusters from before this change) and are still
/// read with it, so nothing already stored becomes unreadable; they are rewritten in the new format on their next write.
/// </remarks>
public sealed class StateSerializer(Serializer serializer, IGrainStorageSerializer legacyJson) : IGrainStorageSerializer
{
    private static readonly byte[] Marker = [0, (byte)'R', (byte)'S', 1];

    private readonly OrleansGrainStorageSerializer _binary = new(serializer);

    public BinaryData Serialize<T>(T? input)
    {
        ReadOnlyMemory<byte> body = _binary.Serialize(input).ToMemory();
        var bytes = new byte[Marker.Length + body.Length];
        Marker.CopyTo(bytes, 0);
        body.Span.CopyTo(bytes.AsSpan(Marker.Length));
        return new BinaryData(bytes);
    }

    public T? Deserialize<T>(BinaryData input)
    {
        ReadOnlyMemory<byte> bytes = input.ToMemory();
        return IsBinary(bytes.Span)
            ? _binary.Deserialize<T>(new BinaryData(bytes[Marker.Length..]))
            : legacyJson.Deserialize<T>(input);
    }

    /// <summary>Whether a stored payload is in this serialiser's format (the legacy JSON starts with a brace or a space).</summary>
    public static bool IsBinary(ReadOnlySpan<byte> payload) => payload.StartsWith(Marker);
}
