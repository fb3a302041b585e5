using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using GeoToken.Data;
using GeoToken.IO;

namespace GeoToken.Retrieval;

/// <summary>
/// The cluster index file, version 2 (little-endian; every section starts at a multiple of 64 bytes):
/// <code>
///   header (256 bytes)
///     0  "GTKCLIDX"            8  u32 version = 2       12 u32 header size = 256
///    16  i64 file length      24  i64 gallery rows N   32 i32 dimension d
///    36  i32 gallery element type (0 float32, 1 float16)
///    40  i32 levels L (1..8)  44  i32 stored vectors (0 none, 1 float32, 2 float16)
///    48  i32 fingerprint sample rows                   56 32 bytes fingerprint SHA-256
///    88  i32[8] default beam widths (probes) per level 120 i64 build-info length
///   128  i64[8] nodes per level                        192 32 bytes metadata SHA-256
///   224  f64 default leaf margin (NaN: none; version 2, absent from version 1 files, which still open)
///   centroids, level 0 … L−1      float32 [nodes_l × d], unit length
///   children,  level 0 … L−2      int32   [nodes_l + 1], node i's children are [c[i], c[i+1]) of level l+1
///   leaf starts                   int64   [leaves + 1], leaf j's rows are positions [s[j], s[j+1])
///   ids                           int64   [N], gallery row at each leaf-order position
///   inverse norms                 float32 [N], 1/‖g‖ at each position
///   vectors (optional)            float32 or float16 [N × d], the gallery rows in leaf order, unchanged
///   build info                    UTF-8 JSON (options, timings; informational)
/// </code>
/// The metadata SHA-256 covers the header (with that field zeroed) and every section before the
/// vectors, so a damaged tree or permutation is detected on open; the gallery fingerprint ties
/// the file to its gallery.
/// </summary>
internal static class ClusterIndexFormat
{
    public const int Version = 2;

    /// <summary>The oldest version this library reads (version 1 lacks the default leaf margin).</summary>
    public const int OldestReadableVersion = 1;
    public const int HeaderSize = 256;
    public const int MaxLevels = 8;
    private const int Align = 64;
    private static ReadOnlySpan<byte> Magic => "GTKCLIDX"u8;

    /// <summary>Section offsets.</summary>
    public sealed record Layout(long[] Centroids, long[] Children, long LeafStart, long Ids, long InverseNorms, long Vectors, long BuildInfo, long End);

    /// <summary>What the header says.</summary>
    public sealed record Header(long FileLength, long Rows, int Dimension, FeatureElementType GalleryElementType, int[] NodeCounts, StoredVectors Stored, GalleryFingerprint Fingerprint, int[] DefaultProbes, double? DefaultLeafMargin, long BuildInfoLength);

    public static Layout ComputeLayout(long rows, int d, int[] nodeCounts, StoredVectors stored, long buildInfoLength)
    {
        long at = HeaderSize;
        long Take(long bytes)
        {
            long start = at;
            at = checked(at + bytes + Align - 1) / Align * Align;
            return start;
        }

        int levels = nodeCounts.Length;
        var centroids = new long[levels];
        var children = new long[Math.Max(0, levels - 1)];
        for (int l = 0; l < levels; l++) centroids[l] = Take(checked((long)nodeCounts[l] * d * 4));
        for (int l = 0; l < levels - 1; l++) children[l] = Take(((long)nodeCounts[l] + 1) * 4);
        long leafStart = Take(((long)nodeCounts[^1] + 1) * 8);
        long ids = Take(checked(rows * 8));
        long norms = Take(checked(rows * 4));
        long vectors = stored == StoredVectors.None ? at : Take(checked(rows * d * (stored == StoredVectors.Float16 ? 2 : 4)));
        long info = at;
        long end = checked(info + buildInfoLength);
        return new Layout(centroids, children, leafStart, ids, norms, vectors, info, end);
    }

    /// <summary>
    /// Writes the index to <paramref name="stream"/>. Vectors (if stored) are the gallery rows in
    /// leaf order, read from <paramref name="tree"/> if it stores them or else from <paramref name="gallery"/>.
    /// </summary>
    public static void Write(Stream stream, ClusterTree tree, FeatureMatrix gallery, GalleryFingerprint fingerprint, int[] defaultProbes, double? defaultLeafMargin, StoredVectors stored, string buildInfoJson, IProgress<IndexBuildProgress>? progress, CancellationToken cancellationToken)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Index files are little-endian; this platform is big-endian.");
        byte[] info = Encoding.UTF8.GetBytes(buildInfoJson);
        int d = tree.Dimension;
        long rows = tree.Rows;
        var layout = ComputeLayout(rows, d, tree.NodeCounts, stored, info.Length);
        var header = new byte[HeaderSize];
        WriteHeader(header, layout.End, tree, gallery.ElementType, stored, fingerprint, defaultProbes, defaultLeafMargin, info.Length);

