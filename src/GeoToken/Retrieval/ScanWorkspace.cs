using System.Runtime.CompilerServices;
using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>
/// One worker's buffers for scoring blocks of queries against blocks of gallery rows: query rows
/// (unit length, float32), the packed gallery block, the score tile and gather buffers. Pinned, so
/// the kernel addresses them by pointer.
/// </summary>
internal sealed unsafe class ScanWorkspace
{
    /// <summary>Queries per kernel call (a multiple of 6).</summary>
    public const int DefaultQueryTile = 192;

    /// <summary>Gallery rows per packed block (a multiple of 16).</summary>
    public const int DefaultRowTile = 256;

    private readonly float* _queries;
    private readonly float[] _queryArray;
    private TopKHeaps? _heaps;

    public ScanWorkspace(int dimension, int queryCapacity, int queryTile = DefaultQueryTile, int rowTile = DefaultRowTile)
    {
        Dimension = dimension;
        QueryTile = queryTile;
        RowTile = rowTile;
        QueryCapacity = Math.Max(queryCapacity, queryTile);
        _queryArray = GC.AllocateUninitializedArray<float>(checked(QueryCapacity * dimension), pinned: true);
        _queries = (float*)Unsafe.AsPointer(ref _queryArray[0]);
        Packed = GC.AllocateUninitializedArray<float>(InnerProductKernel.PackedLength(rowTile, dimension), pinned: true);
        Ldc = InnerProductKernel.RoundUp(rowTile, InnerProductKernel.Nr);
        Scores = GC.AllocateUninitializedArray<float>(InnerProductKernel.RoundUp(queryTile, InnerProductKernel.Mr) * Ldc, pinned: true);
        QueryRows = new nint[queryTile];
        Rows = new float[(long)rowTile * dimension];
        Slots = new int[queryTile];
    }

    public int Dimension { get; }

    public int QueryTile { get; }

    public int RowTile { get; }

    public int QueryCapacity { get; }

    /// <summary>Query vectors (unit length), <see cref="QueryCapacity"/> rows.</summary>
    public Span<float> Queries => _queryArray;

    /// <summary>Addresses of the queries of the current tile.</summary>
    public nint[] QueryRows { get; }

    /// <summary>Heap slots of the queries of the current tile.</summary>
    public int[] Slots { get; }

    public float[] Packed { get; }

    public float[] Scores { get; }

    public int Ldc { get; }

    /// <summary>A gather buffer of <see cref="RowTile"/> float32 rows.</summary>
    public float[] Rows { get; }

    /// <summary>The address of stored query <paramref name="i"/>.</summary>
    public nint QueryAddress(int i) => (nint)(_queries + (long)i * Dimension);

    /// <summary>Heaps for <paramref name="queries"/> queries of <paramref name="k"/> neighbors (reused when the shape fits).</summary>
    public TopKHeaps Heaps(int queries, int k)
    {
        if (_heaps is null || _heaps.K != k || _heaps.Capacity < queries) _heaps = new TopKHeaps(Math.Max(queries, QueryTile), k);
        return _heaps;
    }

    /// <summary>Loads, validates and normalises queries [start, start + count) into <see cref="Queries"/> from row 0.</summary>
    public void LoadQueries(FeatureMatrix queries, long start, int count)
    {
        if (count > QueryCapacity) throw new ArgumentOutOfRangeException(nameof(count));
        VectorNorms.ReadNormalized(queries, "query", start, count, _queryArray, default);
    }

    /// <summary>Packs a block of float32 rows.</summary>
    public void Pack(ReadOnlySpan<float> rows, int n) => InnerProductKernel.Pack(rows, n, Dimension, Packed);

    /// <summary>Packs a block of float16 rows.</summary>
    public void Pack(ReadOnlySpan<Half> rows, int n) => InnerProductKernel.Pack(rows, n, Dimension, Packed);

    /// <summary>Packs a block of rows of <paramref name="matrix"/>.</summary>
    public void Pack(FeatureMatrix matrix, long start, int n)
    {
        if (matrix.ElementType == FeatureElementType.Float32) Pack(matrix.GetFloat32Rows(start, n), n);
        else Pack(matrix.GetFloat16Rows(start, n), n);
    }

    /// <summary>
    /// Scores the <paramref name="m"/> queries at <see cref="QueryRows"/> against the <paramref name="n"/>
    /// packed rows and offers the similarities <c>dot·scale[j]</c> to heap slots <see cref="Slots"/>
    /// (or <paramref name="slotBase"/> + 0..m−1 when <paramref name="identitySlots"/>) with ids
    /// <c>ids[j]</c> or <c>idBase + j</c>.
    /// </summary>
    public void MultiplyAndOffer(int m, int n, ReadOnlySpan<float> scale, long idBase, ReadOnlySpan<long> ids, TopKHeaps heaps, bool identitySlots, int slotBase = 0)
    {
        InnerProductKernel.Multiply(QueryRows, m, Packed, n, Dimension, Scores, Ldc);
        for (int i = 0; i < m; i++)
        {
            heaps.Offer(identitySlots ? slotBase + i : Slots[i], Scores.AsSpan(i * Ldc, n), scale, idBase, ids);
        }
    }
}
