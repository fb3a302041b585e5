using System.Diagnostics;
using GeoToken.Data;
using GeoToken.Decoding;
using GeoToken.Evaluation;
using GeoToken.Geometry;
using GeoToken.Model.Decoding;
using GeoToken.Model.Training;
using GeoToken.Reranking;
using GeoToken.Retrieval;
using GeoToken.Uncertainty;

namespace GeoToken.Model.Evaluation;

/// <summary>
/// Evaluates every test-time strategy side by side on a query set (the <c>geotoken eval</c> command):
/// <c>knn</c> (top-1 neighbour), direct generators such as <c>gps-gallery</c>, <c>greedy</c>, <c>beam</c>,
/// the candidate pool reranked by each reranker, and the pool <c>oracle</c> (its best candidate: the headroom).
/// Per-image latency is measured for each strategy (pool building counts towards every reranker).
/// </summary>
public static class EvaluationRun
{
    /// <summary>Runs the evaluation.</summary>
    public static async Task<EvaluationRunResult> RunAsync(EvaluationRunOptions options, IProgress<(int Done, int Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "BatchSize must be positive.");
        using var model = GeoTokenModelFile.Load(options.ModelPath, TorchDevices.Parse(options.Device));
        model.eval();
        using var gallery = GeoDataset.Open(options.GalleryDirectory);
        using var queries = GeoDataset.Open(options.QueryDirectory);
        queries.CheckCompatibleWith(gallery);
        int k = model.Options.NeighborCount;
        string prefix = NeighborCache.Ensure(queries, gallery, Math.Max(k, 1), options.Neighbors, null, cancellationToken);
        using var neighbors = NeighborFile.Open(prefix);
        var tokenizer = model.Tokenizer;
        var galleryTokens = TokenTable.Build(gallery, tokenizer, cancellationToken);
        var queryTokens = TokenTable.Build(queries, tokenizer, cancellationToken);
        var source = new DatasetBatchSource(queries, gallery, neighbors, galleryTokens, queryTokens, model.Options,
            new DatasetBatchSourceOptions { Prefetch = 0, MaxRows = options.MaxQueries });
        int n = source.Count;
        if (n == 0) throw new InvalidOperationException($"{options.QueryDirectory} has no queries to evaluate.");

        using var reward = options.RewardHeadPath is null ? null : Reranking.RewardHeadFile.Load(options.RewardHeadPath, model.Device);
        IReadOnlyList<IReranker> rerankers = reward is not null && !options.Rerankers.Any(r => r is RewardReranker) ? [.. options.Rerankers, new RewardReranker()] : options.Rerankers;
        var search = new GeoTokenSearch(model);
        var poolBuilder = new CandidatePoolBuilder(model, options.Pool);
        var names = new List<string> { "knn" };
        names.AddRange(options.Generators.Select(g => g.Name));
        names.Add("greedy");
        var beamNames = options.BeamSearches.Select(b => (b.Name, Options: b.Options with { Width = options.BeamWidth, ReturnCount = 1 })).ToArray();
        foreach (var b in beamNames) b.Options.Validate();
        names.AddRange(beamNames.Select(b => b.Name));
        names.AddRange(rerankers.Select(r => r.Name));
        names.Add("oracle");
        var predictions = names.ToDictionary(s => s, _ => new LatLng[n]);
        var seconds = names.ToDictionary(s => s, _ => 0.0);
        var truth = new LatLng[n];
        var ids = new string[n];
        var rawRadii = new double[n];
        var fallbacks = new Dictionary<string, int>();
        var modalities = FeatureModalities.All.Take(model.Options.ModalityCount).Select(queries.GetFeatures).ToArray();

        var order = Enumerable.Range(0, n).ToArray();
        int done = 0;
        foreach (var batch in source.ReadBatches(order, options.BatchSize, cancellationToken))
        {
            using (batch)
            {
                int b = batch.Count;
                var rows = Enumerable.Range(done, b).ToArray();
                var keys = rows.Select(r => (long)r).ToArray();
                var clock = Stopwatch.StartNew();

                var greedy = search.Greedy(batch, cancellationToken: cancellationToken);
                seconds["greedy"] += Lap(clock);
                var beams = new IReadOnlyList<IReadOnlyList<DecodedSequence>>[beamNames.Length];
                for (int j = 0; j < beamNames.Length; j++)
                {
                    beams[j] = search.BeamSearch(batch, beamNames[j].Options, cancellationToken);
                    seconds[beamNames[j].Name] += Lap(clock);
                }

                var pools = poolBuilder.Build(batch, keys, cancellationToken);
                if (reward is not null) pools = reward.Score(model, batch, pools);
                double poolSeconds = Lap(clock);

                for (int i = 0; i < b; i++)
                {
                    int row = rows[i];
                    truth[row] = queries.GetLocation(row);
                    ids[row] = queries.HasImageIds ? queries.GetImageId(row) : row.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    var query = Query(queries, gallery, neighbors, modalities, row, k);
                    predictions["knn"][row] = query.Neighbours[0].Position;
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
                        var result = await r.RerankAsync(query, pool, cancellationToken).ConfigureAwait(false);
                        predictions[r.Name][row] = result.Best.Candidate.Position;
                        seconds[r.Name] += Lap(clock) + poolSeconds / b;
                        foreach (var reason in result.FallbackReasons) fallbacks[reason] = fallbacks.GetValueOrDefault(reason) + 1;
                    }

                    var consensusChoice = predictions.TryGetValue("consensus", out var c) ? c[row] : predictions["greedy"][row];
                    rawRadii[row] = PoolUncertainty.RadiusKm(consensusChoice, pool, PoolUncertainty.Masses(pool), options.UncertaintyMass);
                    seconds["oracle"] += poolSeconds / b;
                }

                done += b;
                progress?.Report((done, n));
            }
        }

