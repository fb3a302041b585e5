using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;

namespace GeoToken.Tests.Geometry.S2Reference;

/// <summary>
/// Google's C++ S2 (Debian <c>libs2-dev</c>) as an oracle: compiles <c>s2ref.cc</c> once per
/// source version (cached beside the test assembly) and streams binary questions through it.
/// The test command (<c>./run.sh test</c>) installs libs2-dev and g++; without them these tests fail.
/// </summary>
internal static class S2Reference
{
    private static readonly Lazy<string> Executable = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Path => Executable.Value;

    private static string Build()
    {
        string source = System.IO.Path.Combine(AppContext.BaseDirectory, "Geometry", "S2Reference", "s2ref.cc");
        string hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(source)))[..16];
        string dir = System.IO.Path.Combine(AppContext.BaseDirectory, "s2ref-bin");
        string exe = System.IO.Path.Combine(dir, "s2ref-" + hash);
        if (File.Exists(exe)) return exe;
        Directory.CreateDirectory(dir);
        string tmp = exe + "." + Environment.ProcessId + ".tmp";
        var psi = new ProcessStartInfo("g++", ["-O2", "-std=c++17", source, "-ls2", "-o", tmp])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("g++ is needed to build the libs2 reference program; run eng/setup.sh --test-deps.", e);
        }

        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"Building the libs2 reference program failed (is libs2-dev installed? run eng/setup.sh --test-deps):\n{err}");
        }

        File.Move(tmp, exe, overwrite: true);
        return exe;
    }

    /// <summary>Sends <paramref name="count"/> records and streams the answer to <paramref name="consume"/>.</summary>
    public static void Run(char mode, long count, Action<Stream> writeRecords, Action<Stream> consume)
    {
        var psi = new ProcessStartInfo(Path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var errTask = p.StandardError.ReadToEndAsync();
        var writer = Task.Run(() =>
        {
            using var input = new BufferedStream(p.StandardInput.BaseStream, 1 << 20);
            Span<byte> header = stackalloc byte[9];
            header[0] = (byte)mode;
            BinaryPrimitives.WriteInt64LittleEndian(header[1..], count);
            input.Write(header);
            writeRecords(input);
        });
        using (var output = new BufferedStream(p.StandardOutput.BaseStream, 1 << 20))
        {
            consume(output);
        }

        writer.GetAwaiter().GetResult();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"s2ref exited with {p.ExitCode}: {errTask.Result}");
    }

    public static void Write(this Stream s, double v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(b, v);
        s.Write(b);
    }

    public static void Write(this Stream s, ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        s.Write(b);
    }

    public static double ReadDouble(this Stream s)
    {
        Span<byte> b = stackalloc byte[8];
        s.ReadExactly(b);
        return BinaryPrimitives.ReadDoubleLittleEndian(b);
    }

    public static ulong ReadUInt64(this Stream s)
    {
        Span<byte> b = stackalloc byte[8];
        s.ReadExactly(b);
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }

    public static int ReadInt32(this Stream s)
    {
        Span<byte> b = stackalloc byte[4];
        s.ReadExactly(b);
        return BinaryPrimitives.ReadInt32LittleEndian(b);
    }
}
