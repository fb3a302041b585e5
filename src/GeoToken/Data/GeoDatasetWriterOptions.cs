namespace GeoToken.Data;

/// <summary>What a <see cref="GeoDatasetWriter"/> writes.</summary>
public sealed record GeoDatasetWriterOptions
{
    /// <summary>How features are stored (default float16: half the disk and page cache).</summary>
    public FeatureElementType ElementType { get; init; } = FeatureElementType.Float16;

    /// <summary>The image feature dimension (required, positive).</summary>
    public required int ImageDimension { get; init; }

    /// <summary>The image→location feature dimension, or null to write no <c>loc.npy</c> (default).</summary>
    public int? LocationDimension { get; init; }

    /// <summary>The image→text feature dimension, or null to write no <c>text.npy</c> (default).</summary>
    public int? TextDimension { get; init; }

    /// <summary>Extra <c>meta.csv</c> columns after <c>IMG_ID,LAT,LON</c> (default none).</summary>
    public IReadOnlyList<string> ExtraColumns { get; init; } = [];

    /// <summary>The number of rows, if known; checked at commit (default: unknown).</summary>
    public long? ExpectedRows { get; init; }

    /// <summary>Write the coordinate sidecar <c>latlon.npy</c> and <c>dataset.json</c> for O(1) coordinate access (default true).</summary>
    public bool WriteCoordinateSidecar { get; init; } = true;

    /// <summary>The dimension of <paramref name="modality"/>, or null when it is not written.</summary>
    public int? DimensionOf(FeatureModality modality) => modality switch
    {
        FeatureModality.Image => ImageDimension,
        FeatureModality.Location => LocationDimension,
        FeatureModality.Text => TextDimension,
        _ => throw new ArgumentOutOfRangeException(nameof(modality), modality, "Unknown modality."),
    };
}
