using GeoToken.Data;
using GeoToken.Tests.Support;

namespace GeoToken.Model.Tests.Reranking;

/// <summary>A small SynthGeo benchmark (4,000 gallery rows, 300 test rows, 64-d float32 image features), generated once per test class.</summary>
public sealed class SynthGeoFixture() : SynthGeoFolder("geotoken-model-synth-", trainRows: 4000, testRows: 300, seed: 3, FeatureElementType.Float32);
