namespace GeoToken.Retrieval;

/// <summary>Stages of <see cref="ClusterIndex.Build"/>.</summary>
public enum IndexBuildStage
{
    /// <summary>Computing every gallery row's norm (rejecting zero, NaN and ∞ rows).</summary>
    ValidatingGallery,

    /// <summary>Reading the training sample.</summary>
    Sampling,

    /// <summary>k-means++ seeding of the top-level clusters.</summary>
    Seeding,

    /// <summary>Mini-batch k-means iterations on the sample.</summary>
    Training,

    /// <summary>Assigning every gallery row to its nearest top-level cluster.</summary>
    Assigning,

    /// <summary>Splitting clusters into the deeper levels.</summary>
    Splitting,

    /// <summary>Choosing the default beam widths on a sample of gallery rows used as queries.</summary>
    Calibrating,

    /// <summary>Writing the index file.</summary>
    Writing,
}

/// <summary>Progress of an index build: <paramref name="Done"/> of <paramref name="Total"/> units of the current <paramref name="Stage"/>.</summary>
/// <param name="Stage">The current stage.</param>
/// <param name="Done">Units done in this stage.</param>
/// <param name="Total">Units in this stage.</param>
public readonly record struct IndexBuildProgress(IndexBuildStage Stage, long Done, long Total);
