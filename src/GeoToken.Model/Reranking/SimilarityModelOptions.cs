using System.Globalization;

namespace GeoToken.Reranking;

/// <summary>
/// The shape of a <see cref="SimilarityModel"/> (GeoCLIP-style image/location embeddings). The defaults follow
/// GeoCLIP: a 768 → 768 → 512 image MLP; random Fourier features of the location at σ = 2⁰, 2⁴, 2⁸, each
/// through its own MLP (three hidden layers of 1,024) to 512, summed; initial temperature 0.07.
/// </summary>
/// <remarks>
/// By default locations enter as 3-D unit vectors on the sphere (<see cref="SimilarityLocationInput.UnitVector"/>):
/// no seam at the antimeridian and no distortion at the poles. With unit vectors, σ = 2⁰, 2⁴, 2⁸ give Fourier
/// wavelengths of roughly 6,000 km, 400 km and 25 km on the Earth's surface. <see cref="GeoClipEqualEarth"/> is
/// GeoCLIP's exact model (Equal Earth input), the shape its published weights need.
/// </remarks>
public sealed record SimilarityModelOptions
{
    /// <summary>GeoCLIP's sizes for 768-d image features (the defaults).</summary>
    public static SimilarityModelOptions GeoClip { get; } = new();

    /// <summary>
    /// GeoCLIP's exact model: its sizes and its Equal Earth location input (<see cref="SimilarityLocationInput.EqualEarth"/>).
    /// <see cref="GeoClipImporter"/> builds one from GeoCLIP's published weights.
    /// </summary>
    public static SimilarityModelOptions GeoClipEqualEarth { get; } = new() { LocationInput = SimilarityLocationInput.EqualEarth };

    /// <summary>A small model for tests and toy data: 64-d embeddings, 128-wide hidden layers, one hidden layer per scale, 64 Fourier features.</summary>
    public static SimilarityModelOptions Tiny { get; } = new()
    {
        EmbeddingDimension = 64,
        ImageHiddenDimension = 128,
        LocationHiddenDimension = 128,
        LocationHiddenLayers = 1,
        FourierFeatures = 64,
    };

    /// <summary>Dimension of the image features the model reads, <c>d_in</c> (default 768).</summary>
    public int FeatureDimension { get; init; } = 768;

    /// <summary>Dimension of the shared embedding space (default 512).</summary>
    public int EmbeddingDimension { get; init; } = 512;

    /// <summary>Hidden width of the image MLP (default 768).</summary>
    public int ImageHiddenDimension { get; init; } = 768;

    /// <summary>Hidden width of each location branch (default 1,024).</summary>
    public int LocationHiddenDimension { get; init; } = 1024;

    /// <summary>Hidden layers of each location branch (default 3).</summary>
    public int LocationHiddenLayers { get; init; } = 3;

    /// <summary>Random Fourier frequencies per scale; each gives a cosine and a sine feature (default 256).</summary>
    public int FourierFeatures { get; init; } = 256;

    /// <summary>Standard deviations of the random Fourier frequencies, one location branch each (default 1, 16, 256).</summary>
    public IReadOnlyList<double> Scales { get; init; } = [1, 16, 256];

    /// <summary>
    /// How the location encoder sees a position (default <see cref="SimilarityLocationInput.UnitVector"/>; files
    /// written before this setting existed load as that).
    /// </summary>
    public SimilarityLocationInput LocationInput { get; init; } = SimilarityLocationInput.UnitVector;

    /// <summary>The width of one location input row: 3 for unit vectors, 2 for (latitude, longitude).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int LocationInputWidth => LocationInput == SimilarityLocationInput.EqualEarth ? 2 : 3;

    /// <summary>The softmax temperature the learned logit scale starts from (default 0.07).</summary>
    public double InitialTemperature { get; init; } = 0.07;

    /// <summary>Throws unless every setting is usable.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }

        Require(FeatureDimension >= 1, $"SimilarityModelOptions.FeatureDimension is {FeatureDimension}; it must be at least 1.");
        Require(EmbeddingDimension >= 1, $"SimilarityModelOptions.EmbeddingDimension is {EmbeddingDimension}; it must be at least 1.");
        Require(ImageHiddenDimension >= 1, $"SimilarityModelOptions.ImageHiddenDimension is {ImageHiddenDimension}; it must be at least 1.");
        Require(LocationHiddenDimension >= 1, $"SimilarityModelOptions.LocationHiddenDimension is {LocationHiddenDimension}; it must be at least 1.");
        Require(LocationHiddenLayers >= 1, $"SimilarityModelOptions.LocationHiddenLayers is {LocationHiddenLayers}; it must be at least 1.");
        Require(FourierFeatures >= 1, $"SimilarityModelOptions.FourierFeatures is {FourierFeatures}; it must be at least 1.");
        Require(Scales is { Count: > 0 } && Scales.All(s => s > 0 && double.IsFinite(s)), $"SimilarityModelOptions.Scales is [{string.Join(", ", Scales ?? [])}]; it needs at least one positive, finite scale.");
        Require(Enum.IsDefined(LocationInput), $"SimilarityModelOptions.LocationInput is {LocationInput}; use UnitVector or EqualEarth.");
        Require(InitialTemperature > 0 && double.IsFinite(InitialTemperature), string.Create(CultureInfo.InvariantCulture, $"SimilarityModelOptions.InitialTemperature is {InitialTemperature}; it must be positive."));
    }

    /// <summary>Whether two option sets describe the same model (the scales compared element by element).</summary>
    public bool SameShapeAs(SimilarityModelOptions other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return this with { Scales = [] } == other with { Scales = [] } && Scales.SequenceEqual(other.Scales);
    }
}
