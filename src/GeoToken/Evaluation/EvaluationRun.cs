using System.Diagnostics;
using GeoToken.Data;
using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Prediction;
using GeoToken.Tokens;
using GeoToken.Reranking;
using GeoToken.Retrieval;
using GeoToken.Uncertainty;
using Microsoft.Extensions.Logging;

namespace GeoToken.Evaluation;

/// <summary>
/// Evaluates every test-time strategy side by side on a query set (the <c>geotoken eval</c> command):
/// <c>knn</c> (top-1 neighbor), direct generators such as <c>gps-gallery</c>, <c>greedy</c>, <c>beam</c>,
/// the candidate pool reranked by each reranker, and the pool <c>oracle</c> (its best candidate: the headroom).
/// Per-image latency is measured for each strategy (pool building counts towards every reranker).
/// </summary>
/// <remarks>
/// Runs the stages of <see cref="GeoTokenPredictor"/> (one pipeline serves both) with the precomputed neighbor files as
/// the neighbor source: the encoder runs once per batch and greedy, the beams, the pool and the pool scorers (the
/// reward head) all decode from its kept output; its time counts towards every decoding strategy.
/// </remarks>
public static class EvaluationRun
{
    /// <summary>Runs the evaluation.</summary>
    public static async Task<EvaluationRunResult> RunAsync(EvaluationRunOptions options, IProgress<(int Done, int Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "BatchSize must be positive.");
        var logger = options.Logger ?? throw new ArgumentException("EvaluationRunOptions.Logger is null; leave it unset for no logging.", nameof(options));
        using var model = GeoTokenRuntimes.Open(options.ModelPath, options.Runtimes, cancellationToken);
        var info = model.Info;
        logger.LogInformation("Loaded the model {ModelPath} ({Description}) on {Runtime}", options.ModelPath, info.Description, model.Runtime);
        using var gallery = GeoDataset.Open(options.GalleryDirectory);
        using var queries = GeoDataset.Open(options.QueryDirectory);
        queries.CheckCompatibleWith(gallery);
        int k = info.NeighborCount;
        string prefix = NeighborCache.Ensure(queries, gallery, Math.Max(k, 1), options.Neighbors, null, cancellationToken);
        logger.LogInformation("Neighbors of {Queries} in {Gallery}: {Prefix}", options.QueryDirectory, options.GalleryDirectory, prefix);
        using var neighborFile = NeighborFile.Open(prefix);
        using var neighbors = new PrecomputedNeighborSearch(neighborFile, gallery);
        var galleryTokens = TokenTable.Build(gallery, new GeoTokenizer(info.Tokenizer), cancellationToken);
        var modalities = DatasetFeatureViews.Read(queries, info.ModalityCount, info.FeatureDimension, "query");
        int n = (int)Math.Min(options.MaxQueries ?? int.MaxValue, queries.Rows);
        if (n == 0) throw new InvalidOperationException($"{options.QueryDirectory} has no queries to evaluate.");

        bool rewardScored = options.Scorers.Any(s => s.Name == RewardReranker.ScorerName);
        IReadOnlyList<IReranker> rerankers = rewardScored && !options.Rerankers.Any(r => r is RewardReranker) ? [.. options.Rerankers, new RewardReranker()] : options.Rerankers;
        var pipeline = new GeoTokenPipeline(model, gallery, galleryTokens, neighbors, new GeoTokenPipelineOptions
        {
            Pool = options.Pool,
            Scorers = options.Scorers,
        }, logger);
        var names = new List<string> { "knn" };
        names.AddRange(options.Generators.Select(g => g.Name));
        names.Add("greedy");
        var beamNames = options.BeamSearches.Select(b => (b.Name, Options: b.Options with { Width = options.BeamWidth, ReturnCount = 1 })).ToArray();
        foreach (var b in beamNames) b.Options.Validate();
        names.AddRange(beamNames.Select(b => b.Name));
        names.AddRange(rerankers.Select(r => r.Name));
        names.Add("oracle");
        logger.LogInformation("Evaluating {Count} queries in batches of {BatchSize}: {Strategies}", n, options.BatchSize, string.Join(", ", names));
        var predictions = names.ToDictionary(s => s, _ => new LatLng[n]);
        var seconds = names.ToDictionary(s => s, _ => 0.0);
        var truth = new LatLng[n];
        var ids = new string[n];
        var rawRadii = new double[n];
        var fallbacks = new Dictionary<string, int>();
        int m = pipeline.M, d = pipeline.D;

        for (int done = 0; done < n;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int b = Math.Min(options.BatchSize, n - done);
            var flat = new float[(long)b * m * d];
            for (int i = 0; i < b; i++)
            {
                for (int v = 0; v < m; v++) modalities[v].ReadRow(done + i, flat.AsSpan((i * m + v) * d, d));
            }

            var found = await pipeline.NeighborsAsync(new NeighborQueries { Vectors = queries.Image, Start = done, Count = b, K = pipeline.SearchK }, cancellationToken).ConfigureAwait(false);
            var rows = Enumerable.Range(done, b).ToArray();
            var keys = rows.Select(r => (long)r).ToArray();
            var clock = Stopwatch.StartNew();
            using var batch = pipeline.Encode(flat, b, found, cancellationToken);
            double encodeSeconds = Lap(clock); // the encoder runs once per batch; every decoding strategy needs it

            var greedy = pipeline.Greedy(batch, cancellationToken);
            seconds["greedy"] += Lap(clock) + encodeSeconds;
            var beams = new IReadOnlyList<IReadOnlyList<DecodedSequence>>[beamNames.Length];
            for (int j = 0; j < beamNames.Length; j++)
            {
                beams[j] = pipeline.BeamSearch(batch, beamNames[j].Options, cancellationToken);
                seconds[beamNames[j].Name] += Lap(clock) + encodeSeconds;
            }

            var pools = pipeline.Pools(batch, keys, cancellationToken);
            var scores = pipeline.Score(batch, pools, cancellationToken);
            double poolSeconds = Lap(clock) + encodeSeconds;

            for (int i = 0; i < b; i++)
            {
                int row = rows[i];
                truth[row] = queries.GetLocation(row);
                ids[row] = queries.HasImageIds ? queries.GetImageId(row) : row.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var query = pipeline.Query(batch, i, queries.HasImageIds ? queries.GetImageId(row) : null, null, scores[i]);
                predictions["knn"][row] = query.Neighbors[0].Position;
                predictions["greedy"][row] = greedy[i].Position;
                for (int j = 0; j < beamNames.Length; j++) predictions[beamNames[j].Name][row] = beams[j][i][0].Position;
                var pool = pools[i];
                predictions["oracle"][row] = pool.MinBy(c => Geodesy.HaversineKm(c.Position, truth[row]))!.Position;

                clock.Restart();
                foreach (var g in options.Generators)
                {
                    predictions[g.Name][row] = (await g.GenerateAsync(query, 1, cancellationToken).ConfigureAwait(false))[0].Position;
                    seconds[g.Name] += Lap(clock);
                }

                foreach (var r in rerankers)
                {
                    var result = await pipeline.RerankAsync(r, query, pool, cancellationToken).ConfigureAwait(false);
                    predictions[r.Name][row] = result.Best.Candidate.Position;
                    seconds[r.Name] += Lap(clock) + poolSeconds / b;
                    foreach (var reason in result.FallbackReasons) fallbacks[reason] = fallbacks.GetValueOrDefault(reason) + 1;
                }

                var consensusChoice = predictions.TryGetValue("consensus", out var c) ? c[row] : predictions["greedy"][row];
                rawRadii[row] = GeoTokenPipeline.RawRadiusKm(consensusChoice, pool, options.UncertaintyMass);
                seconds["oracle"] += poolSeconds / b;
            }

            done += b;
            logger.LogDebug("Evaluated {Done} of {Count} queries", done, n);
            progress?.Report((done, n));
        }

        // kNN reads precomputed neighbor files, so it has no per-image latency here (see geotoken retrieve).
        var strategies = names.Select(s => StrategyEvaluation.Create(s, predictions[s], truth, s == "knn" ? null : 1000 * seconds[s] / n)).ToArray();
        var consensusErrors = strategies.First(s => s.Name == (predictions.ContainsKey("consensus") ? "consensus" : "greedy")).DistancesKm;
        return new EvaluationRunResult
        {
            Strategies = strategies,
            Truth = truth,
            ImageIds = ids,
            UncertaintyCalibration = RadiusCalibration.Fit(rawRadii, consensusErrors, options.UncertaintyMass),
            FallbackReasons = fallbacks,
            Model = info,
            Runtime = model.Runtime,
            EncoderRuns = pipeline.EncoderRuns,
        };
    }

    private static double Lap(Stopwatch clock)
    {
        double s = clock.Elapsed.TotalSeconds;
        clock.Restart();
        return s;
    }
}