        // Metadata hash: header (hash field zero) + every section before the vectors.
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            hash.AppendData(header);
            ForEachMetadataSection(tree, bytes => hash.AppendData(bytes));
            hash.GetHashAndReset().CopyTo(header.AsSpan(192, 32));
        }

        long position = 0;
        void Put(ReadOnlySpan<byte> bytes)
        {
            stream.Write(bytes);
            position += bytes.Length;
        }

        void PadTo(long offset)
        {
            if (position > offset) throw new InvalidOperationException("Index layout overrun.");
            Span<byte> zeros = stackalloc byte[Align];
            while (position < offset) Put(zeros[..(int)Math.Min(Align, offset - position)]);
        }

        Put(header);
        int section = 0;
        var offsets = new List<long>();
        offsets.AddRange(layout.Centroids);
        offsets.AddRange(layout.Children);
        offsets.Add(layout.LeafStart);
        offsets.Add(layout.Ids);
        offsets.Add(layout.InverseNorms);
        ForEachMetadataSection(tree, bytes =>
        {
            PadTo(offsets[section++]);
            Put(bytes);
        });

        if (stored != StoredVectors.None)
        {
            PadTo(layout.Vectors);
            WriteVectors(stream, tree, gallery, stored, progress, cancellationToken);
            position += rows * d * (stored == StoredVectors.Float16 ? 2 : 4);
        }

        PadTo(layout.BuildInfo);
        Put(info);
        if (position != layout.End) throw new InvalidOperationException($"Index writer produced {position} bytes; the layout says {layout.End}.");
    }

    private static void ForEachMetadataSection(ClusterTree tree, Action<ReadOnlySpan<byte>> action)
    {
        for (int l = 0; l < tree.Levels; l++) action(MemoryMarshal.AsBytes(tree.Centroids(l, 0, tree.NodeCounts[l])));
        for (int l = 0; l < tree.Levels - 1; l++) action(MemoryMarshal.AsBytes(tree.ChildStarts(l)));
        action(MemoryMarshal.AsBytes(tree.LeafStarts));
        const int Chunk = 1 << 20;
        for (long s = 0; s < tree.Rows; s += Chunk) action(MemoryMarshal.AsBytes(tree.Ids(s, (int)Math.Min(Chunk, tree.Rows - s))));
        for (long s = 0; s < tree.Rows; s += Chunk) action(MemoryMarshal.AsBytes(tree.InverseNorms(s, (int)Math.Min(Chunk, tree.Rows - s))));
    }

    private static void WriteVectors(Stream stream, ClusterTree tree, FeatureMatrix gallery, StoredVectors stored, IProgress<IndexBuildProgress>? progress, CancellationToken cancellationToken)
    {
        int d = tree.Dimension;
        long rows = tree.Rows;
        const int Block = 1024;
        bool half = stored == StoredVectors.Float16;
        var buffer = new byte[(long)Block * d * (half ? 2 : 4)];
        for (long s = 0; s < rows; s += Block)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(Block, rows - s);
            int bytes = n * d * (half ? 2 : 4);
            if (tree.Stored == stored)
            {
                if (half) MemoryMarshal.AsBytes(tree.VectorsFloat16(s, n)).CopyTo(buffer);
                else MemoryMarshal.AsBytes(tree.VectorsFloat32(s, n)).CopyTo(buffer);
            }
            else
            {
                var ids = tree.Ids(s, n);
                for (int i = 0; i < n; i++)
                {
                    if (half) MemoryMarshal.AsBytes(gallery.GetFloat16Rows(ids[i], 1)).CopyTo(buffer.AsSpan(i * d * 2));
                    else MemoryMarshal.AsBytes(gallery.GetFloat32Rows(ids[i], 1)).CopyTo(buffer.AsSpan(i * d * 4));
                }
            }

            stream.Write(buffer, 0, bytes);
            if ((s / Block & 255) == 0) progress?.Report(new IndexBuildProgress(IndexBuildStage.Writing, s + n, rows));
        }

        progress?.Report(new IndexBuildProgress(IndexBuildStage.Writing, rows, rows));
    }

    private static void WriteHeader(Span<byte> h, long fileLength, ClusterTree tree, FeatureElementType galleryType, StoredVectors stored, GalleryFingerprint fingerprint, int[] probes, double? leafMargin, long infoLength)
    {
        Magic.CopyTo(h);
        BinaryPrimitives.WriteUInt32LittleEndian(h[8..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], HeaderSize);
        BinaryPrimitives.WriteInt64LittleEndian(h[16..], fileLength);
        BinaryPrimitives.WriteInt64LittleEndian(h[24..], tree.Rows);
        BinaryPrimitives.WriteInt32LittleEndian(h[32..], tree.Dimension);
        BinaryPrimitives.WriteInt32LittleEndian(h[36..], (int)galleryType);
        BinaryPrimitives.WriteInt32LittleEndian(h[40..], tree.Levels);
        BinaryPrimitives.WriteInt32LittleEndian(h[44..], (int)stored);
        BinaryPrimitives.WriteInt32LittleEndian(h[48..], fingerprint.SampleRows);
        Convert.FromHexString(fingerprint.Sha256).CopyTo(h[56..]);
        for (int l = 0; l < probes.Length; l++) BinaryPrimitives.WriteInt32LittleEndian(h[(88 + 4 * l)..], probes[l]);
        BinaryPrimitives.WriteInt64LittleEndian(h[120..], infoLength);
        for (int l = 0; l < tree.Levels; l++) BinaryPrimitives.WriteInt64LittleEndian(h[(128 + 8 * l)..], tree.NodeCounts[l]);
        BinaryPrimitives.WriteDoubleLittleEndian(h[224..], leafMargin ?? double.NaN);
    }

    /// <summary>The most bytes of build-information JSON a file may record (far more than the writer produces).</summary>
    public const long MaxBuildInfoBytes = 16 << 20;

    /// <summary>Parses and checks the header of a mapped file (structure, size, metadata checksum, tree consistency).</summary>
    public static unsafe (Header Header, Layout Layout) Read(string path, MappedFile mapping)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Index files are little-endian; this platform is big-endian.");
        if (mapping.Length < HeaderSize) throw new IndexFormatException(path, $"the file has {mapping.Length} bytes, too few for the {HeaderSize}-byte header of a GeoToken cluster index.");
        var h = new ReadOnlySpan<byte>(mapping.Pointer, HeaderSize);
        if (!h[..8].SequenceEqual(Magic)) throw new IndexFormatException(path, "not a GeoToken cluster index (the file does not start with \"GTKCLIDX\").");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(h[8..]);
        if (version is < OldestReadableVersion or > Version) throw new IndexFormatException(path, $"index format version {version} is not supported; this library reads versions {OldestReadableVersion} to {Version}. Rebuild the index.");
        if (BinaryPrimitives.ReadUInt32LittleEndian(h[12..]) != HeaderSize) throw new IndexFormatException(path, "unexpected header size.");
        long fileLength = BinaryPrimitives.ReadInt64LittleEndian(h[16..]);
        if (fileLength != mapping.Length) throw new IndexFormatException(path, $"the header records {fileLength} bytes but the file has {mapping.Length}: it is truncated or was modified.");
        long rows = BinaryPrimitives.ReadInt64LittleEndian(h[24..]);
        int d = BinaryPrimitives.ReadInt32LittleEndian(h[32..]);
        int galleryType = BinaryPrimitives.ReadInt32LittleEndian(h[36..]);
        int levels = BinaryPrimitives.ReadInt32LittleEndian(h[40..]);
        int stored = BinaryPrimitives.ReadInt32LittleEndian(h[44..]);
        int sampleRows = BinaryPrimitives.ReadInt32LittleEndian(h[48..]);
        if (rows <= 0 || rows > int.MaxValue || d <= 0 || levels < 1 || levels > MaxLevels || galleryType is < 0 or > 1 || stored is < 0 or > 2 || sampleRows <= 0)
        {
            throw new IndexFormatException(path, $"invalid header (rows {rows}, dimension {d}, levels {levels}, element type {galleryType}, stored {stored}).");
        }

        var counts = new int[levels];
        var probes = new int[levels];
        for (int l = 0; l < levels; l++)
        {
            long c = BinaryPrimitives.ReadInt64LittleEndian(h[(128 + 8 * l)..]);
            if (c <= 0 || c > rows) throw new IndexFormatException(path, $"level {l} has {c} nodes (must be 1..{rows}).");
            counts[l] = (int)c;
            probes[l] = BinaryPrimitives.ReadInt32LittleEndian(h[(88 + 4 * l)..]);
            if (probes[l] < 1 || probes[l] > counts[l]) throw new IndexFormatException(path, $"level {l}'s default beam width {probes[l]} is outside 1..{counts[l]}.");
        }

        long infoLength = BinaryPrimitives.ReadInt64LittleEndian(h[120..]);
        double? leafMargin = null;
        if (version >= 2)
        {
            double m = BinaryPrimitives.ReadDoubleLittleEndian(h[224..]);
            if (!double.IsNaN(m))
            {
                if (!(m >= 0)) throw new IndexFormatException(path, $"the default leaf margin {m} is negative.");
                leafMargin = m;
            }
        }

        if (infoLength is < 0 or > MaxBuildInfoBytes) throw new IndexFormatException(path, $"the header records {infoLength} bytes of build information; at most {MaxBuildInfoBytes} are written.");
        Layout layout;
        try
        {
            layout = ComputeLayout(rows, d, counts, (StoredVectors)stored, infoLength);
        }
        catch (OverflowException)
        {
            throw new IndexFormatException(path, $"invalid header: rows {rows} × dimension {d} with {levels} levels need more bytes than a file can hold.");
        }

        if (layout.End != fileLength) throw new IndexFormatException(path, $"the sections need {layout.End} bytes but the file has {fileLength}.");
        var fingerprint = new GalleryFingerprint(rows, d, (FeatureElementType)galleryType, sampleRows, Convert.ToHexStringLower(h.Slice(56, 32)));

        // Metadata checksum.
        var headerCopy = h.ToArray();
        headerCopy.AsSpan(192, 32).Clear();
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            hash.AppendData(headerCopy);
            // Hash each section exactly (alignment padding is not hashed).
            var sections = new List<(long Offset, long Length)>();
            for (int l = 0; l < levels; l++) sections.Add((layout.Centroids[l], (long)counts[l] * d * 4));
            for (int l = 0; l < levels - 1; l++) sections.Add((layout.Children[l], ((long)counts[l] + 1) * 4));
            sections.Add((layout.LeafStart, ((long)counts[^1] + 1) * 8));
            sections.Add((layout.Ids, rows * 8));
            sections.Add((layout.InverseNorms, rows * 4));
            foreach (var (offset, length) in sections)
            {
                for (long s = 0; s < length; s += 1 << 30) hash.AppendData(new ReadOnlySpan<byte>(mapping.Pointer + offset + s, (int)Math.Min(1 << 30, length - s)));
            }

            if (!hash.GetHashAndReset().AsSpan().SequenceEqual(h.Slice(192, 32))) throw new IndexFormatException(path, "the metadata checksum does not match: the file is damaged. Rebuild the index.");
        }

        // Tree consistency (cheap, catches writer bugs the checksum would faithfully preserve).
        for (int l = 0; l < levels - 1; l++)
        {
            var c = new ReadOnlySpan<int>(mapping.Pointer + layout.Children[l], counts[l] + 1);
            if (c[0] != 0 || c[^1] != counts[l + 1]) throw new IndexFormatException(path, $"level {l}'s children do not cover level {l + 1}.");
            for (int i = 0; i < counts[l]; i++)
            {
                if (c[i + 1] < c[i]) throw new IndexFormatException(path, $"level {l} node {i} has a negative child range.");
            }
        }

        var leaf = new ReadOnlySpan<long>(mapping.Pointer + layout.LeafStart, counts[^1] + 1);
        if (leaf[0] != 0 || leaf[^1] != rows) throw new IndexFormatException(path, "the leaves do not cover the gallery rows.");
        for (int i = 0; i < counts[^1]; i++)
        {
            if (leaf[i + 1] < leaf[i]) throw new IndexFormatException(path, $"leaf {i} has a negative row range.");
        }

        var seen = new System.Collections.BitArray((int)rows);
        var ids = new ReadOnlySpan<long>(mapping.Pointer + layout.Ids, (int)rows);
        for (int i = 0; i < ids.Length; i++)
        {
            long id = ids[i];
            if (id < 0 || id >= rows || seen[(int)id]) throw new IndexFormatException(path, $"position {i} holds gallery row {id}, which is out of range or repeated.");
            seen[(int)id] = true;
        }

        return (new Header(fileLength, rows, d, (FeatureElementType)galleryType, counts, (StoredVectors)stored, fingerprint, probes, leafMargin, infoLength), layout);
    }

    /// <summary>The build-info JSON of a mapped file.</summary>
    public static unsafe string ReadBuildInfo(MappedFile mapping, Layout layout) =>
        Encoding.UTF8.GetString(new ReadOnlySpan<byte>(mapping.Pointer + layout.BuildInfo, (int)(layout.End - layout.BuildInfo)));
}
