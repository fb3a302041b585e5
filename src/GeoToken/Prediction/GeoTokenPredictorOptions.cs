using GeoToken.Decoding;
using GeoToken.Places;
using GeoToken.Reranking;
using GeoToken.Retrieval;
using GeoToken.Uncertainty;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace GeoToken.Prediction;

/// <summary>What a <see cref="GeoTokenPredictor"/> is made of. Only the model and the gallery (a folder, or a search that returns its rows) are required.</summary>
public sealed record GeoTokenPredictorOptions
{
    /// <summary>
    /// The model: a model folder, its <c>config.json</c> or a <c>.gtm</c> file (<c>geotoken train</c>; TorchSharp), or a folder
    /// written by <c>geotoken export onnx</c> (ONNX Runtime). The first of <see cref="Runtimes"/> that recognises it runs it.
    /// </summary>
    public required string ModelPath { get; init; }

    /// <summary>
    /// The runtimes the model may run on, tried in order (<see cref="GeoTokenRuntimes.Open"/>): <c>TorchGeoTokenRuntime</c>
    /// (package GeoToken.Model; its options choose the device) and/or <c>OnnxGeoTokenRuntime</c> (package GeoToken.Onnx; no
    /// libtorch). Required: the core package has no runtime of its own.
    /// </summary>
    public IReadOnlyList<IGeoTokenRuntime> Runtimes { get; init; } = [];

    /// <summary>
    /// The gallery dataset folder the model retrieves its context from (normally its training set). May be null when
    /// <see cref="NeighborSearch"/> is an <see cref="INeighborRowSearch"/> (e.g. a PostgreSQL gallery): the neighbors'
    /// features, tokens and coordinates then come with each search, including rows added since the predictor opened.
    /// </summary>
    public string? GalleryDirectory { get; init; }

    /// <summary>A cluster index of the gallery (<c>geotoken index</c>); null searches the gallery exhaustively.</summary>
    public string? IndexPath { get; init; }

    /// <summary>
    /// The gallery's search, instead of exact search or <see cref="IndexPath"/>: any <see cref="INeighborSearch"/> (e.g. an
    /// engine in another package) whose rows are the gallery's. The predictor does not own it. Default null.
    /// </summary>
    public INeighborSearch? NeighborSearch { get; init; }

    /// <summary>
    /// Images decoded together by one <see cref="GeoTokenPredictor.PredictAsync(IReadOnlyList{GeoQuery}, IProgress{PredictionProgress}?, CancellationToken)"/>
    /// call (default null: all of a call's images in one batch). Results do not depend on it beyond float rounding.
    /// </summary>
    public int? BatchSize { get; init; }

    /// <summary>Where the predictor logs loading, batches and reranker fallbacks (default: nowhere).</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>The candidate pool (default: the paper's, greedy + 30 samples at T = 0.7).</summary>
    public CandidatePoolOptions Pool { get; init; } = new();

    /// <summary>
    /// Picks the answer from the pool (default: <see cref="ConsensusReranker"/>). Compose with
    /// <see cref="FallbackReranker"/> or <see cref="CascadeReranker"/>. The predictor does not own it.
    /// </summary>
    public IReranker? Reranker { get; init; }

    /// <summary>
    /// Pool scorers run on every batch between decoding and reranking, e.g. the reward head (<c>RewardScorer</c>, TorchSharp
    /// only), whose scores <see cref="RewardReranker"/> ranks by. The predictor does not own them. Default: none.
    /// </summary>
    public IReadOnlyList<IPoolScorer> Scorers { get; init; } = [];

    /// <summary>Pool mass whose radius is reported as the uncertainty (default 0.9).</summary>
    public double UncertaintyMass { get; init; } = 0.9;

    /// <summary>
    /// A calibration of the uncertainty radius fitted on a validation split (<c>geotoken eval --calibration</c>);
    /// when null the raw pool radius is reported and marked uncalibrated.
    /// </summary>
    public RadiusCalibration? Calibration { get; init; }

    /// <summary>Places for naming predictions (default: the bundled GeoNames extract); null-valued via <see cref="NamePlaces"/> = false.</summary>
    public GeoNamesCities? Places { get; init; }

    /// <summary>Whether predictions carry the nearest place's name (default true).</summary>
    public bool NamePlaces { get; init; } = true;

    /// <summary>Throws unless the options are usable.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelPath)) throw new ArgumentException("GeoTokenPredictorOptions.ModelPath is empty.");
        if (Runtimes is null || Runtimes.Count == 0)
        {
            throw new ArgumentException($"GeoTokenPredictorOptions.Runtimes is empty: {GeoTokenRuntimes.WhichRuntime}.");
        }

        if (Scorers is null) throw new ArgumentException("GeoTokenPredictorOptions.Scorers is null; leave it unset for none.");
        if (GalleryDirectory is null ? NeighborSearch is not INeighborRowSearch : string.IsNullOrWhiteSpace(GalleryDirectory))
        {
            throw new ArgumentException("GeoTokenPredictorOptions.GalleryDirectory is empty; it is needed unless NeighborSearch returns its rows (an INeighborRowSearch such as a PostgreSQL gallery).");
        }

        if (NeighborSearch is not null && IndexPath is not null) throw new ArgumentException("GeoTokenPredictorOptions.NeighborSearch and IndexPath are both set; give one.");
        if (BatchSize is < 1) throw new ArgumentException($"GeoTokenPredictorOptions.BatchSize is {BatchSize}; it must be at least 1.");
        if (Logger is null) throw new ArgumentException("GeoTokenPredictorOptions.Logger is null; leave it unset for no logging.");
        if (!(UncertaintyMass > 0 && UncertaintyMass <= 1)) throw new ArgumentException($"GeoTokenPredictorOptions.UncertaintyMass is {UncertaintyMass}; it must be in (0, 1].");
        if (Calibration is not null && Math.Abs(Calibration.NominalMass - UncertaintyMass) > 1e-9)
        {
            throw new ArgumentException($"The calibration was fitted for mass {Calibration.NominalMass} but UncertaintyMass is {UncertaintyMass}.");
        }
    }
}
