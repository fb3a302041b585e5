namespace GeoToken.Model.Training;

/// <summary>Settings of <see cref="DatasetBatchSource"/>.</summary>
public sealed record DatasetBatchSourceOptions
{
    /// <summary>Batches assembled ahead of the trainer on a background thread (default 2; 0 assembles on the caller's thread).</summary>
    public int Prefetch { get; init; } = 2;

    /// <summary>
    /// Use only the first this many query rows (default: all). Handy for quick runs and for a fixed
    /// validation subset.
    /// </summary>
    public int? MaxRows { get; init; }
}
