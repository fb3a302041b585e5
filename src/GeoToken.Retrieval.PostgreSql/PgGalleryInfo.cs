using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>What the metadata table (<c>geotoken_gallery</c>) records of a gallery table.</summary>
public sealed record PgGalleryInfo
{
    /// <summary>The gallery table.</summary>
    public required string Table { get; init; }

    /// <summary>The content identity of the dataset pushed into it (<see cref="GeoDataset.ContentId"/>), or null for a gallery made only of live additions.</summary>
    public string? ContentId { get; init; }

    /// <summary>Rows of that dataset (its rows are numbered 0 … DatasetRows − 1; live additions come after).</summary>
    public required long DatasetRows { get; init; }

    /// <summary>The feature dimension of every view.</summary>
    public required int Dimension { get; init; }

    /// <summary>The feature views stored (image first), as columns of halfvec(<see cref="Dimension"/>).</summary>
    public required IReadOnlyList<FeatureModality> Views { get; init; }

    /// <summary>Whether the AUTHOR column was filled from the dataset.</summary>
    public required bool HasAuthor { get; init; }

    /// <summary>Whether the SERIES column was filled from the dataset.</summary>
    public required bool HasSeries { get; init; }

    /// <summary>When the dataset's last row was loaded (null while a push is incomplete).</summary>
    public DateTimeOffset? LoadedAt { get; init; }

    /// <summary>When the HNSW index was built (null: not yet; searches scan the table).</summary>
    public DateTimeOffset? IndexedAt { get; init; }
}
