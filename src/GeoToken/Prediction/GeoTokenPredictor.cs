using System.Diagnostics.CodeAnalysis;
using GeoToken.Data;
using GeoToken.Decoding;
using GeoToken.Places;
using GeoToken.Reranking;
using GeoToken.Retrieval;
using Microsoft.Extensions.Logging;

namespace GeoToken.Prediction;

/// <summary>
/// Locates images from their features: retrieves each query's k nearest gallery images, decodes a candidate
/// pool with the GeoToken model, lets the reranker pick the answer, and attaches an uncertainty radius and the
/// nearest place's name. The model runs on the runtime that recognises it among
/// <see cref="GeoTokenPredictorOptions.Runtimes"/>: TorchSharp for model files, ONNX Runtime for ONNX exports.
/// </summary>
/// <remarks>
/// Thread-safe: retrieval and decoding of concurrent calls are serialised (each call batches its own queries;
/// pass many queries in one call for throughput), reranking runs concurrently. Sampling is seeded from each
/// query's features, so the same query gets the same answer. Dispose to release the model's tensors, the
/// gallery's memory maps and the index (a search passed in <see cref="GeoTokenPredictorOptions.NeighborSearch"/> and the
/// <see cref="GeoTokenPredictorOptions.Scorers"/> are the caller's). The stages are those of the evaluation (<c>EvaluationRun</c>): one pipeline serves both.
/// </remarks>
public sealed class GeoTokenPredictor : IDisposable
{
    private readonly GeoTokenPredictorOptions _options;
    private readonly IRuntimeModel _model;
    private readonly GeoDataset? _gallery;
    private readonly INeighborSearch _search;
    private readonly NeighborIndex? _ownedIndex;
    private readonly GeoTokenPipeline _pipeline;
    private readonly IReranker _reranker;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _disposed;

    private GeoTokenPredictor(GeoTokenPredictorOptions options, IRuntimeModel model, GeoDataset? gallery, INeighborSearch search, NeighborIndex? ownedIndex, GeoTokenPipeline pipeline)
    {
        _options = options;
        _model = model;
        _gallery = gallery;
        _search = search;
        _ownedIndex = ownedIndex;
        _pipeline = pipeline;
        _reranker = options.Reranker ?? new ConsensusReranker();
        _logger = options.Logger;
    }

    /// <summary>What the model reads and writes (modalities, feature dimension, k, tokenizer).</summary>
    public RuntimeModelInfo Model => _model.Info;

    /// <summary>The runtime the model runs on (<see cref="IGeoTokenRuntime.Name"/>).</summary>
    public string Runtime => _model.Runtime;

    /// <summary>The gallery's size (without a gallery folder: the search's, which grows with live additions).</summary>
    public long GalleryRows => _gallery?.Rows ?? _search.GalleryRows;

    /// <summary>How often the model's encoder has run (one pass per batch), for tests.</summary>
    internal long EncoderRuns => _pipeline.EncoderRuns;

    /// <summary>Loads the model, opens the gallery and its index, and builds the gallery's token table.</summary>
    /// <exception cref="ArgumentException">The options are unusable, no runtime recognises the model, a scorer cannot read it, or the model and gallery do not fit together; the message says how.</exception>
    /// <exception cref="FileNotFoundException">The model, gallery or index file is missing.</exception>
    public static GeoTokenPredictor Open(GeoTokenPredictorOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var logger = options.Logger;
        IRuntimeModel? model = null;
        GeoDataset? gallery = null;
        NeighborIndex? index = null;
        try
        {
            model = GeoTokenRuntimes.Open(options.ModelPath, options.Runtimes, cancellationToken);
            var o = model.Info;
            logger.LogInformation("Loaded the model {ModelPath} ({Description}) on {Runtime}", options.ModelPath, o.Description, model.Runtime);
            TokenTable? tokens = null;
            if (options.GalleryDirectory is not null)
            {
                gallery = GeoDataset.Open(options.GalleryDirectory);
                if (options.NeighborSearch is null) index = NeighborIndex.Open(gallery.Image, options.IndexPath, cancellationToken);
                tokens = TokenTable.Build(gallery, new Tokens.GeoTokenizer(o.Tokenizer), cancellationToken);
            }

            INeighborSearch search = options.NeighborSearch ?? index!;
            logger.LogInformation("Opened the gallery {Gallery} ({Rows} rows), searched by {Method}", options.GalleryDirectory ?? search.GalleryId, gallery?.Rows ?? search.GalleryRows, search.Method);
            var pipeline = new GeoTokenPipeline(model, gallery, tokens, search, new GeoTokenPipelineOptions
            {
                Pool = options.Pool,
                Scorers = options.Scorers,
                UncertaintyMass = options.UncertaintyMass,
                Calibration = options.Calibration,
                Places = options.NamePlaces ? options.Places ?? GeoNamesCities.Default : null,
            }, logger);
            return new GeoTokenPredictor(options, model, gallery, search, index, pipeline);
        }
        catch
        {
            index?.Dispose();
            gallery?.Dispose();
            model?.Dispose();
            throw;
        }
    }

    /// <summary>As <see cref="Open"/>, on a worker thread (loading reads the model and builds the gallery's token table).</summary>
    /// <inheritdoc cref="Open" path="/exception"/>
    public static Task<GeoTokenPredictor> OpenAsync(GeoTokenPredictorOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Task.Run(() => Open(options, cancellationToken), cancellationToken);
    }

