using GeoToken.Data;
using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Places;
using GeoToken.Reranking;
using GeoToken.Retrieval;
using GeoToken.Tokens;
using GeoToken.Uncertainty;
using Microsoft.Extensions.Logging;

namespace GeoToken.Prediction;

/// <summary>
/// The one staged pipeline from query features to answers, driven by both <see cref="GeoTokenPredictor"/> and
/// <c>EvaluationRun</c>: (1) neighbors through the retrieval contract (<see cref="INeighborSearch"/>: live search or
/// precomputed neighbor files); (2) batch assembly (query and neighbor features, neighbor tokens); (3) the encoder,
/// once per batch, its output kept (<see cref="IEncodedBatch"/>); (4) candidates (the pool; greedy and beams through
/// <see cref="Search"/>); (5) pool scorers reading the kept encoder output (<see cref="IPoolScorer"/>, e.g. the reward
/// head); (6) the reranker; (7) the answer with its uncertainty radius and nearest place. The model runs on any runtime
/// (<see cref="IRuntimeModel"/>: TorchSharp or ONNX Runtime); stages 4–5 decode with the runtime-neutral <see cref="TokenSearch"/>.
/// </summary>
/// <remarks>
/// Lives with prediction because the answer (<see cref="GeoPrediction"/>) is its output: a namespace of its own would
/// reference this one and be referenced by it. Stages 1–5 use the model and must be serialised by the caller; stages
/// 6–7 may run concurrently. Owns nothing.
/// </remarks>
internal sealed class GeoTokenPipeline
{
    private readonly GeoDataset? _gallery;
    private readonly TokenTable? _galleryTokens;
    private readonly FeatureMatrix[]? _galleryFeatures;
    private readonly INeighborSearch _neighbors;
    private readonly INeighborRowSearch? _rowSearch;
    private readonly bool _rowTokens;
    private readonly GeoTokenPipelineOptions _options;
    private readonly ILogger _logger;

    /// <summary>
    /// A pipeline over <paramref name="gallery"/>'s rows, or, when <paramref name="gallery"/> is null, over the rows that
    /// <paramref name="neighbors"/> (then an <see cref="INeighborRowSearch"/>) returns with each search.
    /// </summary>
    public GeoTokenPipeline(IRuntimeModel model, GeoDataset? gallery, TokenTable? galleryTokens, INeighborSearch neighbors, GeoTokenPipelineOptions options, ILogger logger)
    {
        Model = model;
        _gallery = gallery;
        _galleryTokens = galleryTokens;
        _neighbors = neighbors;
        _options = options;
        _logger = logger;
        var o = model.Info;
        Tokenizer = new GeoTokenizer(o.Tokenizer);
        M = o.ModalityCount;
        D = o.FeatureDimension;
        K = o.NeighborCount;
        T = Tokenizer.Length;
        foreach (var scorer in options.Scorers) scorer.CheckUsableWith(model);
        if (gallery is null)
        {
            _rowSearch = neighbors as INeighborRowSearch
                ?? throw new ArgumentException($"No gallery folder was given and the {neighbors.Method} search does not return its rows' features and coordinates (an INeighborRowSearch); give the gallery folder.");
            for (int m = 0; m < M; m++)
            {
                if (!_rowSearch.Views.Contains(FeatureModalities.All[m]))
                {
                    throw new ArgumentException($"The model reads {M} feature view(s) but the {neighbors.Method} gallery stores only {string.Join(", ", _rowSearch.Views)} (no {FeatureModalities.All[m]} view).");
                }
            }

            if (neighbors.Dimension != D) throw new ArgumentException($"The {neighbors.Method} gallery has dimension {neighbors.Dimension}; the model reads {D}.");
            if (neighbors.GalleryRows < K) throw new ArgumentException($"The {neighbors.Method} gallery has {neighbors.GalleryRows} rows; the model needs {K} neighbors per query.");
            // The search's own tokens serve when its tokenizer is the model's; otherwise they are computed from the coordinates.
            _rowTokens = _rowSearch.Tokenizer.Level == Tokenizer.Level && _rowSearch.Tokenizer.GroupSize == Tokenizer.GroupSize && _rowSearch.Tokenizer.Length == T;
        }
        else
        {
            ArgumentNullException.ThrowIfNull(galleryTokens);
            _galleryFeatures = DatasetFeatureViews.Read(gallery, M, D, "gallery");
            if (gallery.Rows < K)
            {
                throw new ArgumentException($"The gallery {Path.GetDirectoryName(gallery.MetaPath)} has {gallery.Rows} rows; the model needs {K} neighbors per query.");
            }

            if (neighbors.GalleryRows != gallery.Rows || neighbors.Dimension != gallery.Dimension)
            {
                throw new ArgumentException($"The {neighbors.Method} search covers {neighbors.GalleryRows} gallery rows of dimension {neighbors.Dimension}, but the gallery {Path.GetDirectoryName(gallery.MetaPath)} has {gallery.Rows} rows of dimension {gallery.Dimension}.");
            }

            if (galleryTokens.Rows != gallery.Rows || galleryTokens.Length != T) throw new ArgumentException("The gallery token table does not match the gallery and model.", nameof(galleryTokens));
        }

        _poolPlan = SearchPlan.ForPool(options.Pool);
        Search = new TokenSearch(Tokenizer);
    }

