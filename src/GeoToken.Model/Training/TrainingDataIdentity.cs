using System.Globalization;

namespace GeoToken.Model.Training;

/// <summary>
/// What a training run trains on, recorded in its checkpoints so that a resumed run can refuse other data
/// (<see cref="GeoTokenTrainer.Data"/>, <see cref="TrainingRunOptions.ResumeOnOtherData"/>).
/// </summary>
/// <param name="Dataset">The training dataset folder, for messages (not compared: a moved folder is the same data).</param>
/// <param name="ContentId">The training dataset's <see cref="Data.GeoDataset.ContentId"/>.</param>
/// <param name="Rows">Training rows.</param>
/// <param name="NeighborCount">Neighbors per example.</param>
/// <param name="NeighborGroupColumn">The column whose groups training neighbors skip, or null.</param>
public sealed record TrainingDataIdentity(string Dataset, string ContentId, long Rows, int NeighborCount, string? NeighborGroupColumn)
{
    /// <summary>Whether <paramref name="other"/> is the same training data with the same neighbor settings (the folder may differ).</summary>
    public bool SameDataAs(TrainingDataIdentity other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return ContentId == other.ContentId && Rows == other.Rows && NeighborCount == other.NeighborCount
            && string.Equals(NeighborGroupColumn, other.NeighborGroupColumn, StringComparison.OrdinalIgnoreCase);
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Dataset} ({Rows} rows, {ContentId}, k = {NeighborCount}, neighbor group {NeighborGroupColumn ?? "none"})");
}
