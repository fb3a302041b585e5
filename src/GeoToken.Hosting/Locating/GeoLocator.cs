using System.Diagnostics.CodeAnalysis;
using GeoToken.Decoding;
using GeoToken.Model;
using GeoToken.Onnx;
using GeoToken.Onnx.Inference;
using GeoToken.Prediction;
using GeoToken.Reranking;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GeoToken.Hosting.Locating;

/// <summary>
/// Photo in, place out: encodes photos with the ONNX image encoder(s) and locates them with a
/// <see cref="GeoTokenPredictor"/> over the gallery — opened from one <see cref="GeoLocatorOptions"/>.
/// <code>
/// await using var locator = await GeoLocator.OpenAsync(options, cancellationToken);
/// GeoPrediction p = await locator.LocateAsync("photo.jpg", cancellationToken);
/// </code>
/// </summary>
/// <remarks>Thread-safe (as the predictor and the encoders are). Dispose to release the model, gallery and encoder sessions.</remarks>
public sealed class GeoLocator : IAsyncDisposable, IDisposable
{
    private readonly OnnxImageEncoder[] _encoders;
    private readonly ILogger _logger;
    private readonly int _batchSize;
    private readonly RewardScorer? _reward;
    private bool _disposed;

    private GeoLocator(GeoTokenPredictor predictor, RewardScorer? reward, OnnxImageEncoder[] encoders, int batchSize, ILogger logger)
    {
        Predictor = predictor;
        _reward = reward;
        _encoders = encoders;
        _batchSize = batchSize;
        _logger = logger;
    }

    /// <summary>The predictor underneath (for feature queries and its model's settings).</summary>
    public GeoTokenPredictor Predictor { get; }

    /// <summary>Checks the options, opens the encoder(s) and the predictor, and checks that they fit together.</summary>
    /// <param name="options">What to open.</param>
    /// <param name="loggerFactory">Where the locator and the predictor log (default: nowhere).</param>
    /// <param name="cancellationToken">Cancels loading.</param>
    /// <exception cref="OptionsValidationException">The options are unusable; the message lists every problem.</exception>
    /// <exception cref="ArgumentException">The encoders do not fit the model (count or dimension); the message names them.</exception>
    public static async Task<GeoLocator> OpenAsync(GeoLocatorOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var check = new GeoLocatorOptionsValidator().Validate(Options.DefaultName, options);
        if (check.Failed) throw new OptionsValidationException(Options.DefaultName, typeof(GeoLocatorOptions), check.Failures);
        loggerFactory ??= NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger<GeoLocator>();
        var encoders = new List<OnnxImageEncoder>();
        GeoTokenPredictor? predictor = null;
        RewardScorer? reward = null;
        try
        {
            foreach (var e in options.Encoders)
            {
                encoders.Add(new OnnxImageEncoder(e.Path, e.ToEncoderOptions()));
                logger.LogInformation("Opened the image encoder {Encoder} ({Dimension}-d output {Output})", e.Path, encoders[^1].Dimension, encoders[^1].OutputName);
            }

            var reranker = StandardRerankers.Create(options.Reranker);
            if (reranker is PoolScoreReranker) reranker = new RerankerBuilder(reranker).UseFallback(new ConsensusReranker()).Build();
            reward = options.RewardHeadPath is null ? null : RewardScorer.Open(options.RewardHeadPath, options.Device);
            predictor = await GeoTokenPredictor.OpenAsync(new GeoTokenPredictorOptions
            {
                ModelPath = options.ModelPath,
                Runtimes = [new TorchGeoTokenRuntime(options.Device), OnnxGeoTokenRuntime.Default],
                GalleryDirectory = options.GalleryDirectory,
                IndexPath = options.IndexPath,
                Scorers = reward is null ? [] : [reward],
                Reranker = reranker,
                Pool = new CandidatePoolOptions { Samples = options.Samples, Temperature = options.Temperature },
                UncertaintyMass = options.UncertaintyMass,
                Calibration = options.Calibration,
                NamePlaces = options.NamePlaces,
                BatchSize = options.BatchSize,
                Logger = loggerFactory.CreateLogger<GeoTokenPredictor>(),
            }, cancellationToken).ConfigureAwait(false);
            var model = predictor.Model;
            if (encoders.Count != model.ModalityCount)
            {
                throw new ArgumentException($"The model {options.ModelPath} reads {model.ModalityCount} feature view(s) but {encoders.Count} encoder(s) are configured; give one per view (image first).");
            }

            for (int i = 0; i < encoders.Count; i++)
            {
                if (encoders[i].Dimension != model.FeatureDimension)
                {
                    throw new ArgumentException($"The encoder {encoders[i].ModelPath} (output {encoders[i].OutputName}) gives {encoders[i].Dimension}-d features; the model {options.ModelPath} reads {model.FeatureDimension}-d ones. Use the encoder the gallery was made with.");
                }
            }

            return new GeoLocator(predictor, reward, [.. encoders], options.BatchSize, logger);
        }
        catch
        {
            predictor?.Dispose();
            reward?.Dispose();
            foreach (var e in encoders) e.Dispose();
            throw;
        }
    }

