using GeoToken.Uncertainty;

namespace GeoToken.Hosting.Locating;

/// <summary>
/// Everything a <see cref="GeoLocator"/> is opened from: the model, its gallery, the image encoder(s) and how answers
/// are chosen. Settable properties so that configuration can bind them (<c>services.AddGeoToken(o => …)</c>);
/// checked by <see cref="GeoLocatorOptionsValidator"/>.
/// </summary>
public sealed class GeoLocatorOptions
{
    /// <summary>
    /// The model: a model folder, its <c>config.json</c> or a <c>.gtm</c> file (<c>geotoken train</c>; runs on TorchSharp on
    /// <see cref="Device"/>), or a folder written by <c>geotoken export onnx</c> (runs on ONNX Runtime). Required.
    /// </summary>
    public string ModelPath { get; set; } = "";

    /// <summary>The gallery dataset folder the model retrieves from (its training set). Required.</summary>
    public string GalleryDirectory { get; set; } = "";

    /// <summary>A cluster index of the gallery (<c>geotoken index</c>); null (default) searches exactly.</summary>
    public string? IndexPath { get; set; }

    /// <summary>
    /// The image encoders, one per feature view the model reads (image first; a model of one view needs one). Required.
    /// </summary>
    public IList<GeoLocatorEncoderOptions> Encoders { get; set; } = [];

    /// <summary>The reranker by name: <c>consensus</c> (default), <c>logprob</c>, <c>mbr</c> or <c>reward</c> (needs <see cref="RewardHeadPath"/>; falls back to consensus).</summary>
    public string Reranker { get; set; } = "consensus";

    /// <summary>A reward head (<c>geotoken reward</c>) scoring every pool; required by the <c>reward</c> reranker.</summary>
    public string? RewardHeadPath { get; set; }

    /// <summary>Samples in the candidate pool, besides greedy (default 30, as the paper).</summary>
    public int Samples { get; set; } = 30;

    /// <summary>The pool's sampling temperature (default 0.7).</summary>
    public double Temperature { get; set; } = 0.7;

    /// <summary>The pool mass of the uncertainty radius (default 0.9).</summary>
    public double UncertaintyMass { get; set; } = 0.9;

    /// <summary>A calibration of the radius (<c>geotoken eval --calibration</c>), fitted for <see cref="UncertaintyMass"/>; null: raw radii.</summary>
    public RadiusCalibration? Calibration { get; set; }

    /// <summary>Whether answers carry the nearest place's name (default true).</summary>
    public bool NamePlaces { get; set; } = true;

    /// <summary>Photos decoded together (default 32).</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>Torch device: <c>cpu</c> (default), <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; set; } = "cpu";
}
