using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GeoToken.Data;
using GeoToken.Progress;

namespace GeoToken.Retrieval;

// Building the tree: hierarchical spherical k-means over the gallery, level by level, and the build description.
public sealed partial class ClusterIndex
{
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
}
