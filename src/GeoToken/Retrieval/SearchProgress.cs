namespace GeoToken.Retrieval;

/// <summary>Progress of a search: queries whose neighbors have been written to the sink.</summary>
/// <param name="QueriesDone">Queries completed.</param>
/// <param name="QueryCount">Queries in all.</param>
public readonly record struct SearchProgress(long QueriesDone, long QueryCount);
