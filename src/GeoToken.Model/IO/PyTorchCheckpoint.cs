using System.IO.Compression;
using System.Text;
using GeoToken.IO.Pickle;
using static TorchSharp.torch;

namespace GeoToken.IO;

/// <summary>
/// Reads and writes PyTorch state dicts in the zip format of <c>torch.save</c> (PyTorch ≥ 1.6): an archive folder
/// holding <c>data.pkl</c> (the pickled object, tensors as references to storages), <c>data/{key}</c> (each storage's
/// raw little-endian elements) and <c>version</c>.
/// </summary>
/// <remarks>
/// <para>
/// The pickle is read by this library's own minimal reader, which runs no code: it knows the opcodes of protocols
/// 2–5 that <c>torch.save</c> emits and an allowlist of globals (<c>collections.OrderedDict</c>,
/// <c>torch._utils._rebuild_tensor_v2</c>, <c>torch._utils._rebuild_parameter</c>,
/// <c>torch._utils._rebuild_parameter_with_state</c> and the typed storage classes <c>torch.FloatStorage</c>,
/// <c>HalfStorage</c>, <c>BFloat16Storage</c>, <c>DoubleStorage</c>, <c>LongStorage</c>, <c>IntStorage</c>,
/// <c>ShortStorage</c>, <c>CharStorage</c>, <c>ByteStorage</c>, <c>BoolStorage</c>). Any other global (such as
/// <c>os.system</c> or <c>builtins.eval</c>), object construction or unknown opcode is refused with an
/// <see cref="InvalidDataException"/> naming the file and what it asked for. The legacy (pre-1.6) format and
/// <c>torch.storage._load_from_bytes</c> are not read.
/// </para>
/// <para>
/// Tensors are read to the CPU whatever device they were saved from. As with <c>torch.load</c>, tensors that shared a
/// storage share memory, and views keep their offsets and strides (they may be non-contiguous).
/// </para>
/// </remarks>
public static class PyTorchCheckpoint
{
    /// <summary>
    /// The name <see cref="Read"/> gives the one tensor of a file that saved a bare tensor (<c>torch.save(tensor)</c>,
    /// e.g. GeoCLIP's <c>logit_scale_weights.pth</c>) rather than a dict: <c>"tensor"</c>.
    /// </summary>
    public const string BareTensorName = "tensor";

