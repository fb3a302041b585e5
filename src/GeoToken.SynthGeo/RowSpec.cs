using GeoToken.Geometry;

namespace GeoToken.SynthGeo;

/// <summary>The hidden attributes of one synthetic image (the generator's ground truth).</summary>
internal struct RowSpec
{
    public LatLng Location;
    public int SceneType;      // 0 indoor, 1 natural, 2 urban
    public int SceneClass;     // Places365 class 0..364
    public int Subscene;
    public float Locatability; // λ in [0, 1]
    public bool Landmark;      // shows the landmark of its spot
    public ulong SeriesKey;    // 0: not part of a burst / series
}

/// <summary>A test location with what is known about it.</summary>
/// <param name="Location">The position.</param>
/// <param name="SourceId">Its id in the source file.</param>
/// <param name="Author">Its photographer, when known (same author + same position form a series).</param>
/// <param name="SceneType">The Places365 S3 label when known, else −1.</param>
/// <param name="SceneClass">The Places365 class when known, else −1.</param>
internal sealed record TestLocation(LatLng Location, string SourceId, string? Author, int SceneType, int SceneClass);
