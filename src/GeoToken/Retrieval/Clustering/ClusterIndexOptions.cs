namespace GeoToken.Retrieval;

/// <summary>How <see cref="ClusterIndex.Build"/> builds the hierarchical k-means tree.</summary>
public sealed record ClusterIndexOptions
{
    /// <summary>Top-level clusters (default 800). At most the gallery's rows.</summary>
    public int Clusters { get; init; } = 800;

    /// <summary>
    /// Tree depth (default 2): 1 is a flat inverted file of <see cref="Clusters"/> lists; each further
    /// level splits every cluster by k-means into children, so that the leaves hold about
    /// <see cref="LeafSize"/> rows each.
    /// </summary>
    public int Levels { get; init; } = 2;

    /// <summary>Target mean rows per leaf cluster when <see cref="Levels"/> ≥ 2 (default 64).</summary>
    public int LeafSize { get; init; } = 64;

    /// <summary>Rows sampled (uniformly, without replacement) to train the top level; null (default) uses min(rows, 256 × Clusters).</summary>
    public int? TrainingSampleSize { get; init; }

    /// <summary>Rows per mini-batch k-means step (default 8192).</summary>
    public int MiniBatchSize { get; init; } = 8192;

    /// <summary>Passes of mini-batch k-means over the training sample (default 4).</summary>
    public int Epochs { get; init; } = 4;

    /// <summary>Full k-means (Lloyd) iterations over the sample after the mini-batches (default 2).</summary>
    public int RefinementIterations { get; init; } = 2;

    /// <summary>
    /// Whether <see cref="ClusterIndex.Save"/> stores a copy of the gallery vectors in leaf order in the
    /// index file (default true: leaves are scanned as contiguous memory and the gallery's own pages
    /// are never touched by search). False stores only the permutation and gathers rows from the
    /// gallery, for a file about 20× smaller.
    /// </summary>
    public bool StoreVectors { get; init; } = true;

    /// <summary>
    /// Default beam widths per level recorded in the index. Null (default, with <see cref="DefaultLeafMargin"/> null too) calibrates them (see
    /// <see cref="CalibrationRecall"/>), or derives them from the tree shape when calibration is off.
    /// </summary>
    public IReadOnlyList<int>? DefaultProbes { get; init; }

    /// <summary>
    /// Default leaf margin recorded in the index (see <see cref="SearchOptions.LeafMargin"/>). Null (default) lets
    /// calibration choose one (see <see cref="CalibrationRecall"/>), or none when calibration is off.
    /// </summary>
    public double? DefaultLeafMargin { get; init; }

    /// <summary>
    /// Calibration target (default 0.95): after building, <see cref="CalibrationQueries"/> random
    /// gallery rows are searched as queries (each excluding itself) exactly and through the tree, and
    /// the default beam is the narrowest reaching this recall@<see cref="CalibrationK"/> (upper levels
    /// as <see cref="ClusterIndex.ProbesForLeafBeam"/> widens them); then, over a beam 1.5 times as wide, the
    /// smallest <see cref="DefaultLeafMargin"/> reaching the target is found and kept if it scans fewer rows.
    /// Null skips calibration. Gallery rows
    /// stand in for queries, so recall on real queries may differ a little; measure it for your data.
    /// </summary>
    public double? CalibrationRecall { get; init; } = 0.95;

    /// <summary>Gallery rows used as calibration queries (default 1000).</summary>
    public int CalibrationQueries { get; init; } = 1000;

    /// <summary>Neighbors compared in calibration (default 10).</summary>
    public int CalibrationK { get; init; } = 10;

    /// <summary>
    /// Random seed (sampling, seeding, mini-batches). Default 42. The same gallery, options and seed
    /// give the same index in every process and on every thread count; only the build info's time
    /// stamps (<c>created</c>, <c>buildSeconds</c>) differ.
    /// </summary>
    public int Seed { get; init; } = 42;

    /// <summary>Worker threads; null (default) uses <see cref="Environment.ProcessorCount"/>.</summary>
    public int? MaxDegreeOfParallelism { get; init; }

    internal int Threads => MaxDegreeOfParallelism is int t ? t : Environment.ProcessorCount;
}
