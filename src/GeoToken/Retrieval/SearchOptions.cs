namespace GeoToken.Retrieval;

/// <summary>Options of a nearest-neighbor search (<see cref="NeighborIndex.Search(GeoToken.Data.FeatureMatrix, SearchOptions, INeighborSink, IProgress{SearchProgress}?, CancellationToken)"/>).</summary>
public sealed record SearchOptions
{
    /// <summary>Neighbors per query (default 15, GeoToken's retrieval context). Must not exceed the gallery's rows (minus one with <see cref="ExcludeSelf"/>).</summary>
    public int K { get; init; } = 15;

    /// <summary>
    /// When the query set <em>is</em> the gallery (training neighbors: the training set searched
    /// against itself), never return query row i as a neighbor of itself. Exclusion is by row
    /// index only: exact duplicates stored in other rows are still returned. Requires the query
    /// matrix to have the gallery's shape and content fingerprint. Default false.
    /// </summary>
    public bool ExcludeSelf { get; init; }

    /// <summary>
    /// Cluster search only: the beam width per tree level, top level first — how many clusters are
    /// kept at each level and expanded into the next (the last entry is the number of leaf clusters
    /// scanned). All ones is the greedy top-1 descent. Null uses the index's defaults
    /// (<see cref="ClusterIndex.DefaultProbes"/>). Ignored by exact search.
    /// </summary>
    public IReadOnlyList<int>? Probes { get; init; }

    /// <summary>
    /// Cluster search only: after the descent, each query scans only those leaves of its beam whose centroid
    /// similarity is within this margin (a cosine difference, ≥ 0) of its best leaf's, so a query with one clearly
    /// nearest region scans fewer leaves than one between regions. Null uses the index's
    /// <see cref="ClusterIndex.DefaultLeafMargin"/> when <see cref="Probes"/> is null too, and no margin with an
    /// explicit beam; 2 or more (or <see cref="double.PositiveInfinity"/>) scans the whole beam. Ignored by exact search.
    /// </summary>
    public double? LeafMargin { get; init; }

    /// <summary>Queries per block handed to the sink (default 4096). Progress is reported and cancellation observed at least once per block.</summary>
    public int QueryBatchSize { get; init; } = 4096;

    /// <summary>Worker threads; null (default) uses <see cref="Environment.ProcessorCount"/>.</summary>
    public int? MaxDegreeOfParallelism { get; init; }

    internal int Threads => MaxDegreeOfParallelism is int t ? t : Environment.ProcessorCount;
}
