namespace ReMA.Learner.Tokenization;

/// <summary>
/// GPT-2's reversible byte-to-character map used by byte-level BPE vocabularies: printable bytes map to themselves,
/// the rest to code points from 256 upward (so a space appears as 'Ġ').
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = Build();
    private static readonly Dictionary<char, byte> CharToByte =
        ByteToChar.Select((c, b) => (c, b)).ToDictionary(p => p.c, p => (byte)p.b);

    private static char[] Build()
    {
        var map = new char[256];
        bool Printable(int b) => (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            map[b] = Printable(b) ? (char)b : (char)next++;
        }
        return map;
    }

    public static char ToChar(byte b) => ByteToChar[b];

    /// <summary>Vocabulary string to the bytes it stands for.</summary>
    public static byte[] ToBytes(string token)
    {
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            if (!CharToByte.TryGetValue(token[i], out bytes[i]))
            {
                throw new InvalidDataException($"vocabulary token '{token}' holds '{token[i]}', which is not a byte-level character.");
            }
        }
        return bytes;
    }

    /// <summary>Text to its byte-level vocabulary spelling (used to build vocabularies in tools and tests).</summary>
    public static string Spell(string text) => new(System.Text.Encoding.UTF8.GetBytes(text).Select(ToChar).ToArray());
}
