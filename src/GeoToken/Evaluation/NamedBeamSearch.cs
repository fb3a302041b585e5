using GeoToken.Decoding;

namespace GeoToken.Evaluation;

/// <summary>A beam search evaluated as a strategy of its own (<see cref="EvaluationRunOptions.BeamSearches"/>).</summary>
/// <param name="Name">The strategy's name in reports.</param>
/// <param name="Options">Its settings; the evaluation sets the width (<see cref="EvaluationRunOptions.BeamWidth"/>) and takes the best beam.</param>
public sealed record NamedBeamSearch(string Name, BeamSearchOptions Options);
