namespace GeoToken.SynthGeo;

/// <summary>Weights of one feature view (modality): how much of each latent part it sees.</summary>
/// <param name="Scene">Weight of the location-independent scene part S.</param>
/// <param name="Geography">Weight of the geographic part λ·G.</param>
/// <param name="Duplicate">Weight of the near-duplicate part D (landmarks, photo series).</param>
/// <param name="Noise">Weight of the view's own noise.</param>
public sealed record SynthGeoView(double Scene, double Geography, double Duplicate, double Noise);

/// <summary>
/// The parameters of SynthGeo's generative model (see <c>docs/synthgeo.md</c> for the equations). The
/// defaults are the calibrated setting: at 500,000 gallery rows, IM2GPS3K test locations and
/// dimension 512, nearest-neighbor retrieval scores about like the paper's kNN baseline on IM2GPS3K.
/// Arrays indexed by scene type have three entries: indoor, natural, urban (Places365 S3 labels 0, 1, 2).
/// </summary>
public sealed record SynthGeoModel
{
    /// <summary>The calibrated defaults.</summary>
    public static SynthGeoModel Default { get; } = new();

    // ---- embedding network -------------------------------------------------------------------

    /// <summary>Dimension of the latent vector z (a multiple of 64; default 256).</summary>
    public int LatentDimension { get; init; } = 256;

    /// <summary>Hidden width of the fixed random 2-layer mixing MLP (a multiple of 32; default 512).</summary>
    public int HiddenDimension { get; init; } = 512;

    // ---- where gallery photos are ---------------------------------------------------------------

    /// <summary>Probability that a gallery photo is placed at a real MP-16 photo coordinate (GeoCLIP's 100K) inside its sampled cell, rather than spread around the cell's mean (default 0.7).</summary>
    public double HotspotProbability { get; init; } = 0.7;

    /// <summary>Smallest and largest spread (Gaussian σ, km) around a hotspot; σ is log-uniform between them (default 0.02–2 km).</summary>
    public double[] HotspotSpreadKm { get; init; } = [0.02, 2.0];

    /// <summary>Spread (σ) of non-hotspot photos around the cell mean, as a fraction of the cell's edge length (default 0.25); points stay inside the cell.</summary>
    public double CellSpreadFraction { get; init; } = 0.25;

    /// <summary>Probability that a gallery photo continues the previous photo's burst (same photographer, same spot; bursts of at most 8; default 0.3).</summary>
    public double SeriesContinueProbability { get; init; } = 0.3;

    /// <summary>Spread (σ, km) of a burst around its first photo (default 0.03).</summary>
    public double SeriesSpreadKm { get; init; } = 0.03;

    /// <summary>Probability that a burst photo keeps the first photo's scene class (default 0.7).</summary>
    public double SeriesSameSceneProbability { get; init; } = 0.7;

    // ---- scene part S (location-independent) ----------------------------------------------------

    /// <summary>Weight of the scene-class code (365 Places classes; default 1.0).</summary>
    public double SceneClassWeight { get; init; } = 1.0;

    /// <summary>Weight of the sub-scene code (a variant within the class; default 0.7).</summary>
    public double SubsceneWeight { get; init; } = 0.7;

    /// <summary>Sub-scene variants per scene class (default 24).</summary>
    public int SubscenesPerClass { get; init; } = 24;

    /// <summary>Weight of the coarse scene-type code (indoor / natural / urban; default 0.5).</summary>
    public double SceneTypeWeight { get; init; } = 0.5;

    // ---- locatability λ ------------------------------------------------------------------------

    /// <summary>Kumaraswamy shape a of λ per scene type (default indoor 1.0, natural 2.0, urban 2.5).</summary>
    public double[] LocatabilityA { get; init; } = [1.0, 2.0, 2.5];

    /// <summary>Kumaraswamy shape b of λ per scene type (default indoor 6, natural 2.5, urban 1.6).</summary>
    public double[] LocatabilityB { get; init; } = [6.0, 2.5, 1.6];

    // ---- geographic part G ---------------------------------------------------------------------

    /// <summary>S2 levels with a random code per cell (default 2, 3, 5, 7, 9, 11, 13, 15: cells of about 2300 km down to 280 m).</summary>
    public int[] CellLevels { get; init; } = [2, 3, 5, 7, 9, 11, 13, 15];

