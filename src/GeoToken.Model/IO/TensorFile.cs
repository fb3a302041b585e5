using System.Buffers.Binary;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace GeoToken.IO;

/// <summary>
/// The container behind model files and checkpoints: a magic string, a format version, a JSON header
/// and raw little-endian tensor data.
/// </summary>
/// <remarks>
/// Layout:
/// <code>
/// bytes 0–7    ASCII "GEOTOKEN"
/// bytes 8–11   uint32 LE format version (1)
/// bytes 12–15  uint32 LE 0 (reserved)
/// bytes 16–23  uint64 LE header length H
/// bytes 24…    H bytes of UTF-8 JSON; its "tensors" array lists {name, dtype, shape, offset, bytes}
/// then         zero padding to a multiple of 64 bytes; the data section starts there
/// data         each tensor's C-contiguous little-endian elements at data start + offset (64-byte aligned)
/// </code>
/// dtypes: <c>float32</c>, <c>float64</c>, <c>int64</c>, <c>uint8</c>. The file ends exactly after the last tensor.
/// The header's <c>dataSha256</c> is the SHA-256 of the data section (from its start to the end of the file, padding
/// included); the first read of tensor data checks it (header-only reads do not), so a changed byte anywhere in the
/// weights is an error naming the file.
/// Files written before the field existed (and by other writers, such as the Python peers) have none and are read
/// unchecked.
/// </remarks>
internal static class TensorFile
{
    public const int FormatVersion = 1;
    public const int Alignment = 64;
    private static readonly byte[] Magic = "GEOTOKEN"u8.ToArray();

    /// <summary>One tensor's entry in the header.</summary>
    public sealed record Entry(string Name, ScalarType DType, long[] Shape, long Offset, long Bytes);

    /// <summary>A parsed header and tensor table.</summary>
    public sealed record Contents(string Path, JsonObject Header, IReadOnlyDictionary<string, Entry> Tensors, long DataStart)
    {
        /// <summary>Whether the data section was checked against <c>dataSha256</c> (by the first <see cref="ReadTensors"/>).</summary>
        public bool DataVerified { get; set; }
    }

    /// <summary>Writes <paramref name="header"/> (a "tensors" array is added) and the tensors, atomically.</summary>
    public static void Write(string path, JsonObject header, IReadOnlyList<(string Name, Tensor Tensor)> tensors)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("GeoToken files are written on little-endian machines only.");
        var cpu = new List<(string Name, Tensor Tensor)>(tensors.Count);
        try
        {
            var table = new JsonArray();
            long offset = 0;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (name, t) in tensors)
            {
                if (!seen.Add(name)) throw new ArgumentException($"Tensor name '{name}' occurs twice.", nameof(tensors));
                var c = t.detach().cpu().contiguous();
                cpu.Add((name, c));
                long bytes = c.numel() * c.ElementSize;
                table.Add(new JsonObject
                {
                    ["name"] = name,
                    ["dtype"] = DTypeName(c.dtype, name),
                    ["shape"] = new JsonArray(c.shape.Select(s => (JsonNode)s).ToArray()),
                    ["offset"] = offset,
                    ["bytes"] = bytes,
                });
                offset = Align(offset + bytes);
            }

            header = (JsonObject)header.DeepClone();
            header["tensors"] = table;
            header["dataSha256"] = DataHash(cpu);
            byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

