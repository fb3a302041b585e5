using GeoToken.Data;
using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Model.Decoding;
using GeoToken.Model.Training;
using GeoToken.Places;
using GeoToken.Reranking;
using GeoToken.Retrieval;
using GeoToken.Uncertainty;
using static TorchSharp.torch;

namespace GeoToken.Model.Prediction;

/// <summary>
/// Locates images from their features: retrieves each query's k nearest gallery images, decodes a candidate
/// pool with the GeoToken model, lets the reranker pick the answer, and attaches an uncertainty radius and the
/// nearest place's name.
/// </summary>
/// <remarks>
/// Thread-safe: retrieval and decoding of concurrent calls are serialised (each call batches its own queries;
/// pass many queries in one call for throughput), reranking runs concurrently. Sampling is seeded from each
/// query's features, so the same query gets the same answer. Dispose to release the model's tensors, the
/// gallery's memory maps and the index.
/// </remarks>
public sealed class GeoTokenPredictor : IDisposable
{
    private readonly GeoTokenPredictorOptions _options;
    private readonly GeoTokenModel _model;
    private readonly GeoDataset _gallery;
    private readonly NeighborIndex _index;
    private readonly TokenTable _galleryTokens;
    private readonly FeatureMatrix[] _galleryFeatures;
    private readonly CandidatePoolBuilder _poolBuilder;
    private readonly IReranker _reranker;
    private readonly GeoNamesCities? _places;
    private readonly Reranking.RewardHead? _reward;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly int _m, _d, _k, _t;
    private bool _disposed;

    private GeoTokenPredictor(GeoTokenPredictorOptions options, GeoTokenModel model, GeoDataset gallery, NeighborIndex index, TokenTable tokens, FeatureMatrix[] galleryFeatures, Reranking.RewardHead? reward)
    {
        _reward = reward;
        _options = options;
        _model = model;
        _gallery = gallery;
        _index = index;
        _galleryTokens = tokens;
        _galleryFeatures = galleryFeatures;
        _poolBuilder = new CandidatePoolBuilder(model, options.Pool);
        _reranker = options.Reranker ?? new ConsensusReranker();
        _places = options.NamePlaces ? options.Places ?? GeoNamesCities.Default : null;
        _m = model.Options.ModalityCount;
        _d = model.Options.FeatureDimension;
        _k = model.Options.NeighborCount;
        _t = model.Options.SequenceLength;
    }

    /// <summary>The model's settings (modalities, feature dimension, k, tokenizer).</summary>
    public GeoTokenModelOptions Model => _model.Options;

    /// <summary>The gallery's size.</summary>
    public long GalleryRows => _gallery.Rows;

    /// <summary>Loads the model, opens the gallery and its index, and builds the gallery's token table.</summary>
    /// <exception cref="ArgumentException">The options are unusable, or the model and gallery do not fit together; the message says how.</exception>
    /// <exception cref="FileNotFoundException">The model, gallery or index file is missing.</exception>
    public static GeoTokenPredictor Open(GeoTokenPredictorOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        GeoTokenModel? model = null;
        GeoDataset? gallery = null;
        NeighborIndex? index = null;
        Reranking.RewardHead? reward = null;
        try
        {
            model = GeoTokenModelFile.Load(options.ModelPath, TorchDevices.Parse(options.Device));
            model.eval();
            gallery = GeoDataset.Open(options.GalleryDirectory);
            var o = model.Options;
            var features = DatasetBatchSource.FeatureViews(gallery, o.ModalityCount, o.FeatureDimension, "gallery");
            if (gallery.Rows < o.NeighborCount)
            {
                throw new ArgumentException($"The gallery {options.GalleryDirectory} has {gallery.Rows} rows; the model needs {o.NeighborCount} neighbours per query.");
            }

            index = NeighborIndex.Open(gallery.Image, options.IndexPath, cancellationToken);
            var tokens = TokenTable.Build(gallery, model.Tokenizer, cancellationToken);
            reward = options.RewardHeadPath is null ? null : Reranking.RewardHeadFile.Load(options.RewardHeadPath, model.Device);
            if (reward is not null && reward.ModelDimension != o.ModelDimension)
            {
                throw new ArgumentException($"The reward head {options.RewardHeadPath} reads {reward.ModelDimension}-d states; the model {options.ModelPath} has {o.ModelDimension}.");
            }

            return new GeoTokenPredictor(options, model, gallery, index, tokens, features, reward);
        }
        catch
        {
            reward?.Dispose();
            index?.Dispose();
            gallery?.Dispose();
            model?.Dispose();
            throw;
        }
    }