    private readonly SearchPlan _poolPlan;

    /// <summary>The model.</summary>
    public IRuntimeModel Model { get; }

    /// <summary>The model's tokenizer.</summary>
    public GeoTokenizer Tokenizer { get; }

    /// <summary>Greedy decoding, beam searches and pools over sessions of encoded batches (stage 4).</summary>
    public TokenSearch Search { get; }

    /// <summary>Encoder runs so far (one per batch).</summary>
    public long EncoderRuns => Interlocked.Read(ref _encoderRuns);

    private long _encoderRuns;

    /// <summary>Modalities, feature dimension, neighbors the model reads and tokens per sequence.</summary>
    public int M { get; }

    /// <inheritdoc cref="M"/>
    public int D { get; }

    /// <inheritdoc cref="M"/>
    public int K { get; }

    /// <inheritdoc cref="M"/>
    public int T { get; }

    /// <summary>Neighbors retrieved per query: the model's k, at least 1 (the nearest neighbor is reported even to a model without context).</summary>
    public int SearchK => Math.Max(1, K);

    /// <summary>
    /// Stage 1: the neighbors of a batch of queries, checked against the contract; with a row search (no gallery folder),
    /// with their rows' coordinates, tokens and features.
    /// </summary>
    public async Task<PipelineNeighbors> NeighborsAsync(NeighborQueries queries, CancellationToken cancellationToken)
    {
        if (_rowSearch is not null)
        {
            var rows = await _rowSearch.SearchRowsAsync(queries, M, cancellationToken).ConfigureAwait(false);
            rows.Results.CheckFrom(_neighbors, queries);
            if (rows.Views != M || rows.Dimension != D || rows.TokenLength != _rowSearch.Tokenizer.Length)
            {
                throw new InvalidDataException($"The {_neighbors.Method} search returned rows of {rows.Views} view(s) × {rows.Dimension} and {rows.TokenLength} tokens; asked for {M} × {D} and {_rowSearch.Tokenizer.Length}.");
            }

            return new PipelineNeighbors(rows.Results, rows);
        }

        var found = await _neighbors.SearchAsync(queries, cancellationToken).ConfigureAwait(false);
        found.CheckFrom(_neighbors, queries);
        return new PipelineNeighbors(found, null);
    }

