using System.Collections.Concurrent;
using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>
/// Approximate search through a hierarchical k-means tree (spherical k-means on unit vectors). The
/// top level has <see cref="ClusterIndexOptions.Clusters"/> clusters (default 800); each deeper
/// level splits every cluster into children. A query descends with a <em>beam</em>: at every
/// level it keeps the <see cref="SearchOptions.Probes"/>[l] best clusters among the children of the
/// clusters it kept one level up (greedy top-1 descent is all ones), then compares itself with
/// every gallery row of the kept leaves that lie within <see cref="SearchOptions.LeafMargin"/> of its
/// best leaf (the default beam and margin are calibrated at build time). Queries of a block are grouped by cluster so that each
/// cluster's rows are multiplied with all the queries visiting it by the same GEMM kernel as exact
/// search: similarities are bit-identical to <see cref="ExactIndex"/>'s, only fewer rows are compared.
/// </summary>
/// <remarks>
/// Build with <see cref="Build"/> (in memory) and <see cref="Save"/>, or <see cref="BuildFile"/>;
/// load with <see cref="Open"/>, which memory-maps the file and checks that it was built for the
/// given gallery (<see cref="GalleryFingerprint"/>). Dispose to release the map.
/// </remarks>
public sealed partial class ClusterIndex : NeighborIndex
{
    private readonly ClusterTree _tree;
    private readonly GalleryFingerprint _fingerprint;
    private int[] _defaultProbes;
    private double? _defaultLeafMargin;
    private readonly bool _storeVectorsOnSave;
    private readonly ConcurrentBag<Worker> _pool = [];

    private ClusterIndex(FeatureMatrix gallery, ClusterTree tree, GalleryFingerprint fingerprint, int[] defaultProbes, double? defaultLeafMargin, bool storeVectorsOnSave, string buildInfo, string? path)
        : base(gallery)
    {
        _tree = tree;
        _fingerprint = fingerprint;
        _defaultProbes = defaultProbes;
        _defaultLeafMargin = defaultLeafMargin;
        _storeVectorsOnSave = storeVectorsOnSave;
        BuildInfo = buildInfo;
        Path = path;
    }

    /// <inheritdoc/>
    public override string Method => "cluster";

    /// <summary>Tree depth.</summary>
    public int Levels => _tree.Levels;

    /// <summary>Clusters per level, top first; the last entry counts the leaves.</summary>
    public IReadOnlyList<int> NodesPerLevel => _tree.NodeCounts;

    /// <summary>The beam widths used when <see cref="SearchOptions.Probes"/> is null.</summary>
    public IReadOnlyList<int> DefaultProbes => _defaultProbes;

    /// <summary>
    /// The leaf margin used with the default beam (when both <see cref="SearchOptions.Probes"/> and
    /// <see cref="SearchOptions.LeafMargin"/> are null); null scans every leaf of the beam.
    /// </summary>
    public double? DefaultLeafMargin => _defaultLeafMargin;

    /// <summary>Whether leaf rows are read from a copy stored in the index file (true) or gathered from the gallery (false).</summary>
    public bool StoresVectors => _tree.Stored != StoredVectors.None;

    /// <summary>The file the index was opened from (null if built in memory).</summary>
    public string? Path { get; }

    /// <summary>Build options, calibration and timings (JSON).</summary>
    public string BuildInfo { get; private set; }

    /// <summary>Rows of each leaf (for diagnostics and benchmarks).</summary>
    public long[] LeafSizes()
    {
        var sizes = new long[_tree.LeafCount];
        for (int j = 0; j < sizes.Length; j++)
        {
            var (s, e) = _tree.Leaf(j);
            sizes[j] = e - s;
        }

        return sizes;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _tree.Dispose();
        base.Dispose(disposing);
    }

    private protected override GalleryFingerprint ComputeFingerprint() => _fingerprint;
}