    /// <summary>Per scene type, the weight of each level in <see cref="CellLevels"/> (indoor, natural, urban rows).</summary>
    public double[][] CellLevelWeights { get; init; } =
    [
        [0.45, 0.35, 0.35, 0.30, 0.25, 0.20, 0.20, 0.15],
        [0.70, 0.70, 0.70, 0.55, 0.45, 0.30, 0.20, 0.15],
        [0.60, 0.50, 0.55, 0.50, 0.60, 0.60, 0.55, 0.45],
    ];

    /// <summary>Before a cell is looked up at a level, the position is jittered by this fraction of the level's edge length (σ), so codes blend across cell borders (default 0.3).</summary>
    public double CellJitterFraction { get; init; } = 0.3;

    /// <summary>Per scene type, the weight of the country code (country of the nearest GeoNames place; default 0.3, 0.35, 0.6).</summary>
    public double[] CountryWeight { get; init; } = [0.3, 0.35, 0.6];

    /// <summary>Per scene type, the weight of the nearest-city code at distance 0 (default 0.3, 0.2, 0.85).</summary>
    public double[] CityWeight { get; init; } = [0.3, 0.2, 0.85];

    /// <summary>The city code's weight decays as exp(−d / scale) with the distance d to the place (default 25 km).</summary>
    public double CityScaleKm { get; init; } = 25;

    /// <summary>Per scene type, the weight of the smooth climate field (default 0.2, 1.0, 0.6).</summary>
    public double[] ClimateWeight { get; init; } = [0.2, 1.0, 0.6];

    /// <summary>Random Fourier features of the climate field (default 48).</summary>
    public int ClimateFeatures { get; init; } = 48;

    /// <summary>Length scales (km) of the climate field; features are split evenly among them (default 3000, 1000, 300).</summary>
    public double[] ClimateLengthScalesKm { get; init; } = [3000, 1000, 300];

    // ---- near-duplicate part D ------------------------------------------------------------------

    /// <summary>S2 level of landmark spots (default 15, about 280 m).</summary>
    public int LandmarkLevel { get; init; } = 15;

    /// <summary>
    /// A spot's fame is 1 − exp(−n / this), n being the real MP-16 photos (GeoCLIP's 100K sample) in the
    /// spot: landmarks are where people take photos (default 3).
    /// </summary>
    public double LandmarkFamePhotos { get; init; } = 3;

    /// <summary>Per scene type, the probability that a photo at a spot shows its landmark, times the spot's fame (default 0.02, 0.15, 0.35).</summary>
    public double[] LandmarkShotProbability { get; init; } = [0.02, 0.15, 0.35];

    /// <summary>Weight of a landmark's code (default 2.0).</summary>
    public double LandmarkWeight { get; init; } = 2.0;

    /// <summary>Weight of a photo burst's shared code (default 1.5).</summary>
    public double SeriesWeight { get; init; } = 1.5;

    // ---- noise and views -------------------------------------------------------------------------

    /// <summary>The image view (default: scene 1, geography 1.25, duplicates 1, noise 0.8).</summary>
    public SynthGeoView ImageView { get; init; } = new(1.0, 1.25, 1.0, 0.8);

    /// <summary>The image→location view: more geography, less scene (default 0.6, 1.5, 1, 0.8).</summary>
    public SynthGeoView LocationView { get; init; } = new(0.6, 1.5, 1.0, 0.8);

    /// <summary>The image→text view: more scene, less geography (default 1.5, 0.7, 1, 0.8).</summary>
    public SynthGeoView TextView { get; init; } = new(1.5, 0.7, 1.0, 0.8);

    /// <summary>
    /// Reads parameters from a JSON object (names as <see cref="ToJson"/> writes them, any case); parameters
    /// it does not name keep their <see cref="Default"/> values. The result is validated.
    /// </summary>
    /// <exception cref="System.Text.Json.JsonException">The JSON is malformed or a value has the wrong type.</exception>
    /// <exception cref="ArgumentException">An unknown parameter name, or a parameter out of range.</exception>
    public static SynthGeoModel FromJson(string json)
    {
        var context = SynthGeoJsonContext.Default.SynthGeoModel;
        var merged = System.Text.Json.JsonSerializer.SerializeToNode(Default, context)!.AsObject();
        if (System.Text.Json.Nodes.JsonNode.Parse(json) is not System.Text.Json.Nodes.JsonObject given)
        {
            throw new ArgumentException("SynthGeo model parameters must be a JSON object.");
        }

        foreach (var (name, value) in given)
        {
            string key = merged.Select(p => p.Key).FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArgumentException($"'{name}' is not a SynthGeo model parameter; they are {string.Join(", ", merged.Select(p => p.Key))}.");
            merged[key] = value?.DeepClone();
        }

        var model = System.Text.Json.JsonSerializer.Deserialize(merged, context) ?? throw new ArgumentException("The JSON holds null, not SynthGeo model parameters.");
        model.Validate();
        return model;
    }

