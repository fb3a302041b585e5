namespace GeoToken.Data;

/// <summary>
/// Where a <see cref="GeoDataset"/>'s files are and how to read its metadata. The defaults describe a
/// dataset folder (<c>meta.csv</c>, <c>image.npy</c>, optional <c>loc.npy</c> and <c>text.npy</c>);
/// set the file and column names to open files in other layouts in place, without copying, e.g. the
/// paper's <c>mp16_raw_image_feats.npy</c> with <c>MP16_Pro_filtered.csv</c>.
/// </summary>
public sealed record GeoDatasetOptions
{
    /// <summary>The folder that relative paths below are resolved against (null: the current directory).</summary>
    public string? Folder { get; init; }

    /// <summary>The metadata CSV, one row per image in feature-row order (default <c>meta.csv</c>).</summary>
    public string MetaFile { get; init; } = "meta.csv";

    /// <summary>Lines to skip before the CSV header (default 0).</summary>
    public int MetaSkipLines { get; init; }

    /// <summary>The image features (default <c>image.npy</c>); required.</summary>
    public string? ImageFeatures { get; init; }

    /// <summary>
    /// The image→location features. Null (default): <c>loc.npy</c> is used if it exists in
    /// <see cref="Folder"/> and <see cref="DetectOptionalModalities"/> is set. A path given here must exist.
    /// </summary>
    public string? LocationFeatures { get; init; }

    /// <summary>The image→text features; like <see cref="LocationFeatures"/> with <c>text.npy</c>.</summary>
    public string? TextFeatures { get; init; }

    /// <summary>Use <c>loc.npy</c> and <c>text.npy</c> when present and not named explicitly (default true).</summary>
    public bool DetectOptionalModalities { get; init; } = true;

    /// <summary>Candidate names of the image-id column, first match wins, any case (default IMG_ID, image_id, id). The column is optional.</summary>
    public IReadOnlyList<string> IdColumns { get; init; } = ["IMG_ID", "image_id", "id"];

    /// <summary>Candidate names of the latitude column, any case (default LAT, latitude).</summary>
    public IReadOnlyList<string> LatitudeColumns { get; init; } = ["LAT", "latitude"];

    /// <summary>Candidate names of the longitude column, any case (default LON, lng, longitude).</summary>
    public IReadOnlyList<string> LongitudeColumns { get; init; } = ["LON", "lng", "longitude"];

    /// <summary>
    /// Read coordinates from the memory-mapped sidecar <c>latlon.npy</c> that <see cref="GeoDatasetWriter"/>
    /// writes, when <c>dataset.json</c> shows it matches the current <c>meta.csv</c> (default true).
    /// Otherwise coordinates are parsed from the CSV on first use.
    /// </summary>
    public bool UseCoordinateSidecar { get; init; } = true;

    /// <summary>
    /// Check the full SHA-256 of every file <c>dataset.json</c> records, and that image ids do not repeat
    /// (default false: <c>meta.csv</c> and <c>latlon.npy</c> are hashed in full on every open, feature files only
    /// by size, head-and-tail hash and modification time; see <see cref="DatasetIntegrity.Checked"/>).
    /// Costs a read of every file (SHA-256 runs at about 1–2 GB/s).
    /// </summary>
    public bool Verify { get; init; }

    /// <summary>Open without reading <c>dataset.json</c> (to re-derive it).</summary>
    internal bool IgnoreManifest { get; init; }

    internal string Resolve(string file) => Folder is null ? Path.GetFullPath(file) : Path.GetFullPath(Path.Combine(Folder, file));
}
