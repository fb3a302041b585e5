using GeoToken.Progress;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GeoToken.Data;
using GeoToken.IO;

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
public sealed class ClusterIndex : NeighborIndex
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

    /// <summary>
    /// Builds the tree for <paramref name="gallery"/>: validates every row, trains the top level by
    /// mini-batch spherical k-means (k-means++ seeding) on a sample, assigns every row to its
    /// nearest top-level centroid with the GEMM kernel, then splits clusters level by level.
    /// </summary>
    /// <exception cref="ArgumentException">The gallery is empty, options are invalid, or there are fewer rows than clusters.</exception>
    /// <exception cref="InvalidVectorException">A gallery row is zero or not finite.</exception>
    public static ClusterIndex Build(FeatureMatrix gallery, ClusterIndexOptions? options = null, IProgress<IndexBuildProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gallery);
        options ??= new ClusterIndexOptions();
        Validate(gallery, options);
        var clock = Stopwatch.StartNew();
        int d = gallery.Columns, threads = options.Threads;
        long rows = gallery.Rows;
        var rng = new Random(options.Seed);

        progress?.Report(new IndexBuildProgress(IndexBuildStage.ValidatingGallery, 0, rows));
        float[] inverseNorms = VectorNorms.InverseNorms(gallery, "gallery", threads, cancellationToken);
        progress?.Report(new IndexBuildProgress(IndexBuildStage.ValidatingGallery, rows, rows));
        var fingerprint = GalleryFingerprint.Compute(gallery);

        // Calibration rows are held out of every k-means training set, so that as queries they
        // behave like unseen images rather than points the centroids were fitted to.
        bool calibrate = options.DefaultProbes is null && options.DefaultLeafMargin is null && options.CalibrationRecall is not null && rows > options.CalibrationK + 1;
        int[] calibrationRows = calibrate ? SphericalKMeans.SampleWithoutReplacement(rows, (int)Math.Min(rows / 2, options.CalibrationQueries), new Random(DerivedSeed.Combine(options.Seed, 77))) : [];
        bool[]? heldOut = null;
        if (calibrationRows.Length > 0)
        {
            heldOut = new bool[rows];
            foreach (int r in calibrationRows) heldOut[r] = true;
        }

        // Top level: k-means on a sample.
        int sampleSize = (int)Math.Min(rows, options.TrainingSampleSize ?? 256L * options.Clusters);
        int[] sampleRows = SphericalKMeans.SampleWithoutReplacement(rows, sampleSize, rng);
        if (heldOut is not null && sampleRows.Count(r => !heldOut[r]) >= options.Clusters)
        {
            sampleRows = sampleRows.Where(r => !heldOut[r]).ToArray();
            sampleSize = sampleRows.Length;
        }

        var sample = new float[(long)sampleSize * d];
        ReadUnitRows(gallery, sampleRows, sample, progress, cancellationToken);
        var settings = new SphericalKMeans.Settings(options.MiniBatchSize, options.Epochs, options.RefinementIterations, threads);
        float[] top = SphericalKMeans.Train(sample, sampleSize, d, options.Clusters, settings, rng, cancellationToken, (stage, done, total) => progress?.Report(new IndexBuildProgress(stage, done, total)));
        sample = [];
        int topCount = top.Length / d;
        var assignProgress = progress.Map((SearchProgress p) => new IndexBuildProgress(IndexBuildStage.Assigning, p.QueriesDone, p.QueryCount));
        var assigned = SphericalKMeans.Assign(gallery, top, topCount, d, threads, cancellationToken, assignProgress);
        var labels = new int[rows];
        for (long r = 0; r < rows; r++) labels[r] = (int)assigned.Indices[(int)r];
        assigned = null;

        // Level 0 nodes: non-empty clusters, members ascending.
        var members = GroupRows(labels, topCount, out var keptTop);
        var centroids = new List<float[]> { Gather(top, keptTop, d) };
        var children = new List<int[]>();
        var nodeMembers = members;

        for (int level = 1; level < options.Levels; level++)
        {
            int remaining = options.Levels - level;
            var parents = nodeMembers;
            var split = new (float[] Centroids, int[][] Members)[parents.Length];
            long done = 0;
            Parallelism.For(parents.Length, threads, cancellationToken, u =>
            {
                var rowsOfU = parents[u];
                int branching = (int)Math.Clamp(Math.Round(Math.Pow(rowsOfU.Length / (double)options.LeafSize, 1.0 / remaining)), 1, rowsOfU.Length);
                split[u] = Split(gallery, rowsOfU, branching, d, options, heldOut, new Random(DerivedSeed.Combine(options.Seed, level, u)), cancellationToken);
                long n = Interlocked.Increment(ref done);
                if ((n & 15) == 0 || n == parents.Length) progress?.Report(new IndexBuildProgress(IndexBuildStage.Splitting, n, parents.Length));
            });

            var starts = new int[parents.Length + 1];
            var next = new List<int[]>();
            var levelCentroids = new List<float>();
            for (int u = 0; u < parents.Length; u++)
            {
                starts[u] = next.Count;
                next.AddRange(split[u].Members);
                levelCentroids.AddRange(split[u].Centroids);
            }

            starts[^1] = next.Count;
            children.Add(starts);
            centroids.Add(levelCentroids.ToArray());
            nodeMembers = next.ToArray();
        }

        // Leaves → permutation.
        var leafStart = new long[nodeMembers.Length + 1];
        var ids = new long[rows];
        var norms = new float[rows];
        long at = 0;
        for (int j = 0; j < nodeMembers.Length; j++)
        {
            leafStart[j] = at;
            foreach (int r in nodeMembers[j])
            {
                ids[at] = r;
                norms[at] = inverseNorms[r];
                at++;
            }
        }

        leafStart[^1] = at;
        var tree = ClusterTree.FromArrays(d, rows, centroids.ToArray(), children.ToArray(), leafStart, ids, norms);
        int[] probes = options.DefaultProbes is { } p ? [.. p] : HeuristicProbes(tree.NodeCounts);
        CheckProbes(probes, tree.NodeCounts, "DefaultProbes");
        var index = new ClusterIndex(gallery, tree, fingerprint, probes, options.DefaultLeafMargin, options.StoreVectors, "{}", null);
        Calibration? calibration = null;
        if (calibrationRows.Length > 0)
        {
            calibration = index.Calibrate(inverseNorms, calibrationRows, options.CalibrationRecall!.Value, options, progress, cancellationToken);
            (index._defaultProbes, index._defaultLeafMargin) = (calibration.Probes, calibration.LeafMargin);
        }

        index.BuildInfo = DescribeBuild(options, sampleSize, tree.NodeCounts, index._defaultProbes, index._defaultLeafMargin, calibration, clock.Elapsed, gallery);
        return index;
    }

    /// <summary>What build-time calibration chose, and the recall and scanned fraction it measured on the calibration queries.</summary>
    private sealed record Calibration(int[] Probes, double? LeafMargin, double Recall, double Scanned, int[] FixedProbes, double FixedRecall, double FixedScanned);

    /// <summary>
    /// Calibrates the default search on the held-out gallery rows <paramref name="picks"/> used as queries (each
    /// excluding itself) against exact search. First the narrowest fixed leaf beam (upper levels: see
    /// <see cref="ProbesForLeafBeam"/>) whose recall@K reaches <paramref name="target"/>; then, over a beam
    /// <see cref="MarginBeamFactor"/> times as wide, the smallest leaf margin reaching the target. The margin is
    /// kept when it scans fewer rows than the fixed beam.
    /// </summary>
    private Calibration Calibrate(float[] inverseNorms, int[] picks, double target, ClusterIndexOptions options, IProgress<IndexBuildProgress>? progress, CancellationToken cancellationToken)
    {
        int d = Gallery.Columns, k = options.CalibrationK;
        int n = picks.Length;
        var data = new float[(long)n * d];
        for (int i = 0; i < n; i++) Gallery.ReadRow(picks[i], data.AsSpan(i * d, d));
        var queries = FeatureMatrix.FromArray(data, d);
        var search = new SearchOptions { K = k + 1, MaxDegreeOfParallelism = options.Threads };

        progress?.Report(new IndexBuildProgress(IndexBuildStage.Calibrating, 0, 1));
        using var exact = ExactIndex.CreateTrusted(Gallery, inverseNorms);
        var truth = WithoutSelf(exact.Search(queries, search, cancellationToken), picks, k);

        int leaves = _tree.LeafCount;
        int evaluations = 0;
        (double Recall, double Scanned) Measure(int leafProbes, double? margin)
        {
            var results = Search(queries, search with { Probes = ProbesFor(leafProbes, _tree.NodeCounts), LeafMargin = margin }, cancellationToken);
            var found = WithoutSelf(results, picks, k);
            long hits = 0;
            for (int i = 0; i < n; i++)
            {
                var t = truth.AsSpan(i * k, k);
                foreach (long id in found.AsSpan(i * k, k)) hits += t.Contains(id) ? 1 : 0;
            }

            progress?.Report(new IndexBuildProgress(IndexBuildStage.Calibrating, ++evaluations, evaluations + 1));
            return (hits / (double)(n * k), results.Statistics?.ScannedFraction ?? 1.0);
        }

        // Fixed beam: doubling, then bisection to within 1/16 of the beam.
        var fixedCache = new Dictionary<int, (double Recall, double Scanned)>();
        (double Recall, double Scanned) Fixed(int p) => fixedCache.TryGetValue(p, out var known) ? known : fixedCache[p] = Measure(p, null);
        int lo = 0, hi = leaves;
        for (int p = 1; p < leaves; p *= 2)
        {
            if (Fixed(p).Recall >= target)
            {
                hi = p;
                break;
            }

            lo = p;
        }

        while (hi - lo > Math.Max(1, hi / 16))
        {
            int mid = (lo + hi) / 2;
            if (Fixed(mid).Recall >= target) hi = mid;
            else lo = mid;
        }

        var fixedResult = Fixed(hi);
        int[] fixedProbes = ProbesFor(hi, _tree.NodeCounts);
        var chosen = new Calibration(fixedProbes, null, fixedResult.Recall, fixedResult.Scanned, fixedProbes, fixedResult.Recall, fixedResult.Scanned);

        // Margin over a wider beam: bisection on the margin (recall grows with it: a wider margin scans a superset).
        int wide = Math.Min(leaves, (int)Math.Ceiling(MarginBeamFactor * hi));
        if (wide > hi)
        {
            double mlo = 0, mhi = 2; // cosine differences never exceed 2: margin 2 keeps the whole beam
            var best = Measure(wide, mhi);
            if (best.Recall >= target)
            {
                while (mhi - mlo > 0.005)
                {
                    double mid = (mlo + mhi) / 2;
                    var r = Measure(wide, mid);
                    if (r.Recall >= target) (mhi, best) = (mid, r);
                    else mlo = mid;
                }

                if (best.Scanned < fixedResult.Scanned)
                {
                    chosen = chosen with { Probes = ProbesFor(wide, _tree.NodeCounts), LeafMargin = Math.Round(mhi, 4), Recall = best.Recall, Scanned = best.Scanned };
                }
            }
        }

        progress?.Report(new IndexBuildProgress(IndexBuildStage.Calibrating, evaluations, evaluations));
        return chosen;
    }

    /// <summary>
    /// How much wider than the narrowest sufficient fixed beam the beam is that build-time calibration prunes with a
    /// leaf margin (see <see cref="SearchOptions.LeafMargin"/>).
    /// </summary>
    private const double MarginBeamFactor = 1.5;

    // K neighbors per query after dropping the query's own gallery row (or the last one if absent).
    private static long[] WithoutSelf(NeighborResults results, int[] self, int k)
    {
        var kept = new long[(long)self.Length * k];
        for (int i = 0; i < self.Length; i++)
        {
            int o = 0;
            foreach (long id in results.IndicesOf(i))
            {
                if (id == self[i] || o == k) continue;
                kept[i * k + o++] = id;
            }
        }

        return kept;
    }

    /// <summary>
    /// How much wider than the beam below each upper level's beam is, in children: with the default 10, a leaf beam
    /// of 400 of 15,600 leaves under 800 top clusters keeps the best 206 top clusters (≈ 4,000 leaf centroids
    /// compared). Upper-level centroids are few and cheap to compare; a wide upper beam lets the leaf beam take the
    /// globally nearest leaves, which scans fewer gallery rows for the same recall than a narrow one (measured in
    /// benchmarks/peers/retrieval_compare.sh).
    /// </summary>
    public const double UpperBeamFactor = 10;

    /// <summary>
    /// Beam widths (top level first) for a leaf beam of <paramref name="leafProbes"/>: each level above keeps about
    /// <paramref name="upperBeamFactor"/> times as many children as the beam below (see <see cref="UpperBeamFactor"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="upperBeamFactor"/> is below 1.</exception>
    public int[] ProbesForLeafBeam(int leafProbes, double upperBeamFactor = UpperBeamFactor) => ProbesFor(leafProbes, _tree.NodeCounts, upperBeamFactor);

    internal static int[] ProbesFor(int leafProbes, int[] nodeCounts, double upperBeamFactor = UpperBeamFactor)
    {
        if (!(upperBeamFactor >= 1)) throw new ArgumentOutOfRangeException(nameof(upperBeamFactor), upperBeamFactor, "The upper beam factor must be at least 1.");
        var p = new int[nodeCounts.Length];
        p[^1] = Math.Clamp(leafProbes, 1, nodeCounts[^1]);
        for (int l = nodeCounts.Length - 2; l >= 0; l--)
        {
            p[l] = Math.Clamp((int)Math.Ceiling(upperBeamFactor * p[l + 1] * nodeCounts[l] / nodeCounts[l + 1]), 1, nodeCounts[l]);
        }

        return p;
    }

    /// <summary>Builds the index for <paramref name="gallery"/> and writes it to <paramref name="path"/> (atomically) in one call.</summary>
    public static IndexBuildReport BuildFile(FeatureMatrix gallery, string path, ClusterIndexOptions? options = null, IProgress<IndexBuildProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        using var index = Build(gallery, options, progress, cancellationToken);
        var built = clock.Elapsed;
        index.Save(path, progress, cancellationToken);
        return new IndexBuildReport
        {
            Path = System.IO.Path.GetFullPath(path),
            Rows = gallery.Rows,
            NodesPerLevel = index.NodesPerLevel,
            DefaultProbes = index.DefaultProbes,
            DefaultLeafMargin = index.DefaultLeafMargin,
            BuildTime = built,
            WriteTime = clock.Elapsed - built,
            FileBytes = new FileInfo(path).Length,
        };
    }

    /// <summary>
    /// Writes the index to <paramref name="path"/> atomically (temporary file + rename), with a copy
    /// of the gallery vectors in leaf order if <see cref="ClusterIndexOptions.StoreVectors"/> was set.
    /// </summary>
    public void Save(string path, IProgress<IndexBuildProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        var stored = !_storeVectorsOnSave ? StoredVectors.None : Gallery.ElementType == FeatureElementType.Float16 ? StoredVectors.Float16 : StoredVectors.Float32;
        AtomicFile.Write(path, stream => ClusterIndexFormat.Write(stream, _tree, Gallery, _fingerprint, _defaultProbes, _defaultLeafMargin, stored, BuildInfo, progress, cancellationToken));
    }

    /// <summary>
    /// Memory-maps the index at <paramref name="path"/> for <paramref name="gallery"/>. The file's
    /// structure and metadata checksum are verified, and the gallery must match the fingerprint
    /// recorded at build time.
    /// </summary>
    /// <exception cref="IndexFormatException">The file is not a cluster index, has another version, or is damaged.</exception>
    /// <exception cref="GalleryMismatchException">The index was built for another gallery.</exception>
    public static ClusterIndex Open(string path, FeatureMatrix gallery)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(gallery);
        var mapping = IndexFileMapping.Open(path);
        try
        {
            var (header, layout) = ClusterIndexFormat.Read(path, mapping);
            var expected = header.Fingerprint;
            var actual = GalleryFingerprint.Compute(gallery, expected.SampleRows);
            if (actual != expected)
            {
                string why = actual.Rows != expected.Rows || actual.Columns != expected.Columns
                    ? $"it was built for a {expected.Rows} × {expected.Columns} gallery, this one is {actual.Rows} × {actual.Columns}"
                    : actual.ElementType != expected.ElementType
                        ? $"it was built for a {expected.ElementType} gallery, this one stores {actual.ElementType}"
                        : "the gallery has the same shape but different content (the hash of sampled rows differs)";
                throw new GalleryMismatchException($"The index {path} does not belong to this gallery: {why}. Expected {expected}; got {actual}. Rebuild the index for this gallery (geotoken index).", expected, actual);
            }

            var tree = ClusterTree.FromMapping(mapping, header.Dimension, header.Rows, header.NodeCounts, layout, header.Stored);
            string info = ClusterIndexFormat.ReadBuildInfo(mapping, layout);
            return new ClusterIndex(gallery, tree, expected, header.DefaultProbes, header.DefaultLeafMargin, header.Stored != StoredVectors.None, info, System.IO.Path.GetFullPath(path));
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _tree.Dispose();
        base.Dispose(disposing);
    }

    private protected override GalleryFingerprint ComputeFingerprint() => _fingerprint;

    private protected override void ValidateOptions(SearchOptions options)
    {
        if (options.Probes is { } p) CheckProbes(p, _tree.NodeCounts, nameof(SearchOptions.Probes));
        if (options.LeafMargin is double m && !(m >= 0)) throw new ArgumentOutOfRangeException(nameof(options), m, "SearchOptions.LeafMargin must be zero or positive (a cosine difference; null uses the index's default).");
    }

    private protected override (long Compared, long Fallback) SearchBlock(FeatureMatrix queries, long start, int count, SearchOptions options, Span<long> ids, Span<float> similarities, CancellationToken cancellationToken)
    {
        int k = options.K, threads = options.Threads;
        int[] probes = options.Probes is { } p ? [.. p] : _defaultProbes;
        double? margin = options.LeafMargin ?? (options.Probes is null ? _defaultLeafMargin : null);
        float leafMargin = margin is double value && value < 2 ? (float)value : float.PositiveInfinity;
        int parts = Math.Max(1, Math.Min(threads, count / 64));
        var idArray = new long[(long)count * k];
        var simArray = new float[(long)count * k];
        long compared = 0, fallback = 0;
        Parallelism.For(parts, threads, cancellationToken, Rent, _pool.Add, (part, w) =>
        {
            int a = (int)(count * part / parts), b = (int)(count * (part + 1) / parts);
            var (c, f) = SearchPart(w, queries, start + a, b - a, k, probes, leafMargin, options.ExcludeSelf, idArray.AsSpan(a * k, (b - a) * k), simArray.AsSpan(a * k, (b - a) * k), cancellationToken);
            Interlocked.Add(ref compared, c);
            Interlocked.Add(ref fallback, f);
        });
        idArray.CopyTo(ids);
        simArray.CopyTo(similarities);
        return (compared, fallback);
    }

    private (long Compared, long Fallback) SearchPart(Worker w, FeatureMatrix queries, long q0, int m, int k, int[] probes, float leafMargin, bool excludeSelf, Span<long> ids, Span<float> similarities, CancellationToken cancellationToken)
    {
        var ws = w.Workspace(Gallery.Columns, m);
        ws.LoadQueries(queries, q0, m);
        var all = w.AllQueries(m);

        // Level 0: every query against every top-level centroid.
        var beam = w.Beam(0, m, probes[0]);
        beam.Reset(m);
        ScanRows(ws, all, _tree.Centroids(0, 0, _tree.NodeCounts[0]), _tree.NodeCounts[0], default, 0, default, beam, cancellationToken);

        // Deeper levels: each query against the children of its beam.
        for (int level = 1; level < _tree.Levels; level++)
        {
            var next = w.Beam(level, m, probes[level]);
            next.Reset(m);
            var (groupStart, groupQueries) = w.Group(beam, m, _tree.NodeCounts[level - 1]);
            for (int u = 0; u < _tree.NodeCounts[level - 1]; u++)
            {
                int gs = groupStart[u], ge = groupStart[u + 1];
                if (gs == ge) continue;
                var (cs, ce) = _tree.Children(level - 1, u);
                if (ce == cs) continue;
                ScanRows(ws, groupQueries.AsSpan(gs, ge - gs), _tree.Centroids(level, cs, ce - cs), ce - cs, default, cs, default, next, cancellationToken);
            }

            beam = next;
        }

        // Leaves: the gallery rows of each kept leaf against the queries that kept it.
        var results = w.Results(m, k);
        results.Reset(m);
        if (excludeSelf)
        {
            for (int i = 0; i < m; i++) results.Exclude(i, q0 + i);
        }

        long compared = 0;
        // Leaf margin: each query scans only the leaves of its beam within the margin of its best leaf (and
        // always enough leaves to hold its k neighbors, so a margin never forces the exhaustive fallback).
        if (!float.IsPositiveInfinity(leafMargin))
        {
            var order = w.Order(beam.K);
            long needed = k + (excludeSelf ? 1 : 0);
            for (int i = 0; i < m; i++) beam.DropBelowBest(i, leafMargin, LeafRows, needed, order);
        }

        var (leafGroupStart, leafGroupQueries) = w.Group(beam, m, _tree.LeafCount);
        for (int leaf = 0; leaf < _tree.LeafCount; leaf++)
        {
            int gs = leafGroupStart[leaf], ge = leafGroupStart[leaf + 1];
            if (gs == ge) continue;
            compared += ScanLeaf(ws, leafGroupQueries.AsSpan(gs, ge - gs), leaf, results, cancellationToken);
        }

        // Queries whose beam reached fewer than K rows: answer exactly (scan every leaf).
        long fallback = 0;
        for (int i = 0; i < m; i++)
        {
            if (results.IsFull(i)) continue;
            fallback++;
            results.ResetOne(i);
            int[] one = [i];
            for (int leaf = 0; leaf < _tree.LeafCount; leaf++) compared += ScanLeaf(ws, one, leaf, results, cancellationToken);
        }

        for (int i = 0; i < m; i++) results.Sort(i, ids.Slice(i * k, k), similarities.Slice(i * k, k));
        return (compared, fallback);
    }

    private long LeafRows(long leaf)
    {
        var (start, end) = _tree.Leaf((int)leaf);
        return end - start;
    }

    private long ScanLeaf(ScanWorkspace ws, ReadOnlySpan<int> group, int leaf, TopKHeaps results, CancellationToken cancellationToken)
    {
        var (ls, le) = _tree.Leaf(leaf);
        int d = Gallery.Columns;
        for (long v = ls; v < le; v += ws.RowTile)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(ws.RowTile, le - v);
            switch (_tree.Stored)
            {
                case StoredVectors.Float32:
                    ws.Pack(_tree.VectorsFloat32(v, n), n);
                    break;
                case StoredVectors.Float16:
                    ws.Pack(_tree.VectorsFloat16(v, n), n);
                    break;
                default:
                    var rowIds = _tree.Ids(v, n);
                    var buffer = ws.Rows.AsSpan(0, n * d);
                    for (int r = 0; r < n; r++)
                    {
                        if (Gallery.ElementType == FeatureElementType.Float32) Gallery.GetFloat32Rows(rowIds[r], 1).CopyTo(buffer.Slice(r * d, d));
                        else HalfConversion.Convert(Gallery.GetFloat16Rows(rowIds[r], 1), buffer.Slice(r * d, d));
                    }

                    ws.Pack(buffer, n);
                    break;
            }

            MultiplyGroup(ws, group, n, _tree.InverseNorms(v, n), 0, _tree.Ids(v, n), results);
        }

        return group.Length * (le - ls);
    }

    // The queries of `group` against `n` float32 rows (chunked by the row tile).
    private static void ScanRows(ScanWorkspace ws, ReadOnlySpan<int> group, ReadOnlySpan<float> rows, int n, ReadOnlySpan<float> scale, long idBase, ReadOnlySpan<long> ids, TopKHeaps heaps, CancellationToken cancellationToken)
    {
        int d = ws.Dimension;
        for (int v = 0; v < n; v += ws.RowTile)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int c = Math.Min(ws.RowTile, n - v);
            ws.Pack(rows.Slice(v * d, c * d), c);
            MultiplyGroup(ws, group, c, scale.IsEmpty ? default : scale.Slice(v, c), idBase + v, ids.IsEmpty ? default : ids.Slice(v, c), heaps);
        }
    }

    private static void MultiplyGroup(ScanWorkspace ws, ReadOnlySpan<int> group, int n, ReadOnlySpan<float> scale, long idBase, ReadOnlySpan<long> ids, TopKHeaps heaps)
    {
        for (int t = 0; t < group.Length; t += ws.QueryTile)
        {
            int m = Math.Min(ws.QueryTile, group.Length - t);
            for (int i = 0; i < m; i++)
            {
                int q = group[t + i];
                ws.QueryRows[i] = ws.QueryAddress(q);
                ws.Slots[i] = q;
            }

            ws.MultiplyAndOffer(m, n, scale, idBase, ids, heaps, identitySlots: false);
        }
    }

    private Worker Rent() => _pool.TryTake(out var w) ? w : new Worker();

    private static void Validate(FeatureMatrix gallery, ClusterIndexOptions o)
    {
        if (gallery.Rows == 0) throw new ArgumentException("The gallery is empty (0 rows); there is nothing to index.", nameof(gallery));
        if (gallery.Rows > int.MaxValue) throw new ArgumentException($"The gallery has {gallery.Rows} rows; the cluster index supports up to {int.MaxValue}.", nameof(gallery));
        if (o.Clusters < 1) throw new ArgumentOutOfRangeException(nameof(o), o.Clusters, "Clusters must be at least 1.");
        if (o.Clusters > gallery.Rows) throw new ArgumentOutOfRangeException(nameof(o), o.Clusters, $"Clusters = {o.Clusters} exceeds the gallery's {gallery.Rows} rows.");
        if (o.Levels < 1 || o.Levels > ClusterIndexFormat.MaxLevels) throw new ArgumentOutOfRangeException(nameof(o), o.Levels, $"Levels must be 1..{ClusterIndexFormat.MaxLevels}.");
        if (o.LeafSize < 1) throw new ArgumentOutOfRangeException(nameof(o), o.LeafSize, "LeafSize must be at least 1.");
        if (o.TrainingSampleSize is < 1) throw new ArgumentOutOfRangeException(nameof(o), o.TrainingSampleSize, "TrainingSampleSize must be at least 1.");
        if (o.TrainingSampleSize is int s && s < o.Clusters) throw new ArgumentOutOfRangeException(nameof(o), s, $"TrainingSampleSize = {s} is smaller than Clusters = {o.Clusters}.");
        if (o.MiniBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(o), o.MiniBatchSize, "MiniBatchSize must be at least 1.");
        if (o.Epochs < 0 || o.RefinementIterations < 0) throw new ArgumentOutOfRangeException(nameof(o), "Epochs and RefinementIterations must not be negative.");
        if (o.MaxDegreeOfParallelism is < 1) throw new ArgumentOutOfRangeException(nameof(o), o.MaxDegreeOfParallelism, "MaxDegreeOfParallelism must be at least 1.");
        if (o.DefaultLeafMargin is double margin && !(margin >= 0)) throw new ArgumentOutOfRangeException(nameof(o), margin, "DefaultLeafMargin must be zero or positive (a cosine difference).");
        if (o.CalibrationRecall is double r && !(r > 0 && r <= 1)) throw new ArgumentOutOfRangeException(nameof(o), r, "CalibrationRecall must be in (0, 1].");
        if (o.CalibrationQueries < 1 || o.CalibrationK < 1) throw new ArgumentOutOfRangeException(nameof(o), "CalibrationQueries and CalibrationK must be at least 1.");
        if (o.DefaultProbes is { } p && p.Count != o.Levels) throw new ArgumentException($"DefaultProbes has {p.Count} entries; the tree has {o.Levels} levels.", nameof(o));
    }

    private static void CheckProbes(IReadOnlyList<int> probes, int[] nodeCounts, string name)
    {
        if (probes.Count != nodeCounts.Length)
        {
            throw new ArgumentException($"{name} has {probes.Count} entries but the index has {nodeCounts.Length} levels; give one beam width per level, top first (e.g. [{string.Join(", ", HeuristicProbes(nodeCounts))}]).");
        }

        for (int l = 0; l < probes.Count; l++)
        {
            if (probes[l] < 1 || probes[l] > nodeCounts[l])
            {
                throw new ArgumentOutOfRangeException(name, probes[l], $"{name}[{l}] = {probes[l]} is outside 1..{nodeCounts[l]} (the clusters at level {l}).");
            }
        }
    }

    /// <summary>Uncalibrated default beam widths: the leaf beam covers about 2 % of the leaves (see <see cref="ProbesFor"/>).</summary>
    internal static int[] HeuristicProbes(int[] nodeCounts) => ProbesFor((int)Math.Ceiling(0.02 * nodeCounts[^1]), nodeCounts);

    private static (float[] Centroids, int[][] Members) Split(FeatureMatrix gallery, int[] rowsOfNode, int branching, int d, ClusterIndexOptions options, bool[]? heldOut, Random rng, CancellationToken cancellationToken)
    {
        var unit = new float[(long)rowsOfNode.Length * d];
        ReadUnitRows(gallery, rowsOfNode, unit, null, cancellationToken);

        // Training candidates: the members not held out for calibration (all members if too few remain).
        int[] candidates = Enumerable.Range(0, rowsOfNode.Length).Where(i => heldOut is null || !heldOut[rowsOfNode[i]]).ToArray();
        if (candidates.Length < Math.Max(1, branching)) candidates = Enumerable.Range(0, rowsOfNode.Length).ToArray();
        if (branching <= 1)
        {
            var mean = new float[d];
            foreach (int i in candidates) System.Numerics.Tensors.TensorPrimitives.Add(mean, unit.AsSpan(i * d, d), mean);
            SphericalKMeans.Normalize(mean);
            return (mean, [rowsOfNode]);
        }

        // Train on at most 256 rows per child.
        int trainRows = (int)Math.Min(candidates.Length, 256L * branching);
        var train = new float[(long)trainRows * d];
        var pick = trainRows < candidates.Length ? SphericalKMeans.SampleWithoutReplacement(candidates.Length, trainRows, rng) : Enumerable.Range(0, trainRows).ToArray();
        for (int i = 0; i < trainRows; i++) unit.AsSpan(candidates[pick[i]] * d, d).CopyTo(train.AsSpan(i * d, d));

        var settings = new SphericalKMeans.Settings(options.MiniBatchSize, options.Epochs, options.RefinementIterations, Threads: 1);
        float[] c = SphericalKMeans.Train(train, trainRows, d, branching, settings, rng, cancellationToken);
        int k = c.Length / d;
        var assigned = SphericalKMeans.Assign(FeatureMatrix.FromArray(unit, d), c, k, d, 1, cancellationToken);
        var labels = new int[rowsOfNode.Length];
        for (int i = 0; i < labels.Length; i++) labels[i] = (int)assigned.Indices[i];
        var groups = GroupRows(labels, k, out var kept);
        var members = new int[groups.Length][];
        for (int g = 0; g < groups.Length; g++)
        {
            members[g] = new int[groups[g].Length];
            for (int i = 0; i < groups[g].Length; i++) members[g][i] = rowsOfNode[groups[g][i]];
        }

        return (Gather(c, kept, d), members);
    }

    // Rows grouped by label (ascending within a group); empty labels are dropped and `kept` lists the others.
    private static int[][] GroupRows(int[] labels, int k, out int[] kept)
    {
        var counts = new int[k];
        foreach (int l in labels) counts[l]++;
        kept = Enumerable.Range(0, k).Where(c => counts[c] > 0).ToArray();
        var slot = new int[k];
        var groups = new int[kept.Length][];
        for (int g = 0; g < kept.Length; g++)
        {
            slot[kept[g]] = g;
            groups[g] = new int[counts[kept[g]]];
        }

        var fill = new int[kept.Length];
        for (int r = 0; r < labels.Length; r++)
        {
            int g = slot[labels[r]];
            groups[g][fill[g]++] = r;
        }

        return groups;
    }

    private static float[] Gather(float[] centroids, int[] kept, int d)
    {
        var result = new float[(long)kept.Length * d];
        for (int g = 0; g < kept.Length; g++) centroids.AsSpan(kept[g] * d, d).CopyTo(result.AsSpan(g * d, d));
        return result;
    }

    private static void ReadUnitRows(FeatureMatrix gallery, int[] rows, float[] destination, IProgress<IndexBuildProgress>? progress, CancellationToken cancellationToken)
    {
        int d = gallery.Columns;
        for (int i = 0; i < rows.Length; i++)
        {
            if ((i & 4095) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new IndexBuildProgress(IndexBuildStage.Sampling, i, rows.Length));
            }

            VectorNorms.ReadNormalized(gallery, "gallery", rows[i], 1, destination.AsSpan(i * d, d), default);
        }

        progress?.Report(new IndexBuildProgress(IndexBuildStage.Sampling, rows.Length, rows.Length));
    }

    private static string DescribeBuild(ClusterIndexOptions o, int sampleSize, int[] nodeCounts, int[] probes, double? leafMargin, Calibration? calibration, TimeSpan elapsed, FeatureMatrix gallery)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("library", "GeoToken.NET " + typeof(ClusterIndex).Assembly.GetName().Version);
            json.WriteString("created", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            json.WriteNumber("rows", gallery.Rows);
            json.WriteNumber("dimension", gallery.Columns);
            json.WriteNumber("clusters", o.Clusters);
            json.WriteNumber("levels", o.Levels);
            json.WriteNumber("leafSize", o.LeafSize);
            json.WriteNumber("trainingSample", sampleSize);
            json.WriteNumber("miniBatchSize", o.MiniBatchSize);
            json.WriteNumber("epochs", o.Epochs);
            json.WriteNumber("refinementIterations", o.RefinementIterations);
            json.WriteNumber("seed", o.Seed);
            json.WriteStartArray("nodesPerLevel");
            foreach (int c in nodeCounts) json.WriteNumberValue(c);
            json.WriteEndArray();
            json.WriteStartArray("defaultProbes");
            foreach (int p in probes) json.WriteNumberValue(p);
            json.WriteEndArray();
            if (leafMargin is double margin) json.WriteNumber("defaultLeafMargin", margin);
            if (calibration is not null)
            {
                json.WriteNumber("calibrationTarget", o.CalibrationRecall!.Value);
                json.WriteNumber("calibrationQueries", Math.Min(gallery.Rows, o.CalibrationQueries));
                json.WriteNumber("calibrationK", o.CalibrationK);
                json.WriteNumber("calibratedRecall", Math.Round(calibration.Recall, 4));
                json.WriteNumber("calibratedScannedFraction", Math.Round(calibration.Scanned, 5));
                json.WriteStartArray("fixedBeamProbes");
                foreach (int p in calibration.FixedProbes) json.WriteNumberValue(p);
                json.WriteEndArray();
                json.WriteNumber("fixedBeamRecall", Math.Round(calibration.FixedRecall, 4));
                json.WriteNumber("fixedBeamScannedFraction", Math.Round(calibration.FixedScanned, 5));
            }

            json.WriteNumber("buildSeconds", Math.Round(elapsed.TotalSeconds, 3));
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A search thread's reusable state.</summary>
    private sealed class Worker
    {
        private readonly List<TopKHeaps?> _beams = [];
        private ScanWorkspace? _workspace;
        private TopKHeaps? _results;
        private int[] _groupStart = [];
        private int[] _groupQueries = [];
        private int[] _all = [];

        private int[] _order = [];

        public int[] Order(int slots) => _order.Length >= slots ? _order : _order = new int[slots];

        public ScanWorkspace Workspace(int d, int queries)
        {
            if (_workspace is null || _workspace.Dimension != d || _workspace.QueryCapacity < queries) _workspace = new ScanWorkspace(d, queries);
            return _workspace;
        }

        public ReadOnlySpan<int> AllQueries(int m)
        {
            if (_all.Length < m) _all = Enumerable.Range(0, m).ToArray();
            return _all.AsSpan(0, m);
        }

        public TopKHeaps Beam(int level, int queries, int width)
        {
            while (_beams.Count <= level) _beams.Add(null);
            var h = _beams[level];
            if (h is null || h.K != width || h.Capacity < queries) _beams[level] = h = new TopKHeaps(queries, width);
            return h;
        }

        public TopKHeaps Results(int queries, int k)
        {
            if (_results is null || _results.K != k || _results.Capacity < queries) _results = new TopKHeaps(queries, k);
            return _results;
        }

        // Counting sort of the queries by the nodes in their beam.
        public (int[] Start, int[] Queries) Group(TopKHeaps beam, int m, int nodes)
        {
            if (_groupStart.Length < nodes + 1) _groupStart = new int[nodes + 1];
            if (_groupQueries.Length < m * beam.K) _groupQueries = new int[m * beam.K];
            var start = _groupStart;
            Array.Clear(start, 0, nodes + 1);
            for (int i = 0; i < m; i++)
            {
                foreach (long id in beam.Ids(i))
                {
                    if (id != TopKHeaps.EmptyId) start[id + 1]++;
                }
            }

            for (int u = 0; u < nodes; u++) start[u + 1] += start[u];
            var cursor = start.AsSpan(0, nodes).ToArray();
            for (int i = 0; i < m; i++)
            {
                foreach (long id in beam.Ids(i))
                {
                    if (id != TopKHeaps.EmptyId) _groupQueries[cursor[id]++] = i;
                }
            }

            return (start, _groupQueries);
        }
    }
}