    /// <summary>Locates one image.</summary>
    /// <exception cref="ArgumentException">The query's features do not fit the model (count, dimension, non-finite values); the message names the query.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "An optional trailing CancellationToken on every overload is the .NET convention; the overloads differ in their required parameters.")]
    public async Task<GeoPrediction> PredictAsync(GeoQuery query, CancellationToken cancellationToken = default) =>
        (await PredictAsync([query ?? throw new ArgumentNullException(nameof(query))], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>Locates a batch of images, in order (decoded together, or in batches of <see cref="GeoTokenPredictorOptions.BatchSize"/>).</summary>
    /// <exception cref="ArgumentException">A query's features do not fit the model; the message names the query and what is wrong.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "An optional trailing CancellationToken on every overload is the .NET convention; the overloads differ in their required parameters.")]
    public Task<IReadOnlyList<GeoPrediction>> PredictAsync(IReadOnlyList<GeoQuery> queries, CancellationToken cancellationToken = default) =>
        PredictAsync(queries, null, cancellationToken);

    /// <summary>
    /// Locates a batch of images, in order, in batches of <see cref="GeoTokenPredictorOptions.BatchSize"/> (default: all
    /// together), reporting the images answered after each batch.
    /// </summary>
    /// <param name="queries">The images.</param>
    /// <param name="progress">Images answered so far, of all (after each batch).</param>
    /// <param name="cancellationToken">Cancels between and within batches.</param>
    /// <exception cref="ArgumentException">A query's features do not fit the model; the message names the query and what is wrong.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "An optional trailing CancellationToken on every overload is the .NET convention; the overloads differ in their required parameters.")]
    public async Task<IReadOnlyList<GeoPrediction>> PredictAsync(IReadOnlyList<GeoQuery> queries, IProgress<PredictionProgress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (queries.Count == 0) return [];
        int size = _options.BatchSize ?? queries.Count;
        var results = new List<GeoPrediction>(queries.Count);
        for (int start = 0; start < queries.Count; start += size)
        {
            int b = Math.Min(size, queries.Count - start);
            results.AddRange(await PredictBatchAsync(queries, start, b, cancellationToken).ConfigureAwait(false));
            progress?.Report(new PredictionProgress(results.Count, queries.Count));
        }

        return results;
    }

    private async Task<GeoPrediction[]> PredictBatchAsync(IReadOnlyList<GeoQuery> queries, int first, int b, CancellationToken cancellationToken)
    {
        int m = _pipeline.M, d = _pipeline.D;
        var flat = new float[(long)b * m * d];
        var keys = new long[b];
        for (int i = 0; i < b; i++) keys[i] = Fill(queries[first + i], first + i, i, flat);

        PipelineBatch? batch = null;
        IReadOnlyList<IReadOnlyList<GeoCandidate>> pools;
        IReadOnlyList<CandidateScores>[] scores;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var image = new float[(long)b * d];
            for (int i = 0; i < b; i++) flat.AsSpan(i * m * d, d).CopyTo(image.AsSpan(i * d, d));
            using var imageMatrix = FeatureMatrix.FromArray(image, d);
            var neighbors = await _pipeline.NeighborsAsync(new NeighborQueries { Vectors = imageMatrix, K = _pipeline.SearchK }, cancellationToken).ConfigureAwait(false);
            batch = _pipeline.Encode(flat, b, neighbors, cancellationToken);
            pools = _pipeline.Pools(batch, keys, cancellationToken);
            scores = _pipeline.Score(batch, pools, cancellationToken);
            batch.Dispose(); // the encoder output is done with; features and neighbors stay readable for the answers
        }
        catch
        {
            batch?.Dispose();
            throw;
        }
        finally
        {
            _gate.Release();
        }

        var results = new GeoPrediction[b];
        for (int i = 0; i < b; i++)
        {
            var query = queries[first + i];
            var rerankQuery = _pipeline.Query(batch, i, query.Id, query.Image, scores[i]);
            var result = await _pipeline.RerankAsync(_reranker, rerankQuery, pools[i], cancellationToken).ConfigureAwait(false);
            results[i] = _pipeline.Answer(rerankQuery, pools[i], result);
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
            _ownedIndex?.Dispose();
            _gallery?.Dispose();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Copies a query's features into the batch buffer after checking them; returns its sampling key.</summary>
    private long Fill(GeoQuery query, int number, int slot, float[] flat)
    {
        ArgumentNullException.ThrowIfNull(query);
        int m = _pipeline.M, d = _pipeline.D;
        string name = query.Id is null ? $"query {number}" : $"query {number} ({query.Id})";
        if (query.Features is null || query.Features.Count != m)
        {
            throw new ArgumentException($"{name} has {query.Features?.Count ?? 0} feature vector(s); the model reads {m} (image{(m > 1 ? ", location, text" : "")}).");
        }

        ulong hash = 14695981039346656037UL;
        for (int v = 0; v < m; v++)
        {
            var f = query.Features[v].Span;
            if (f.Length != d) throw new ArgumentException($"{name}: feature vector {v} has {f.Length} values; the model reads {d}.");
            var dest = flat.AsSpan((slot * m + v) * d, d);
            for (int j = 0; j < d; j++)
            {
                float x = f[j];
                if (!float.IsFinite(x)) throw new ArgumentException($"{name}: feature vector {v} has a non-finite value ({x}) at index {j}.");
                dest[j] = x;
                hash = (hash ^ BitConverter.SingleToUInt32Bits(x)) * 1099511628211UL;
            }
        }

        return (long)(hash >> 1);
    }
}
