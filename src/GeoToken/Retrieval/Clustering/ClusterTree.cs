using System.Runtime.CompilerServices;
using GeoToken.Data;
using GeoToken.IO;

namespace GeoToken.Retrieval;

/// <summary>What an index file stores of the gallery vectors.</summary>
internal enum StoredVectors
{
    /// <summary>Nothing: rows are gathered from the gallery through the permutation.</summary>
    None = 0,

    /// <summary>A float32 copy in leaf order.</summary>
    Float32 = 1,

    /// <summary>A float16 copy in leaf order.</summary>
    Float16 = 2,
}

/// <summary>
/// The k-means tree: unit centroids per level; for every non-leaf node the range of its children
/// in the next level; for every leaf the range of its rows in leaf order; the permutation
/// (gallery row of each position), 1/‖g‖ per position and optionally the vectors themselves in
/// leaf order. Backed by pinned arrays (after a build) or by a memory-mapped index file.
/// </summary>
internal sealed unsafe class ClusterTree : IDisposable
{
    private readonly nint[] _centroids;
    private readonly nint[] _children;
    private readonly long* _leafStart;
    private readonly long* _ids;
    private readonly float* _inverseNorms;
    private readonly byte* _vectors;
    private readonly object? _keepAlive;
    private readonly MappedFile? _mapping;

    private ClusterTree(int dimension, long rows, int[] nodeCounts, nint[] centroids, nint[] children, long* leafStart, long* ids, float* inverseNorms, StoredVectors stored, byte* vectors, object? keepAlive, MappedFile? mapping)
    {
        Dimension = dimension;
        Rows = rows;
        NodeCounts = nodeCounts;
        _centroids = centroids;
        _children = children;
        _leafStart = leafStart;
        _ids = ids;
        _inverseNorms = inverseNorms;
        Stored = stored;
        _vectors = vectors;
        _keepAlive = keepAlive;
        _mapping = mapping;
    }

    public int Dimension { get; }

    public long Rows { get; }

    public int Levels => NodeCounts.Length;

    /// <summary>Nodes per level, top first; the last level holds the leaves.</summary>
    public int[] NodeCounts { get; }

    public int LeafCount => NodeCounts[^1];

    public StoredVectors Stored { get; }

    /// <summary>Unit centroids of nodes [start, start + count) of <paramref name="level"/>.</summary>
    public ReadOnlySpan<float> Centroids(int level, int start, int count) =>
        new((float*)_centroids[level] + (long)start * Dimension, count * Dimension);

    /// <summary>The children of <paramref name="node"/> (level <paramref name="level"/> &lt; Levels − 1) as a range of level + 1.</summary>
    public (int Start, int End) Children(int level, int node)
    {
        int* c = (int*)_children[level];
        return (c[node], c[node + 1]);
    }

    /// <summary>The leaf-order positions of <paramref name="leaf"/>'s rows.</summary>
    public (long Start, long End) Leaf(int leaf) => (_leafStart[leaf], _leafStart[leaf + 1]);

    /// <summary>Gallery rows of leaf-order positions [start, start + count).</summary>
    public ReadOnlySpan<long> Ids(long start, int count) => new(_ids + start, count);

    /// <summary>1/‖g‖ of leaf-order positions [start, start + count).</summary>
    public ReadOnlySpan<float> InverseNorms(long start, int count) => new(_inverseNorms + start, count);

    /// <summary>Stored float32 vectors of positions [start, start + count).</summary>
    public ReadOnlySpan<float> VectorsFloat32(long start, int count) => new((float*)_vectors + start * Dimension, count * Dimension);

    /// <summary>Stored float16 vectors of positions [start, start + count).</summary>
    public ReadOnlySpan<Half> VectorsFloat16(long start, int count) => new((Half*)_vectors + start * Dimension, count * Dimension);

    /// <summary>Raw children array of a level (for writing).</summary>
    internal ReadOnlySpan<int> ChildStarts(int level) => new((int*)_children[level], NodeCounts[level] + 1);

    /// <summary>Raw leaf starts (for writing).</summary>
    internal ReadOnlySpan<long> LeafStarts => new(_leafStart, LeafCount + 1);

    /// <summary>A tree over managed arrays (copied into pinned memory).</summary>
    public static ClusterTree FromArrays(int dimension, long rows, float[][] centroids, int[][] children, long[] leafStart, long[] ids, float[] inverseNorms)
    {
        var keep = new List<Array>();
        T* Pin<T>(T[] source)
            where T : unmanaged
        {
            var a = GC.AllocateUninitializedArray<T>(Math.Max(1, source.Length), pinned: true);
            source.CopyTo(a, 0);
            keep.Add(a);
            return (T*)Unsafe.AsPointer(ref a[0]);
        }

        int levels = centroids.Length;
        var counts = new int[levels];
        var c = new nint[levels];
        var ch = new nint[Math.Max(0, levels - 1)];
        for (int l = 0; l < levels; l++)
        {
            counts[l] = centroids[l].Length / dimension;
            c[l] = (nint)Pin(centroids[l]);
            if (l < levels - 1) ch[l] = (nint)Pin(children[l]);
        }

        return new ClusterTree(dimension, rows, counts, c, ch, Pin(leafStart), Pin(ids), Pin(inverseNorms), StoredVectors.None, null, keep, null);
    }

    /// <summary>A tree over a mapped file; <paramref name="offsets"/> come from <see cref="ClusterIndexFormat"/>.</summary>
    public static ClusterTree FromMapping(MappedFile mapping, int dimension, long rows, int[] nodeCounts, ClusterIndexFormat.Layout offsets, StoredVectors stored)
    {
        byte* p = mapping.Pointer;
        int levels = nodeCounts.Length;
        var c = new nint[levels];
        var ch = new nint[levels - 1];
        for (int l = 0; l < levels; l++)
        {
            c[l] = (nint)(p + offsets.Centroids[l]);
            if (l < levels - 1) ch[l] = (nint)(p + offsets.Children[l]);
        }

        return new ClusterTree(
            dimension, rows, nodeCounts, c, ch,
            (long*)(p + offsets.LeafStart), (long*)(p + offsets.Ids), (float*)(p + offsets.InverseNorms),
            stored, stored == StoredVectors.None ? null : p + offsets.Vectors, null, mapping);
    }

    /// <summary>The element type of stored vectors.</summary>
    public FeatureElementType StoredElementType => Stored == StoredVectors.Float16 ? FeatureElementType.Float16 : FeatureElementType.Float32;

    public void Dispose()
    {
        _mapping?.Dispose();
        GC.KeepAlive(_keepAlive);
    }
}