    /// <summary>
    /// Stages 2 and 3: assembles the batch of <paramref name="count"/> queries (features <c>[count, M, D]</c> row-major,
    /// with their neighbors) and runs the encoder once.
    /// </summary>
    public PipelineBatch Encode(float[] features, int count, PipelineNeighbors found, CancellationToken cancellationToken)
    {
        var neighbors = found.Results;
        var neighborFeatures = new float[(long)count * K * M * D];
        var neighborTokens = new long[(long)count * K * T];
        var computed = found.Rows is not null && !_rowTokens ? new int[T] : null;
        for (int i = 0; i < count; i++)
        {
            var ids = neighbors.IndicesOf(i);
            for (int j = 0; j < K; j++)
            {
                int slot = i * K + j;
                var dest = neighborTokens.AsSpan(slot * T, T);
                if (found.Rows is { } rows)
                {
                    for (int m = 0; m < M; m++) rows.GetFeatures(i, j, m).CopyTo(neighborFeatures.AsSpan((slot * M + m) * D, D));
                    if (computed is null)
                    {
                        var tokens = rows.GetTokens(i, j);
                        for (int p = 0; p < T; p++) dest[p] = tokens[p];
                    }
                    else
                    {
                        Tokenizer.Encode(rows.GetLocation(i, j), computed);
                        for (int p = 0; p < T; p++) dest[p] = computed[p];
                    }
                }
                else
                {
                    for (int m = 0; m < M; m++) _galleryFeatures![m].ReadRow(ids[j], neighborFeatures.AsSpan((slot * M + m) * D, D));
                    var tokens = _galleryTokens![ids[j]];
                    for (int p = 0; p < T; p++) dest[p] = tokens[p];
                }
            }
        }

        _logger.LogDebug("Encoding a batch of {Count} queries with {K} neighbors each on {Runtime}", count, K, Model.Runtime);
        var encoded = Model.Encode(new EncoderInputs { Count = count, QueryFeatures = features.AsMemory(0, count * M * D), NeighborFeatures = neighborFeatures, NeighborTokens = neighborTokens }, cancellationToken);
        Interlocked.Increment(ref _encoderRuns);
        return new PipelineBatch(features, count, found, encoded);
    }

    /// <summary>Stage 4: the candidate pools, one per query, decoded from the kept encoder output.</summary>
    public IReadOnlyList<IReadOnlyList<GeoCandidate>> Pools(PipelineBatch batch, IReadOnlyList<long> keys, CancellationToken cancellationToken) =>
        batch.Encoded.Decode(s => Search.Run(s, _poolPlan, keys, cancellationToken), cancellationToken).Select(r => r.ToPool()).ToArray();

    /// <summary>Stage 4 without the pool: the greedy sequence of every query.</summary>
    public IReadOnlyList<DecodedSequence> Greedy(PipelineBatch batch, CancellationToken cancellationToken) =>
        batch.Encoded.Decode(s => Search.Greedy(s, null, cancellationToken), cancellationToken);

    /// <summary>Stage 4 without the pool: a beam search of every query.</summary>
    public IReadOnlyList<IReadOnlyList<DecodedSequence>> BeamSearch(PipelineBatch batch, BeamSearchOptions options, CancellationToken cancellationToken) =>
        batch.Encoded.Decode(s => Search.BeamSearch(s, options, cancellationToken), cancellationToken);

    /// <summary>Stage 5: every pool scorer's scores, per query (empty lists when there are no scorers).</summary>
    public IReadOnlyList<CandidateScores>[] Score(PipelineBatch batch, IReadOnlyList<IReadOnlyList<GeoCandidate>> pools, CancellationToken cancellationToken)
    {
        var result = new List<CandidateScores>[pools.Count];
        for (int i = 0; i < result.Length; i++) result[i] = [];
        foreach (var scorer in _options.Scorers)
        {
            var scores = scorer.Score(batch.Encoded, pools, cancellationToken);
            if (scores.Count != pools.Count) throw new InvalidOperationException($"The pool scorer '{scorer.Name}' returned scores for {scores.Count} pools; the batch has {pools.Count}.");
            for (int i = 0; i < result.Length; i++) result[i].Add(new CandidateScores(scorer.Name, pools[i], scores[i]));
        }

        return result;
    }