        // kNN reads precomputed neighbour files, so it has no per-image latency here (see geotoken retrieve).
        var strategies = names.Select(s => StrategyEvaluation.Create(s, predictions[s], truth, s == "knn" ? null : 1000 * seconds[s] / n)).ToArray();
        var consensusErrors = strategies.First(s => s.Name == (predictions.ContainsKey("consensus") ? "consensus" : "greedy")).DistancesKm;
        return new EvaluationRunResult
        {
            Strategies = strategies,
            Truth = truth,
            ImageIds = ids,
            UncertaintyCalibration = RadiusCalibration.Fit(rawRadii, consensusErrors, options.UncertaintyMass),
            FallbackReasons = fallbacks,
            Model = model.Options,
        };
    }

    /// <summary>What rerankers see of one query: its features and its neighbours with their similarities and locations.</summary>
    internal static RerankQuery Query(GeoDataset queries, GeoDataset gallery, NeighborFile neighbors, FeatureMatrix[] modalities, long row, int k)
    {
        var features = new ReadOnlyMemory<float>[modalities.Length];
        for (int m = 0; m < modalities.Length; m++)
        {
            var f = new float[modalities[m].Columns];
            modalities[m].ReadRow(row, f);
            features[m] = f;
        }

        int count = Math.Max(1, k);
        var ids = neighbors.Indices.GetRow(row);
        var sims = neighbors.Similarities.GetRow(row);
        var list = new Neighbour[count];
        for (int j = 0; j < count; j++) list[j] = new Neighbour(ids[j], sims[j], gallery.GetLocation(ids[j]));
        return new RerankQuery
        {
            Id = queries.HasImageIds ? queries.GetImageId(row) : null,
            Features = features,
            Neighbours = list,
        };
    }

    private static double Lap(Stopwatch clock)
    {
        double s = clock.Elapsed.TotalSeconds;
        clock.Restart();
        return s;
    }
}
