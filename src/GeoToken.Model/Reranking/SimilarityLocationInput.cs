
namespace GeoToken.Reranking;

/// <summary>How a <see cref="SimilarityModel"/>'s location encoder sees a position before its random Fourier features.</summary>
public enum SimilarityLocationInput
{
    /// <summary>
    /// The position as a 3-D unit vector on the sphere (the library's own variant): no seam at the antimeridian
    /// and no distortion at the poles. The model reads float32 <c>[N, 3]</c> inputs.
    /// </summary>
    UnitVector,

    /// <summary>
    /// GeoCLIP's input: (latitude, longitude) in degrees, projected with the Equal Earth projection (in float32,
    /// as GeoCLIP computes it) and scaled by 66.50336 / 180, so that x lies in [−1, 1] and y in about
    /// [−0.487, 0.487]. The model reads float32 <c>[N, 2]</c> inputs (latitude, longitude). Needed to use GeoCLIP's
    /// published weights (<see cref="GeoClipImporter"/>).
    /// </summary>
    EqualEarth,
}