            AtomicFile.Write(path, stream =>
            {
                Span<byte> prefix = stackalloc byte[24];
                Magic.CopyTo(prefix);
                BinaryPrimitives.WriteUInt32LittleEndian(prefix[8..], FormatVersion);
                BinaryPrimitives.WriteUInt32LittleEndian(prefix[12..], 0);
                BinaryPrimitives.WriteUInt64LittleEndian(prefix[16..], (ulong)json.Length);
                stream.Write(prefix);
                stream.Write(json);
                long dataStart = Align(24 + json.Length);
                Pad(stream, dataStart);
                for (int i = 0; i < cpu.Count; i++)
                {
                    var c = cpu[i].Tensor;
                    if (c.numel() > 0) stream.Write(c.bytes);
                    if (i < cpu.Count - 1) Pad(stream, dataStart + Align(stream.Position - dataStart));
                }
            });
        }
        finally
        {
            foreach (var (_, c) in cpu) c.Dispose();
        }
    }

    /// <summary>Reads and checks the header and tensor table (not the data).</summary>
    /// <exception cref="InvalidDataException">Not a GeoToken file, another format version, or a malformed header; the message names the file.</exception>
    public static Contents ReadHeader(string path)
    {
        if (Directory.Exists(path))
        {
            throw new InvalidDataException($"'{path}' is a folder; a single GeoToken file was expected here (model folders hold config.json + model.safetensors and are read by GeoTokenModelFile).");
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Span<byte> prefix = stackalloc byte[24];
        if (stream.ReadAtLeast(prefix, 24, throwOnEndOfStream: false) < 24 || !prefix[..8].SequenceEqual(Magic))
        {
            throw new InvalidDataException($"'{path}' is not a GeoToken model file (it does not start with \"GEOTOKEN\").");
        }

        uint version = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"'{path}' has GeoToken file format version {version}; this library reads version {FormatVersion}.");
        }

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix[16..]);
        if (headerLength > 64UL << 20 || (long)headerLength > stream.Length - 24)
        {
            throw new InvalidDataException($"'{path}' declares a {headerLength}-byte header but holds {stream.Length} bytes in all; the file is truncated or corrupt.");
        }

        var json = new byte[headerLength];
        stream.ReadExactly(json);
        JsonObject header;
        try
        {
            header = JsonNode.Parse(json)?.AsObject() ?? throw new InvalidDataException($"'{path}' has an empty header.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' has a malformed JSON header: {e.Message}", e);
        }

        long dataStart = Align(24 + (long)headerLength);
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        long end = dataStart;
        try
        {
            foreach (var node in header["tensors"]?.AsArray() ?? throw new InvalidDataException($"'{path}' has no tensor table."))
            {
                var o = node!.AsObject();
                string name = (string?)o["name"] ?? throw new InvalidDataException($"'{path}': a tensor entry has no name.");
                var dtype = ParseDType((string?)o["dtype"], path, name);
                long[] shape = o["shape"]!.AsArray().Select(s => (long)s!).ToArray();
                long offset = (long)o["offset"]!, bytes = (long)o["bytes"]!;
                long expected = shape.Aggregate(1L, (a, s) => a * s) * ElementSize(dtype);
                if (shape.Any(s => s < 0) || bytes != expected || offset < 0)
                {
                    throw new InvalidDataException($"'{path}': tensor '{name}' has shape [{string.Join(", ", shape)}], dtype {o["dtype"]}, offset {offset} and {bytes} bytes, which do not agree.");
                }

                if (!entries.TryAdd(name, new Entry(name, dtype, shape, offset, bytes)))
                {
                    throw new InvalidDataException($"'{path}': tensor '{name}' is listed twice.");
                }

                end = Math.Max(end, dataStart + offset + bytes);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new InvalidDataException($"'{path}' has a malformed tensor table: {e.Message}", e);
        }

        if (stream.Length < end)
        {
            throw new InvalidDataException($"'{path}' holds {stream.Length} bytes but its tensors need {end}; the file is truncated.");
        }

        return new Contents(path, header, entries, dataStart);
    }

    /// <summary>
    /// Checks the data section against the header's <c>dataSha256</c> (once per <paramref name="contents"/>; files
    /// without the field are not checked). Header-only reads (options, a checkpoint's record) never pay for it.
    /// </summary>
    /// <exception cref="InvalidDataException">The data's SHA-256 differs from the recorded one; the message names the file.</exception>
    private static void VerifyData(Contents contents, FileStream stream)
    {
        if (contents.DataVerified || contents.Header["dataSha256"] is not { } recorded) return;
        string want = (string?)recorded ?? "";
        stream.Position = contents.DataStart;
        string got = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
        if (!string.Equals(want, got, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"'{contents.Path}': the tensor data's SHA-256 is {got} but the header records {want}; the file was changed or damaged after it was written.");
        }

        contents.DataVerified = true;
    }

    /// <summary>The SHA-256 of the data section as <see cref="Write"/> lays it out (each tensor, zero padding between).</summary>
    private static string DataHash(List<(string Name, Tensor Tensor)> cpu)
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        long position = 0;
        var zeros = new byte[Alignment];
        for (int i = 0; i < cpu.Count; i++)
        {
            var c = cpu[i].Tensor;
            if (c.numel() > 0) sha.AppendData(c.bytes);
            position += c.numel() * c.ElementSize;
            if (i < cpu.Count - 1)
            {
                int pad = (int)(Align(position) - position);
                sha.AppendData(zeros, 0, pad);
                position += pad;
            }
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>Reads the named tensors' data into new CPU tensors (the caller owns them).</summary>
    public static Dictionary<string, Tensor> ReadTensors(Contents contents, IEnumerable<string> names)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var stream = new FileStream(contents.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        VerifyData(contents, stream);
        try
        {
            foreach (var name in names)
            {
                var e = contents.Tensors[name];
                var t = empty(e.Shape, e.DType, CPU);
                result.Add(name, t);
                if (e.Bytes == 0) continue;
                stream.Position = contents.DataStart + e.Offset;
                stream.ReadExactly(t.bytes);
            }
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }

        return result;
    }

    /// <summary>
    /// Copies the tensors named <paramref name="prefix"/> + state-dict key into <paramref name="module"/>'s state,
    /// after checking that the file holds exactly the module's tensors under that prefix, with the same types and
    /// shapes. Tensors under other prefixes (e.g. a checkpoint's optimizer state) are allowed only when
    /// <paramref name="otherTensorsAllowed"/> is set.
    /// </summary>
    /// <param name="contents">The file's header and tensor directory.</param>
    /// <param name="module">The module to fill.</param>
    /// <param name="prefix">The name prefix of the module's tensors in the file.</param>
    /// <param name="what">What the file must fit, for messages (e.g. "the model").</param>
    /// <param name="otherTensorsAllowed">Whether tensors outside <paramref name="prefix"/> may be present.</param>
    /// <exception cref="InvalidDataException">The file's tensors do not fit the module (the message lists the differences), or a weight is NaN or infinite (the message names it).</exception>
    public static void LoadState(Contents contents, nn.Module module, string prefix, string what, bool otherTensorsAllowed = false)
    {
        var state = module.state_dict();
        var inFile = contents.Tensors.Keys.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Select(n => n[prefix.Length..]).ToHashSet(StringComparer.Ordinal);
        var missing = state.Keys.Where(k => !inFile.Contains(k)).ToList();
        var unexpected = inFile.Where(k => !state.ContainsKey(k)).Select(k => prefix + k).ToList();
        if (!otherTensorsAllowed) unexpected.AddRange(contents.Tensors.Keys.Where(n => !n.StartsWith(prefix, StringComparison.Ordinal)));
        var problems = new List<string>();
        if (missing.Count > 0) problems.Add($"missing weights: {TensorChecks.ListNames(missing)}");
        if (unexpected.Count > 0) problems.Add($"unexpected weights: {TensorChecks.ListNames(unexpected)}");
        foreach (var (name, t) in state)
        {
            if (!contents.Tensors.TryGetValue(prefix + name, out var e)) continue;
            if (e.DType != t.dtype || !e.Shape.SequenceEqual(t.shape))
            {
                problems.Add($"'{name}' is {e.DType} [{string.Join(", ", e.Shape)}] in the file but {t.dtype} [{string.Join(", ", t.shape)}] in the model");
            }
        }

        if (problems.Count > 0) throw new InvalidDataException($"'{contents.Path}' does not fit {what}: {string.Join("; ", problems)}.");
        var loaded = ReadTensors(contents, state.Keys.Select(k => prefix + k));
        try
        {
            foreach (var (name, t) in loaded) TensorChecks.RequireFinite(t, contents.Path, name);
            using var noGrad = no_grad();
            foreach (var (name, t) in state) t.copy_(loaded[prefix + name]);
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
    }

    /// <summary>The <c>producer</c> a GeoToken.Model file's header records: the assembly and its informational version.</summary>
    internal static string Producer =>
        "GeoToken.Model " + (typeof(TensorFile).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?");

    /// <summary>Reads the header (<see cref="ReadHeader(string)"/>) of a file that must be of <paramref name="kind"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="kind">The header's expected <c>kind</c>.</param>
    /// <param name="what">What the file must be, for the message (e.g. "reward head").</param>
    /// <exception cref="InvalidDataException">As <see cref="ReadHeader(string)"/>, or the file is of another kind.</exception>
    internal static Contents ReadHeader(string path, string kind, string what)
    {
        var contents = ReadHeader(path);
        if ((string?)contents.Header["kind"] != kind)
        {
            throw new InvalidDataException($"'{path}' is a GeoToken file of kind '{contents.Header["kind"]}', not a {what} ('{kind}').");
        }

        return contents;
    }

    /// <summary>
    /// Fills <paramref name="module"/> from the file (<see cref="LoadState"/>), moves it to <paramref name="device"/> (kept
    /// where it is when null) and puts it in evaluation mode; disposes it if any of that fails.
    /// </summary>
    internal static T LoadModule<T>(Contents contents, T module, string prefix, string what, Device? device) where T : nn.Module
    {
        try
        {
            LoadState(contents, module, prefix, what);
            if (device is not null) module.to(device);
            module.eval();
            return module;
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    private static long Align(long n) => (n + Alignment - 1) / Alignment * Alignment;

    private static void Pad(Stream stream, long target)
    {
        long n = target - stream.Position;
        if (n > 0) stream.Write(new byte[n]);
    }

    private static string DTypeName(ScalarType t, string name) => t switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float64 => "float64",
        ScalarType.Int64 => "int64",
        ScalarType.Byte => "uint8",
        _ => throw new ArgumentException($"Tensor '{name}' has element type {t}, which GeoToken files do not store."),
    };

    private static ScalarType ParseDType(string? s, string path, string name) => s switch
    {
        "float32" => ScalarType.Float32,
        "float64" => ScalarType.Float64,
        "int64" => ScalarType.Int64,
        "uint8" => ScalarType.Byte,
        _ => throw new InvalidDataException($"'{path}': tensor '{name}' has unknown dtype '{s}'."),
    };

    private static int ElementSize(ScalarType t) => t switch
    {
        ScalarType.Float32 => 4,
        ScalarType.Float64 => 8,
        ScalarType.Int64 => 8,
        _ => 1,
    };
}