    /// <summary>Reads the state dict in a <c>torch.save</c> file.</summary>
    /// <param name="path">The checkpoint (<c>.pth</c>, <c>.pt</c>).</param>
    /// <param name="options">Where the state dict is and the allocation limits (null: defaults, state dict found automatically).</param>
    /// <param name="cancellationToken">Checked between storages.</param>
    /// <returns>The tensors in the order the file lists them; the caller owns (disposes) them.</returns>
    /// <exception cref="InvalidDataException">
    /// The file is not a zip-format <c>torch.save</c> file, is truncated or corrupt, refers to a global outside the
    /// allowlist, holds no (or more than one) dict of tensors, or a storage disagrees with its zip entry; the message names
    /// the file and the offending global, key, storage or entry.
    /// </exception>
    public static StateDict Read(string path, PyTorchCheckpointOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new PyTorchCheckpointOptions();
        options.Validate();
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        CheckMagic(file, path);
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}' is not a readable zip archive (truncated or corrupt): {e.Message}", e);
        }

        using (zip)
        {
            string prefix = ArchivePrefix(zip, path);
            var byteOrder = zip.GetEntry(prefix + "byteorder");
            if (byteOrder is not null)
            {
                string order = Encoding.ASCII.GetString(ReadEntry(byteOrder, 16, path)).Trim();
                if (order != "little") throw new InvalidDataException($"'{path}' stores its tensors in '{order}' byte order; only 'little' is read.");
            }

            var pklEntry = zip.GetEntry(prefix + "data.pkl")!;
            byte[] pickle = ReadEntry(pklEntry, options.MaxPickleBytes, path);
            object? root = PickleMachine.Load(pickle, $"{path}: {pklEntry.FullName}", options.MaxMemoEntries);
            if (root is PickleTensor bare && options.KeyPath is null)
            {
                // torch.save(tensor) (GeoCLIP's logit scale file): one tensor, no dict.
                return Materialize(zip, prefix, [(BareTensorName, bare)], path, file.Length, cancellationToken);
            }

            var (dict, where) = options.KeyPath is { } keys ? Follow(root, keys, path) : Find(root, options.MaxDepth, path);

            var entries = new List<(string Name, PickleTensor Tensor)>();
            foreach (var (key, value) in dict.Entries)
            {
                if (key is not string name) throw new InvalidDataException($"'{path}': the state dict {where} has a key that is not a string ({key ?? "None"}).");
                if (value is not PickleTensor t) throw new InvalidDataException($"'{path}': entry '{name}' of the state dict {where} is not a tensor.");
                entries.Add((name, t));
            }

            return Materialize(zip, prefix, entries, path, file.Length, cancellationToken);
        }
    }

    /// <summary>
    /// Writes tensors as a state dict in the <c>torch.save</c> zip format (protocol-2 pickle of an <c>OrderedDict</c>,
    /// one storage per tensor, 64-byte aligned entries, archive folder <c>archive</c>), which <c>torch.load</c> (PyTorch ≥ 1.6)
    /// reads. Tensors are written from the CPU, contiguous, in their own element type; shared storages are not preserved.
    /// The file is written atomically.
    /// </summary>
    /// <param name="path">The file to write (replaced if it exists).</param>
    /// <param name="tensors">The named tensors, in the order to write them.</param>
    /// <exception cref="ArgumentException">A name occurs twice or is empty, or a tensor's element type has no PyTorch storage class here.</exception>
    /// <exception cref="NotSupportedException">A tensor of 2 GiB or more, or a file of 4 GiB or more (zip64 is not written).</exception>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("PyTorch checkpoints are written on little-endian machines only.");
        var items = new List<StateDictPickler.Item>();
        var data = new List<Tensor>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, tensor) in tensors)
            {
                ArgumentException.ThrowIfNullOrEmpty(name, nameof(tensors));
                ArgumentNullException.ThrowIfNull(tensor, nameof(tensors));
                if (!seen.Add(name)) throw new ArgumentException($"Tensor name '{name}' occurs twice.", nameof(tensors));
                string storage = PickleMachine.StorageClassName(tensor.dtype)
                    ?? throw new ArgumentException($"Tensor '{name}' has element type {tensor.dtype}, which has no PyTorch storage class here.", nameof(tensors));
                var c = tensor.detach().cpu().contiguous();
                data.Add(c);
                if (c.numel() * c.ElementSize >= int.MaxValue) throw new NotSupportedException($"Tensor '{name}' takes 2 GiB or more; such checkpoints are not written.");
                items.Add(new StateDictPickler.Item(name, storage, (items.Count).ToString(System.Globalization.CultureInfo.InvariantCulture), c.numel(), c.shape));
            }

            byte[] pickle = StateDictPickler.Pickle(items);
            AtomicFile.Write(path, stream =>
            {
                var zip = new StoredZipWriter(stream);
                zip.Add("archive/data.pkl", pickle);
                for (int i = 0; i < items.Count; i++) zip.Add($"archive/data/{items[i].Key}", items[i].ElementCount == 0 ? [] : data[i].bytes);
                zip.Add("archive/version", "3\n"u8);
                zip.Finish();
            });
        }
        finally
        {
            foreach (var t in data) t.Dispose();
        }
    }

    private static void CheckMagic(FileStream file, string path)
    {
        Span<byte> head = stackalloc byte[4];
        int n = file.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        file.Position = 0;
        if (n == 4 && head.SequenceEqual("PK\x03\x04"u8)) return;
        if (n >= 1 && head[0] == 0x80)
        {
            throw new InvalidDataException($"'{path}' is in the legacy (pre-1.6) torch.save format, which is not read; re-save it with PyTorch ≥ 1.6 (torch.save(torch.load(f), f2)).");
        }

        throw new InvalidDataException($"'{path}' is not a torch.save zip file (it does not start with a zip header).");
    }

    private static string ArchivePrefix(ZipArchive zip, string path)
    {
        var pkl = zip.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.IndexOf('/', StringComparison.Ordinal) == e.FullName.Length - "/data.pkl".Length).ToList();
        return pkl.Count switch
        {
            1 => pkl[0].FullName[..^"data.pkl".Length],
            0 => throw new InvalidDataException($"'{path}' is a zip archive without a '<folder>/data.pkl' entry; it is not a torch.save file."),
            _ => throw new InvalidDataException($"'{path}' holds {pkl.Count} '<folder>/data.pkl' entries ({string.Join(", ", pkl.Select(e => e.FullName))}); a torch.save file has one."),
        };
    }

    private static byte[] ReadEntry(ZipArchiveEntry entry, long max, string path)
    {
        if (entry.Length > max) throw new InvalidDataException($"'{path}': entry '{entry.FullName}' holds {entry.Length} bytes, more than the {max} allowed.");
        var bytes = new byte[entry.Length];
        try
        {
            using var s = entry.Open();
            s.ReadExactly(bytes);
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException)
        {
            throw new InvalidDataException($"'{path}': entry '{entry.FullName}' cannot be read (truncated or corrupt): {e.Message}", e);
        }

        return bytes;
    }

    private static (PickleDict Dict, string Where) Follow(object? root, IReadOnlyList<string> keys, string path)
    {
        object? node = root;
        for (int i = 0; i < keys.Count; i++)
        {
            string at = i == 0 ? "the saved object" : $"[{string.Join("][", keys.Take(i).Select(k => $"'{k}'"))}]";
            if (node is not PickleDict d) throw new InvalidDataException($"'{path}': {at} is not a dict, so key '{keys[i]}' cannot be looked up.");
            if (!d.TryGet(keys[i], out node)) throw new InvalidDataException($"'{path}': {at} has no key '{keys[i]}' (keys: {string.Join(", ", d.Entries.Select(e => e.Key).Take(20))}).");
        }

        string where = keys.Count == 0 ? "(the saved object)" : $"[{string.Join("][", keys.Select(k => $"'{k}'"))}]";
        return node is PickleDict result ? (result, where) : throw new InvalidDataException($"'{path}': {where} is not a dict.");
    }

    private static (PickleDict Dict, string Where) Find(object? root, int maxDepth, string path)
    {
        if (root is PickleDict top && top.Entries.All(e => e.Key is string && e.Value is PickleTensor)) return (top, "(the saved object)");
        var found = new List<(PickleDict Dict, string Where)>();
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        void Walk(object? node, string where, int depth)
        {
            if (node is null || depth > maxDepth || node is not (PickleDict or PickleTuple or List<object?>) || !visited.Add(node)) return;
            if (node is PickleDict d)
            {
                if (d.Count > 0 && d.Entries.All(e => e.Key is string && e.Value is PickleTensor))
                {
                    found.Add((d, where));
                    return;
                }

                foreach (var (k, v) in d.Entries) Walk(v, $"{where}[{(k is string s ? $"'{s}'" : k?.ToString() ?? "None")}]", depth + 1);
            }
            else
            {
                var items = node is PickleTuple t ? t.Items : ((List<object?>)node).ToArray();
                for (int i = 0; i < items.Length; i++) Walk(items[i], $"{where}[{i}]", depth + 1);
            }
        }

        Walk(root, "", 0);
        return found.Count switch
        {
            1 => found[0],
            0 => throw new InvalidDataException($"'{path}' holds no dict of tensors (searched {maxDepth} levels deep); it is not a state dict checkpoint."),
            _ => throw new InvalidDataException($"'{path}' holds {found.Count} dicts of tensors ({string.Join(", ", found.Take(10).Select(f => f.Where))}); choose one with PyTorchCheckpointOptions.KeyPath."),
        };
    }

    private static StateDict Materialize(ZipArchive zip, string prefix, List<(string Name, PickleTensor Tensor)> entries, string path, long fileLength, CancellationToken cancellationToken)
    {
        var storages = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var result = new StateDict(path);
        try
        {
            foreach (var (name, t) in entries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!storages.TryGetValue(t.Storage.Key, out var storage))
                {
                    storage = ReadStorage(zip, prefix, t.Storage, path, fileLength);
                    storages.Add(t.Storage.Key, storage);
                }

                result.Add(name, storage.as_strided(t.Shape, t.Strides, t.Offset));
            }

            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
        finally
        {
            foreach (var s in storages.Values) s.Dispose();
        }
    }

    private static Tensor ReadStorage(ZipArchive zip, string prefix, PickleStorage s, string path, long fileLength)
    {
        string entryName = $"{prefix}data/{s.Key}";
        var entry = zip.GetEntry(entryName) ?? throw new InvalidDataException($"'{path}' refers to storage '{s.Key}' but has no entry '{entryName}'.");
        int size = ElementSize(s.DType);
        long bytes;
        try
        {
            bytes = checked(s.ElementCount * size);
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"'{path}': storage '{s.Key}' declares {s.ElementCount} elements, too many to address.");
        }

        // The declared size must be what the entry holds, and the entry's size must be plausible for the file (a stored
        // entry cannot exceed the file; deflate expands at most ~1032-fold), so a header cannot make us allocate more.
        if (entry.Length != bytes)
        {
            throw new InvalidDataException($"'{path}': storage '{s.Key}' declares {s.ElementCount} × {s.DType} = {bytes} bytes but its entry '{entryName}' holds {entry.Length}.");
        }

        if (entry.CompressedLength > fileLength || entry.Length > entry.CompressedLength * 1032L + 1024)
        {
            throw new InvalidDataException($"'{path}': entry '{entryName}' claims {entry.Length} bytes from {entry.CompressedLength} compressed bytes in a {fileLength}-byte file; it is corrupt.");
        }

        if (bytes > int.MaxValue)
        {
            throw new InvalidDataException($"'{path}': storage '{s.Key}' takes {bytes} bytes; storages of 2 GiB or more are not read.");
        }

        var tensor = empty([s.ElementCount], s.DType, CPU);
        try
        {
            using var stream = entry.Open();
            if (bytes > 0) stream.ReadExactly(tensor.bytes);
            return tensor;
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException)
        {
            tensor.Dispose();
            throw new InvalidDataException($"'{path}': entry '{entryName}' cannot be read (truncated or corrupt): {e.Message}", e);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    private static int ElementSize(ScalarType t) => t switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };
}
