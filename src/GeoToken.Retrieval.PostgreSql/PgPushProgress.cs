namespace GeoToken.Retrieval;

/// <summary>Progress of a push: dataset rows handled so far (loaded or found present), of all; then the index build.</summary>
/// <param name="RowsDone">Rows handled so far.</param>
/// <param name="Rows">The dataset's rows.</param>
/// <param name="Stage"><c>load</c> or <c>index</c>.</param>
public readonly record struct PgPushProgress(long RowsDone, long Rows, string Stage);