    /// <summary>What rerankers see of query <paramref name="index"/> of the batch: its features, neighbors, photo and pool scores.</summary>
    public RerankQuery Query(PipelineBatch batch, int index, string? id, ImageInput? image, IReadOnlyList<CandidateScores> scores)
    {
        var ids = batch.Neighbors.IndicesOf(index);
        var sims = batch.Neighbors.SimilaritiesOf(index);
        var list = new Neighbor[ids.Length];
        for (int j = 0; j < list.Length; j++) list[j] = new Neighbor(ids[j], sims[j], batch.Rows is { } rows ? rows.GetLocation(index, j) : _gallery!.GetLocation(ids[j]));
        var features = new ReadOnlyMemory<float>[M];
        for (int m = 0; m < M; m++) features[m] = batch.Features.AsMemory((index * M + m) * D, D);
        return new RerankQuery { Id = id, Features = features, Neighbors = list, Image = image, PoolScores = scores };
    }

    /// <summary>Stage 6: reranks one pool; fallbacks are logged.</summary>
    public async Task<RerankResult> RerankAsync(IReranker reranker, RerankQuery query, IReadOnlyList<GeoCandidate> pool, CancellationToken cancellationToken)
    {
        var result = await reranker.RerankAsync(query, pool, cancellationToken).ConfigureAwait(false);
        if (result.FallbackReasons.Count > 0)
        {
            _logger.LogWarning("Reranker {Reranker} fell back for {Query}; decided by {DecidedBy}: {Reasons}", reranker.Name, query.Id ?? "a query", result.DecidedBy, string.Join("; ", result.FallbackReasons));
        }

        return result;
    }

    /// <summary>The raw pool radius around <paramref name="center"/> holding <paramref name="mass"/> of the pool's mass.</summary>
    public static double RawRadiusKm(LatLng center, IReadOnlyList<GeoCandidate> pool, double mass) =>
        PoolUncertainty.RadiusKm(center, pool, PoolUncertainty.Masses(pool), mass);

    /// <summary>Stage 7: the answer — ranked locations with places, the (calibrated) uncertainty radius, the neighbors.</summary>
    public GeoPrediction Answer(RerankQuery query, IReadOnlyList<GeoCandidate> pool, RerankResult result)
    {
        var best = result.Best.Candidate;
        double raw = RawRadiusKm(best.Position, pool, _options.UncertaintyMass);
        var locations = new PredictedLocation[result.Ranked.Count];
        for (int r = 0; r < locations.Length; r++)
        {
            var (c, score) = result.Ranked[r];
            locations[r] = new PredictedLocation
            {
                Rank = r + 1,
                Position = c.Position,
                CellToken = c.Cell.IsValid ? c.Cell.ToToken() : null,
                Score = score,
                LogProbability = c.LogProbability,
                Count = c.Count,
                Sources = c.Sources,
                Place = Name(c.Position),
            };
        }

        return new GeoPrediction
        {
            Id = query.Id,
            Locations = locations,
            UncertaintyKm = _options.Calibration?.Apply(raw) ?? raw,
            UncertaintyMass = _options.UncertaintyMass,
            UncertaintyCalibrated = _options.Calibration is not null,
            Neighbors = query.Neighbors,
            DecidedBy = result.DecidedBy,
            FallbackReasons = result.FallbackReasons,
        };
    }

    private NearestPlace? Name(LatLng position)
    {
        if (_options.Places is not { } places) return null;
        int i = places.NearestIndex(position, out double km);
        var city = places[i];
        return new NearestPlace(city.Name, city.CountryCode, km);
    }
}
