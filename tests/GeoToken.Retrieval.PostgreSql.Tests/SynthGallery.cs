using GeoToken.Data;
using GeoToken.Tests.Support;

[assembly: AssemblyFixture(typeof(GeoToken.Retrieval.PostgreSql.Tests.SynthGallery))]

namespace GeoToken.Retrieval.PostgreSql.Tests;

/// <summary>
/// A small SynthGeo benchmark (3,000 gallery rows with SERIES, 200 test rows, 64-d float16 image features), generated once.
/// Float16 files matter: the table stores float16 too, so PostgreSQL compares exactly the values the folder holds.
/// </summary>
public sealed class SynthGallery() : SynthGeoFolder("geotoken-pg-synth-", trainRows: 3000, testRows: 200, seed: 5, FeatureElementType.Float16);
