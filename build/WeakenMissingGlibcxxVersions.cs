#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

// MSBuild inline task (RoslynCodeTaskFactory). Sets VER_FLG_WEAK on every GLIBCXX_* version need of an
// ELF64 little-endian shared object that the system libstdc++.so.6 does not define.
public class WeakenMissingGlibcxxVersions : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        string? systemLib = FindSystemLibstdcxx();
        if (systemLib == null)
        {
            Log.LogMessage(MessageImportance.Low, "No system libstdc++.so.6 found; TorchSharp native library left unchanged.");
            return true;
        }
        string systemText = Encoding.ASCII.GetString(File.ReadAllBytes(systemLib));
        foreach (ITaskItem item in Files)
        {
            string path = item.GetMetadata("FullPath");
            byte[] elf = File.ReadAllBytes(path);
            List<string> weakened;
            try
            {
                weakened = WeakenMissing(elf, name => !systemText.Contains(name + "\0"));
            }
            catch (Exception e)
            {
                Log.LogError($"{path}: cannot read ELF version needs ({e.Message}); expected an ELF64 little-endian shared object.");
                return false;
            }
            if (weakened.Count > 0)
            {
                File.WriteAllBytes(path, elf);
                Log.LogMessage(MessageImportance.High,
                    $"ReMA: {systemLib} lacks {string.Join(", ", weakened)}; marked those version needs weak in {path}");
            }
        }
        return true;
    }

    private static string? FindSystemLibstdcxx()
    {
        string[] candidates =
        {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6",
            "/usr/lib/libstdc++.so.6",
        };
        return candidates.FirstOrDefault(File.Exists);
    }

    /// <summary>Returns the version names that were (or already are) newly flagged weak.</summary>
    private static List<string> WeakenMissing(byte[] elf, Func<string, bool> isMissing)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        {
            throw new InvalidDataException("not an ELF file");
        }
        if (elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException("not ELF64 little-endian");
        }
        ulong shoff = BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        var changed = new List<string>();
        for (int i = 0; i < shnum; i++)
        {
            int sh = checked((int)shoff + i * shentsize);
            if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed)
            {
                continue;
            }
            int offset = checked((int)BitConverter.ToUInt64(elf, sh + 0x18));
            int link = (int)BitConverter.ToUInt32(elf, sh + 0x28);
            int count = (int)BitConverter.ToUInt32(elf, sh + 0x2C);
            int strtab = checked((int)BitConverter.ToUInt64(elf, checked((int)shoff + link * shentsize) + 0x18));
            int need = offset;
            for (int n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, need + 2);
                int aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    string name = ReadCString(elf, strtab + (int)BitConverter.ToUInt32(elf, aux + 8));
                    ushort flags = BitConverter.ToUInt16(elf, aux + 4);
                    if (name.StartsWith("GLIBCXX_", StringComparison.Ordinal) && (flags & VerFlgWeak) == 0 && isMissing(name))
                    {
                        BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(elf, aux + 4);
                        changed.Add(name);
                    }
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                need += (int)BitConverter.ToUInt32(elf, need + 12);
            }
        }
        return changed;
    }

    private static string ReadCString(byte[] data, int start)
    {
        int end = Array.IndexOf(data, (byte)0, start);
        return Encoding.ASCII.GetString(data, start, end - start);
    }
}