    /// <summary>Locates one image.</summary>
    /// <exception cref="ArgumentException">The query's features do not fit the model (count, dimension, non-finite values); the message names the query.</exception>
    public async Task<GeoPrediction> PredictAsync(GeoQuery query, CancellationToken cancellationToken = default) =>
        (await PredictAsync([query ?? throw new ArgumentNullException(nameof(query))], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>Locates a batch of images (retrieved and decoded together), in order.</summary>
    /// <exception cref="ArgumentException">A query's features do not fit the model; the message names the query and what is wrong.</exception>
    public async Task<IReadOnlyList<GeoPrediction>> PredictAsync(IReadOnlyList<GeoQuery> queries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (queries.Count == 0) return [];
        int b = queries.Count;
        var flat = new float[(long)b * _m * _d];
        var keys = new long[b];
        for (int i = 0; i < b; i++) keys[i] = Fill(queries[i], i, flat);

        NeighborResults neighbors;
        IReadOnlyList<IReadOnlyList<GeoCandidate>> pools;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var image = new float[(long)b * _d];
            for (int i = 0; i < b; i++) flat.AsSpan(i * _m * _d, _d).CopyTo(image.AsSpan(i * _d, _d));
            using var imageMatrix = FeatureMatrix.FromArray(image, _d);
            neighbors = _index.Search(imageMatrix, new SearchOptions { K = _k }, cancellationToken);
            using var batch = Batch(flat, neighbors, b);
            batch.To(_model.Device);
            pools = _poolBuilder.Build(batch, keys, cancellationToken);
            if (_reward is not null) pools = _reward.Score(_model, batch, pools);
        }
        finally
        {
            _gate.Release();
        }

        var results = new GeoPrediction[b];
        for (int i = 0; i < b; i++)
        {
            var ids = neighbors.IndicesOf(i);
            var sims = neighbors.SimilaritiesOf(i);
            var list = new Neighbour[_k];
            for (int j = 0; j < _k; j++) list[j] = new Neighbour(ids[j], sims[j], _gallery.GetLocation(ids[j]));
            var features = new ReadOnlyMemory<float>[_m];
            for (int m = 0; m < _m; m++) features[m] = flat.AsMemory((i * _m + m) * _d, _d);
            var rerankQuery = new RerankQuery { Id = queries[i].Id, Features = features, Neighbours = list, Image = queries[i].Image };
            results[i] = await Answer(rerankQuery, pools[i], cancellationToken).ConfigureAwait(false);
        }

        return results;
    }

    /// <summary>Releases the model, the gallery and the index. Waits for a call in progress to leave the model.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _gate.Wait();
        try
        {
            if (_disposed) return;
            _disposed = true;
            _model.Dispose();
            _reward?.Dispose();
            _index.Dispose();
            _gallery.Dispose();
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<GeoPrediction> Answer(RerankQuery query, IReadOnlyList<GeoCandidate> pool, CancellationToken cancellationToken)
    {
        var result = await _reranker.RerankAsync(query, pool, cancellationToken).ConfigureAwait(false);
        var best = result.Best.Candidate;
        double raw = PoolUncertainty.RadiusKm(best.Position, pool, PoolUncertainty.Masses(pool), _options.UncertaintyMass);
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
            Neighbours = query.Neighbours,
            DecidedBy = result.DecidedBy,
            FallbackReasons = result.FallbackReasons,
        };
    }

    private NearestPlace? Name(LatLng position)
    {
        if (_places is null) return null;
        int i = _places.NearestIndex(position, out double km);
        var city = _places[i];
        return new NearestPlace(city.Name, city.CountryCode, km);
    }

    /// <summary>Copies a query's features into the batch buffer after checking them; returns its sampling key.</summary>
    private long Fill(GeoQuery query, int slot, float[] flat)
    {
        ArgumentNullException.ThrowIfNull(query);
        string name = query.Id is null ? $"query {slot}" : $"query {slot} ({query.Id})";
        if (query.Features is null || query.Features.Count != _m)
        {
            throw new ArgumentException($"{name} has {query.Features?.Count ?? 0} feature vector(s); the model reads {_m} (image{(_m > 1 ? ", location, text" : "")}).");
        }

        ulong hash = 14695981039346656037UL;
        for (int m = 0; m < _m; m++)
        {
            var f = query.Features[m].Span;
            if (f.Length != _d) throw new ArgumentException($"{name}: feature vector {m} has {f.Length} values; the model reads {_d}.");
            var dest = flat.AsSpan((slot * _m + m) * _d, _d);
            for (int j = 0; j < _d; j++)
            {
                float v = f[j];
                if (!float.IsFinite(v)) throw new ArgumentException($"{name}: feature vector {m} has a non-finite value ({v}) at index {j}.");
                dest[j] = v;
                hash = (hash ^ BitConverter.SingleToUInt32Bits(v)) * 1099511628211UL;
            }
        }

        return (long)(hash >> 1);
    }

    private GeoTokenBatch Batch(float[] flat, NeighborResults neighbors, int b)
    {
        var neighborFeatures = new float[(long)b * _k * _m * _d];
        var neighborTokens = new long[(long)b * _k * _t];
        for (int i = 0; i < b; i++)
        {
            var ids = neighbors.IndicesOf(i);
            for (int j = 0; j < _k; j++)
            {
                int slot = i * _k + j;
                for (int m = 0; m < _m; m++) _galleryFeatures[m].ReadRow(ids[j], neighborFeatures.AsSpan((slot * _m + m) * _d, _d));
                var tokens = _galleryTokens[ids[j]];
                var dest = neighborTokens.AsSpan(slot * _t, _t);
                for (int p = 0; p < _t; p++) dest[p] = tokens[p];
            }
        }

        return new GeoTokenBatch(tensor(flat, [b, _m, _d]), tensor(neighborFeatures, [b, _k, _m, _d]), tensor(neighborTokens, [b, _k, _t]));
    }
}
