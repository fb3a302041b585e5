using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace GeoToken.IO;

/// <summary>
/// Reads and writes the safetensors format (Hugging Face's weight files: no code execution, plain
/// little-endian data after a JSON directory).
/// </summary>
/// <remarks>
/// <para>Layout:</para>
/// <code>
/// bytes 0–7   uint64 LE header length N (at most <see cref="MaxHeaderLength"/>)
/// bytes 8…    N bytes of UTF-8 JSON, an object starting with '{' (trailing spaces pad it):
///             "__metadata__": {string: string} (optional), then per tensor
///             "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}
/// then        the data section: every tensor's C-order little-endian elements at [begin, end)
/// </code>
/// <para>
/// Element types: <c>F64</c>, <c>F32</c>, <c>F16</c>, <c>BF16</c>, <c>I64</c>, <c>I32</c>, <c>I16</c>,
/// <c>I8</c>, <c>U8</c>, <c>BOOL</c>. The reader is strict: the header length is bounded before anything
/// is allocated, names are unique and non-empty, entries have exactly the three fields, a tensor's bytes
/// are its element count × item size, the tensors tile the data section from 0 to its end without gap or
/// overlap, the file ends there, and <c>BOOL</c> bytes are 0 or 1. Every error is an
/// <see cref="InvalidDataException"/> naming the file and, where one is at fault, the tensor.
/// </para>
/// <para>
/// The writer lays tensors out in the order given, writes <c>__metadata__</c> first, pads the header with
/// spaces to a multiple of 8 bytes (so the data section is 8-byte aligned) and writes atomically
/// (<see cref="AtomicFile"/>): the same tensors always give the same bytes.
/// </para>
/// </remarks>
public static class SafeTensorsFile
{
    /// <summary>The largest header this reader accepts (100 MB, the reference implementation's limit).</summary>
    public const long MaxHeaderLength = 100_000_000;

    private const string MetadataKey = "__metadata__";
    private const int ChunkBytes = 1 << 24;

    private static readonly (string Name, ScalarType Type, int Size)[] DTypes =
    [
        ("F64", ScalarType.Float64, 8), ("F32", ScalarType.Float32, 4), ("F16", ScalarType.Float16, 2), ("BF16", ScalarType.BFloat16, 2),
        ("I64", ScalarType.Int64, 8), ("I32", ScalarType.Int32, 4), ("I16", ScalarType.Int16, 2), ("I8", ScalarType.Int8, 1),
        ("U8", ScalarType.Byte, 1), ("BOOL", ScalarType.Bool, 1),
    ];

    /// <summary>Reads and checks the header of <paramref name="path"/> (not the data).</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed safetensors file; the message names the file and the tensor at fault.</exception>
    public static SafeTensorsHeader ReadHeader(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = OpenRead(path);
        return ReadHeader(stream, path, null);
    }

    /// <summary>
    /// Reads every tensor of <paramref name="path"/> into new CPU tensors, streaming each tensor's bytes
    /// straight into its storage (the file is read once, front to back).
    /// </summary>
    /// <param name="path">The safetensors file.</param>
    /// <param name="expectedSha256">When set, the SHA-256 (hex) the file's bytes must have; it is computed while reading.</param>
    /// <param name="cancellationToken">Cancels between chunks.</param>
    /// <returns>The tensors in header order; the caller owns (disposes) the dictionary.</returns>
    /// <exception cref="InvalidDataException">The file is malformed, or its bytes do not have <paramref name="expectedSha256"/>; the message names the file (and the tensor at fault).</exception>
    public static StateDict Read(string path, string? expectedSha256 = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = OpenRead(path);
        return Read(stream, path, expectedSha256, cancellationToken);
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> (in the order given) and <paramref name="metadata"/> to
    /// <paramref name="path"/>, atomically, and returns the SHA-256 of the bytes written.
    /// </summary>
    /// <param name="path">The file to write (replaced if present).</param>
    /// <param name="tensors">Named tensors on any device; they are copied to the CPU as contiguous arrays.</param>
    /// <param name="metadata">The <c>__metadata__</c> string map; null or empty for none.</param>
    /// <param name="cancellationToken">Cancels between tensors (the target is then left untouched).</param>
    /// <returns>The file's SHA-256, lower-case hex.</returns>
    /// <exception cref="ArgumentException">A name is empty, repeated or <c>__metadata__</c>, or a tensor has an element type safetensors files here do not hold.</exception>
    public static string Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        RequireLittleEndian();
        var cpu = new List<(string Name, Tensor Tensor, long Bytes)>();
        try
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (name, tensor) in tensors)
            {
                ArgumentNullException.ThrowIfNull(tensor, name);
                if (string.IsNullOrEmpty(name) || name == MetadataKey || !seen.Add(name))
                {
                    throw new ArgumentException($"Tensor name '{name}' is empty, reserved or repeated; safetensors names are unique.", nameof(tensors));
                }

                var c = tensor.detach().cpu().contiguous();
                cpu.Add((name, c, c.numel() * c.ElementSize));
                _ = DTypeName(c.dtype, name);
            }

