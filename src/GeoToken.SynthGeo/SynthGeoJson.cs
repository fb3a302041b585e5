using System.Text.Json;
using System.Text.Json.Serialization;

namespace GeoToken.SynthGeo;

/// <summary>The settings recorded in <c>OUT/synthgeo.json</c>.</summary>
internal sealed record SynthGeoSettings(
    string Generator, int FormatVersion, ulong Seed, long TrainRows, int TestRows, int Dimension, int Modalities,
    string ElementType, string TestLocations, SynthGeoModel Model);

/// <summary>Source-generated JSON for SynthGeo's records (works trimmed and AOT-compiled).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(SynthGeoSettings))]
[JsonSerializable(typeof(SynthGeoModel))]
internal sealed partial class SynthGeoJsonContext : JsonSerializerContext;