    /// <summary>As <see cref="OpenAsync(GeoLocatorOptions, ILoggerFactory?, CancellationToken)"/> without a logger factory.</summary>
    /// <inheritdoc cref="OpenAsync(GeoLocatorOptions, ILoggerFactory?, CancellationToken)" path="/exception"/>
    public static Task<GeoLocator> OpenAsync(GeoLocatorOptions options, CancellationToken cancellationToken) => OpenAsync(options, null, cancellationToken);

    /// <summary>Locates the photo at <paramref name="path"/> (JPEG, PNG, WebP…; EXIF orientation applied); its file name is the answer's id.</summary>
    /// <exception cref="GeoToken.Imaging.ImageDecodeException">The photo cannot be decoded; the message names it.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "An optional trailing CancellationToken on every overload is the .NET convention; the overloads differ in their required parameters.")]
    public async Task<GeoPrediction> LocateAsync(string path, CancellationToken cancellationToken = default) =>
        (await LocateAsync([path ?? throw new ArgumentNullException(nameof(path))], null, cancellationToken).ConfigureAwait(false))[0];

    /// <summary>Locates photos, in order, in batches of <see cref="GeoLocatorOptions.BatchSize"/>.</summary>
    /// <param name="paths">The photo files.</param>
    /// <param name="progress">Photos answered so far.</param>
    /// <param name="cancellationToken">Cancels encoding and locating.</param>
    /// <exception cref="GeoToken.Imaging.ImageDecodeException">A photo cannot be decoded; the message names it.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "An optional trailing CancellationToken on every overload is the .NET convention; the overloads differ in their required parameters.")]
    public async Task<IReadOnlyList<GeoPrediction>> LocateAsync(IReadOnlyList<string> paths, IProgress<PredictionProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var results = new List<GeoPrediction>(paths.Count);
        for (int start = 0; start < paths.Count; start += _batchSize)
        {
            var chunk = paths.Skip(start).Take(_batchSize).ToArray();
            var views = new Embeddings.ImageEmbeddings[_encoders.Length];
            for (int e = 0; e < _encoders.Length; e++) views[e] = await _encoders[e].EncodeAsync(chunk, cancellationToken: cancellationToken).ConfigureAwait(false);
            var queries = chunk.Select((p, i) => new GeoQuery
            {
                Id = Path.GetFileName(p),
                Features = [.. views.Select(v => (ReadOnlyMemory<float>)v.GetRow(i))],
                Image = Photo(p),
            }).ToArray();
            _logger.LogDebug("Encoded {Count} photos; locating them", chunk.Length);
            results.AddRange(await Predictor.PredictAsync(queries, cancellationToken).ConfigureAwait(false));
            progress?.Report(new PredictionProgress(results.Count, paths.Count));
        }

        return results;
    }

    /// <summary>Locates one photo read from <paramref name="photo"/> (encoded bytes); <paramref name="name"/> is its id and names it in errors.</summary>
    /// <exception cref="GeoToken.Imaging.ImageDecodeException">The data cannot be decoded.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "An optional trailing CancellationToken on every overload is the .NET convention; the overloads differ in their required parameters.")]
    public async Task<GeoPrediction> LocateAsync(Stream photo, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(photo);
        ArgumentNullException.ThrowIfNull(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var copy = new MemoryStream();
        await photo.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
        var bytes = copy.ToArray();
        var features = new ReadOnlyMemory<float>[_encoders.Length];
        for (int e = 0; e < _encoders.Length; e++)
        {
            using var view = new MemoryStream(bytes, writable: false);
            features[e] = await _encoders[e].EncodeAsync(view, name, cancellationToken).ConfigureAwait(false);
        }

        var type = ImageInput.SniffMediaType(bytes);
        var query = new GeoQuery { Id = name, Features = features, Image = type is null ? null : new ImageInput(bytes, type, name) };
        return await Predictor.PredictAsync(query, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Releases the predictor and the encoders.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Predictor.Dispose();
        _reward?.Dispose();
        foreach (var e in _encoders) e.Dispose();
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The photo for rerankers that look at it (an MLLM judge), when its format is one they read.</summary>
    private static ImageInput? Photo(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return ImageInput.SniffMediaType(bytes) is { } type ? new ImageInput(bytes, type, path) : null;
    }
}
