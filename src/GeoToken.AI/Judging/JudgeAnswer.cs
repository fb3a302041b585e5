using GeoToken.Geometry;

namespace GeoToken.AI.Judging;

/// <summary>A usable judge answer: a chosen candidate (1-based) or coordinates of its own.</summary>
/// <param name="Choice">The 1-based candidate number chosen, or null.</param>
/// <param name="Position">Coordinates given by the judge, or null.</param>
/// <param name="Reason">The judge's stated reason, if any.</param>
public sealed record JudgeAnswer(int? Choice, LatLng? Position, string? Reason);