    /// <summary>The parameters as indented JSON.</summary>
    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this, SynthGeoJsonContext.Default.SynthGeoModel);

    /// <summary>Throws unless every parameter is usable; the message names the parameter and value.</summary>
    /// <exception cref="ArgumentException">A parameter is out of range.</exception>
    public void Validate()
    {
        static void Require(bool ok, string what)
        {
            if (!ok) throw new ArgumentException($"SynthGeoModel: {what}.");
        }

        static bool Finite(double v) => double.IsFinite(v) && v >= 0;
        Require(LatentDimension >= 64 && LatentDimension % 64 == 0, $"LatentDimension {LatentDimension} must be a positive multiple of 64");
        Require(HiddenDimension >= 32 && HiddenDimension % 32 == 0, $"HiddenDimension {HiddenDimension} must be a positive multiple of 32");
        Require(HotspotProbability is >= 0 and <= 1, $"HotspotProbability {HotspotProbability} must be in [0, 1]");
        Require(HotspotSpreadKm.Length == 2 && HotspotSpreadKm[0] > 0 && HotspotSpreadKm[1] >= HotspotSpreadKm[0], "HotspotSpreadKm must be [min, max] with 0 < min ≤ max");
        Require(CellSpreadFraction > 0, $"CellSpreadFraction {CellSpreadFraction} must be positive");
        Require(SeriesContinueProbability is >= 0 and < 1, $"SeriesContinueProbability {SeriesContinueProbability} must be in [0, 1)");
        Require(SeriesSameSceneProbability is >= 0 and <= 1, $"SeriesSameSceneProbability {SeriesSameSceneProbability} must be in [0, 1]");
        Require(Finite(SeriesSpreadKm), "SeriesSpreadKm must be finite and non-negative");
        Require(SubscenesPerClass >= 1, $"SubscenesPerClass {SubscenesPerClass} must be at least 1");
        Require(LocatabilityA.Length == 3 && LocatabilityB.Length == 3 && LocatabilityA.Concat(LocatabilityB).All(v => v > 0 && double.IsFinite(v)), "LocatabilityA and LocatabilityB need three positive values");
        Require(CellLevels.Length >= 1 && CellLevels.All(l => l is >= 0 and <= 30), "CellLevels must be S2 levels 0..30");
        Require(CellLevelWeights.Length == 3 && CellLevelWeights.All(w => w.Length == CellLevels.Length && w.All(Finite)), "CellLevelWeights needs three rows of one non-negative weight per level");
        foreach (var (name, a) in new[] { ("CountryWeight", CountryWeight), ("CityWeight", CityWeight), ("ClimateWeight", ClimateWeight), ("LandmarkShotProbability", LandmarkShotProbability) })
        {
            Require(a.Length == 3 && a.All(Finite), $"{name} needs three non-negative values");
        }

        Require(LandmarkShotProbability.All(p => p <= 1), "LandmarkShotProbability values must be ≤ 1");
        Require(CityScaleKm > 0, "CityScaleKm must be positive");
        Require(ClimateFeatures >= ClimateLengthScalesKm.Length && ClimateLengthScalesKm.Length >= 1 && ClimateLengthScalesKm.All(l => l > 0), "ClimateFeatures must cover every length scale and scales must be positive");
        Require(LandmarkLevel is >= 0 and <= 30, $"LandmarkLevel {LandmarkLevel} must be 0..30");
        Require(LandmarkFamePhotos > 0 && double.IsFinite(LandmarkFamePhotos), $"LandmarkFamePhotos {LandmarkFamePhotos} must be positive");
        Require(Finite(LandmarkWeight) && Finite(SeriesWeight) && Finite(SceneClassWeight) && Finite(SubsceneWeight) && Finite(SceneTypeWeight), "weights must be finite and non-negative");
        foreach (var v in new[] { ImageView, LocationView, TextView })
        {
            Require(v is not null && Finite(v.Scene) && Finite(v.Geography) && Finite(v.Duplicate) && Finite(v.Noise) && v.Scene + v.Geography + v.Duplicate + v.Noise > 0, "view weights must be finite, non-negative and not all zero");
        }
    }
}