            byte[] header = Header(cpu.Select(c => (c.Name, c.Tensor, c.Bytes)), metadata);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            AtomicFile.Write(path, stream =>
            {
                Span<byte> prefix = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
                Emit(stream, hash, prefix);
                Emit(stream, hash, header);
                foreach (var (_, t, _) in cpu)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    WriteData(stream, hash, t);
                }
            });
            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        finally
        {
            foreach (var (_, t, _) in cpu) t.Dispose();
        }
    }

    /// <summary>The SHA-256 of a file's bytes, lower-case hex.</summary>
    public static string Sha256(string path)
    {
        using var stream = OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Parses a safetensors stream (header and data); errors name <paramref name="source"/>.</summary>
    internal static StateDict Read(Stream stream, string source, string? expectedSha256, CancellationToken cancellationToken)
    {
        RequireLittleEndian();
        using var hash = expectedSha256 is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        SafeTensorsHeader header;
        try
        {
            header = ReadHeader(stream, source, hash);
        }
        catch (InvalidDataException e) when (expectedSha256 is not null && !HashMatches(stream, expectedSha256))
        {
            throw ChecksumMismatch(source, expectedSha256!, e);
        }

        var result = new StateDict(source);
        var tensors = new Tensor?[header.Tensors.Count];
        try
        {
            // The tensors tile the data section, so reading them by offset reads the file front to back.
            foreach (int i in Enumerable.Range(0, header.Tensors.Count).OrderBy(i => header.Tensors[i].Begin))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var e = header.Tensors[i];
                tensors[i] = ReadData(stream, hash, e, source);
            }

            if (hash is not null && !Convert.ToHexStringLower(hash.GetHashAndReset()).Equals(expectedSha256, StringComparison.OrdinalIgnoreCase))
            {
                throw ChecksumMismatch(source, expectedSha256!, null);
            }

            for (int i = 0; i < tensors.Length; i++)
            {
                result.Add(header.Tensors[i].Name, tensors[i]!);
                tensors[i] = null;
            }

            return result;
        }
        catch
        {
            foreach (var t in tensors) t?.Dispose();
            result.Dispose();
            throw;
        }
    }

    /// <summary>Reads and checks the header from the start of <paramref name="stream"/>, leaving it at the data section.</summary>
    internal static SafeTensorsHeader ReadHeader(Stream stream, string source, IncrementalHash? hash)
    {
        long fileLength = stream.Length;
        Span<byte> prefix = stackalloc byte[8];
        if (fileLength < 8 || stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
        {
            throw new InvalidDataException($"'{source}' holds {fileLength} bytes; a safetensors file starts with an 8-byte header length.");
        }

        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderLength)
        {
            throw new InvalidDataException($"'{source}' declares a {n}-byte header; at most {MaxHeaderLength} bytes are accepted (is it a safetensors file?).");
        }

        if ((long)n > fileLength - 8)
        {
            throw new InvalidDataException($"'{source}' declares a {n}-byte header but holds {fileLength} bytes in all; the file is truncated or not a safetensors file.");
        }

        var json = new byte[n];
        stream.ReadExactly(json);
        hash?.AppendData(prefix);
        hash?.AppendData(json);
        long dataStart = 8 + (long)n;
        var parsed = Parse(json, fileLength - dataStart, source);
        return parsed with { DataStart = dataStart };
    }

    /// <summary>Parses and checks header JSON against a data section of <paramref name="dataLength"/> bytes.</summary>
    internal static SafeTensorsHeader Parse(ReadOnlyMemory<byte> json, long dataLength, string source)
    {
        if (json.Length == 0 || json.Span[0] != (byte)'{')
        {
            throw new InvalidDataException($"'{source}' has a header that does not start with '{{'; it is not a safetensors file.");
        }

        if (!System.Text.Unicode.Utf8.IsValid(json.Span))
        {
            throw new InvalidDataException($"'{source}' has a header that is not valid UTF-8.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{source}' has a malformed JSON header: {e.Message}", e);
        }

        using (document)
        {
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<SafeTensorsEntry>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            bool metadataSeen = false;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                string name = property.Name;
                if (name == MetadataKey)
                {
                    if (metadataSeen) throw new InvalidDataException($"'{source}' has two {MetadataKey} sections.");
                    metadataSeen = true;
                    ParseMetadata(property.Value, metadata, source);
                    continue;
                }

                if (name.Length == 0) throw new InvalidDataException($"'{source}' has a tensor with an empty name.");
                if (!names.Add(name)) throw new InvalidDataException($"'{source}': tensor '{name}' is listed twice.");
                entries.Add(ParseEntry(property.Value, name, source));
            }

            CheckLayout(entries, dataLength, source);
            return new SafeTensorsHeader(source, metadata, entries, 0);
        }
    }

    private static void ParseMetadata(JsonElement value, Dictionary<string, string> metadata, string source)
    {
        if (value.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"'{source}': {MetadataKey} is a {value.ValueKind}, not an object of strings.");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw new InvalidDataException($"'{source}': {MetadataKey} entry '{item.Name}' is a {item.Value.ValueKind}, not a string.");
            }

            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
            {
                throw new InvalidDataException($"'{source}': {MetadataKey} entry '{item.Name}' is listed twice.");
            }
        }
    }

    private static SafeTensorsEntry ParseEntry(JsonElement value, string name, string source)
    {
        string Where() => $"'{source}': tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{Where()} is described by a {value.ValueKind}, not an object.");
        string? dtype = null;
        long[]? shape = null, offsets = null;
        foreach (var field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype" when dtype is null:
                    dtype = field.Value.ValueKind == JsonValueKind.String ? field.Value.GetString()! : throw new InvalidDataException($"{Where()} has a dtype that is not a string.");
                    break;
                case "shape" when shape is null:
                    shape = Integers(field.Value, "shape");
                    break;
                case "data_offsets" when offsets is null:
                    offsets = Integers(field.Value, "data_offsets");
                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw new InvalidDataException($"{Where()} has '{field.Name}' twice.");
                default:
                    throw new InvalidDataException($"{Where()} has an unknown field '{field.Name}' (expected dtype, shape and data_offsets).");
            }
        }

        if (dtype is null || shape is null || offsets is null)
        {
            throw new InvalidDataException($"{Where()} lacks {(dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets")}.");
        }

        int index = Array.FindIndex(DTypes, d => d.Name == dtype);
        if (index < 0) throw new InvalidDataException($"{Where()} has dtype '{dtype}', which this reader does not support ({string.Join(", ", DTypes.Select(d => d.Name))}).");
        if (offsets.Length != 2 || offsets[0] > offsets[1])
        {
            throw new InvalidDataException($"{Where()} has data_offsets [{string.Join(", ", offsets)}]; expected [begin, end] with begin ≤ end.");
        }

        long bytes;
        try
        {
            bytes = checked(shape.Aggregate(1L, (a, s) => a * s) * DTypes[index].Size);
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{Where()} has shape [{string.Join(", ", shape)}], too large to be stored.");
        }

        if (bytes != offsets[1] - offsets[0])
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{Where()} is {dtype} [{string.Join(", ", shape)}], {bytes} bytes, but its data_offsets [{offsets[0]}, {offsets[1]}] span {offsets[1] - offsets[0]}."));
        }

        return new SafeTensorsEntry(name, dtype, DTypes[index].Type, shape, offsets[0], offsets[1]);

        long[] Integers(JsonElement array, string field)
        {
            if (array.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{Where()} has a {field} that is not an array.");
            var list = new List<long>();
            foreach (var item in array.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long v) || v < 0)
                {
                    throw new InvalidDataException($"{Where()} has {field} entry {item.GetRawText()}; expected a non-negative integer.");
                }

                list.Add(v);
            }

            return [.. list];
        }
    }

    private static void CheckLayout(List<SafeTensorsEntry> entries, long dataLength, string source)
    {
        long expected = 0;
        SafeTensorsEntry? previous = null;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin < expected)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"'{source}': tensor '{e.Name}' at bytes [{e.Begin}, {e.End}) overlaps tensor '{previous!.Name}' at [{previous.Begin}, {previous.End})."));
            }

            if (e.Begin > expected)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"'{source}': tensor '{e.Name}' starts at byte {e.Begin} of the data section, leaving a gap after byte {expected}; tensors must be contiguous."));
            }

            if (e.End > dataLength)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"'{source}': tensor '{e.Name}' ends at byte {e.End} of the data section, which holds {dataLength}; the file is truncated."));
            }

            expected = e.End;
            previous = e;
        }

        if (expected != dataLength)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"'{source}' has {dataLength - expected} bytes after its last tensor{(previous is null ? "" : $" '{previous.Name}'")}; a safetensors file ends with its data."));
        }
    }

    private static Tensor ReadData(Stream stream, IncrementalHash? hash, SafeTensorsEntry e, string source)
    {
        bool isBool = e.ScalarType == ScalarType.Bool;
        var t = empty(e.Shape, isBool ? ScalarType.Byte : e.ScalarType, CPU);
        try
        {
            ForEachChunk(t, chunk =>
            {
                if (stream.ReadAtLeast(chunk, chunk.Length, throwOnEndOfStream: false) < chunk.Length)
                {
                    throw new InvalidDataException($"'{source}': tensor '{e.Name}' is cut short; the file is truncated.");
                }

                hash?.AppendData(chunk);
            });
            if (!isBool) return t;
            using var scope = NewDisposeScope();
            if (t.gt(1).any().item<bool>())
            {
                throw new InvalidDataException($"'{source}': BOOL tensor '{e.Name}' holds a byte other than 0 or 1.");
            }

            return t.to(ScalarType.Bool).MoveToOuterDisposeScope();
        }
        catch
        {
            if (!isBool) t.Dispose();
            throw;
        }
        finally
        {
            if (isBool) t.Dispose();
        }
    }

    private static void WriteData(Stream stream, IncrementalHash hash, Tensor t) => ForEachChunk(t, chunk => Emit(stream, hash, chunk));

    /// <summary>Calls <paramref name="action"/> on a contiguous CPU tensor's storage in spans of at most <see cref="ChunkBytes"/> bytes, in order.</summary>
    private static void ForEachChunk(Tensor t, Action<Span<byte>> action)
    {
        long count = t.numel();
        if (count == 0) return;
        using var flat = t.view(-1);
        long step = ChunkBytes / t.ElementSize;
        for (long start = 0; start < count; start += step)
        {
            using var part = flat.narrow(0, start, Math.Min(step, count - start));
            action(part.bytes);
        }
    }

    private static byte[] Header(IEnumerable<(string Name, Tensor Tensor, long Bytes)> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject(MetadataKey);
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }

            long offset = 0;
            foreach (var (name, t, bytes) in tensors)
            {
                w.WriteStartObject(name);
                w.WriteString("dtype", DTypeName(t.dtype, name));
                w.WriteStartArray("shape");
                foreach (long s in t.shape) w.WriteNumberValue(s);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }

            w.WriteEndObject();
        }

        int padding = (int)(-buffer.Length & 7);
        for (int i = 0; i < padding; i++) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static string DTypeName(ScalarType type, string name)
    {
        foreach (var d in DTypes)
        {
            if (d.Type == type) return d.Name;
        }

        throw new ArgumentException($"Tensor '{name}' has element type {type}, which safetensors files here do not hold.");
    }

    private static void Emit(Stream stream, IncrementalHash hash, ReadOnlySpan<byte> bytes)
    {
        stream.Write(bytes);
        hash.AppendData(bytes);
    }

    private static bool HashMatches(Stream stream, string expectedSha256)
    {
        stream.Position = 0;
        return Convert.ToHexStringLower(SHA256.HashData(stream)).Equals(expectedSha256, StringComparison.OrdinalIgnoreCase);
    }

    private static InvalidDataException ChecksumMismatch(string source, string expectedSha256, Exception? inner) => new(
        $"'{source}' does not have the expected SHA-256 {expectedSha256}: the file is corrupt or was replaced{(inner is null ? "." : $" ({inner.Message})")}", inner);

    private static FileStream OpenRead(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);

    private static void RequireLittleEndian()
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors files are read and written on little-endian machines only.");
    }
}
