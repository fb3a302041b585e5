using GeoToken.IO;

namespace GeoToken.SynthGeo;

/// <summary>Where SynthGeo's test images are: IM2GPS3K's real coordinates, or any CSV of positions.</summary>
internal static class TestLocations
{
    /// <summary>The 2,997 IM2GPS3K images with their authors and scene labels.</summary>
    public static TestLocation[] Im2Gps3k() =>
        BundledGeography.Im2GpsArray.Select(r => new TestLocation(r.Location, r.ImageId, r.Author, r.S3Label, r.S365Label)).ToArray();

    /// <summary>
    /// Positions from a CSV with a latitude column (lat, latitude) and a longitude column (lon, lng,
    /// longitude), any case; optional id (IMG_ID, id) and author (AUTHOR) columns.
    /// </summary>
    /// <exception cref="CsvFormatException">A column is missing or a value is bad (the message names the row and column).</exception>
    public static TestLocation[] FromCsv(string path)
    {
        using var r = CsvReader.Open(path);
        int lat = r.RequireColumn("latitude", "lat", "latitude");
        int lon = r.RequireColumn("longitude", "lon", "lng", "longitude");
        int id = r.IndexOf("IMG_ID", "id", "image_id");
        int author = r.IndexOf("AUTHOR", "author");
        var list = new List<TestLocation>();
        while (r.Read())
        {
            var p = new GeoToken.Geometry.LatLng(r.GetLatitude(lat), r.GetLongitude(lon));
            string sourceId = id >= 0 ? r.GetString(id) : r.Row.ToString(System.Globalization.CultureInfo.InvariantCulture);
            list.Add(new TestLocation(p, sourceId, author >= 0 ? r.GetString(author) : null, -1, -1));
        }

        if (list.Count == 0) throw new CsvFormatException(path, -1, null, "has no data rows; at least one test location is needed.");
        return [.. list];
    }

    /// <summary>
    /// Chooses <paramref name="count"/> rows from <paramref name="source"/>: all of them in file order when
    /// the counts are equal; a seeded random subset (kept in file order) when fewer are asked for; every row
    /// once followed by seeded draws with replacement when more are asked for.
    /// </summary>
    public static TestLocation[] Choose(TestLocation[] source, int count, ulong seed)
    {
        int n = source.Length;
        if (count == n) return source;
        var rng = Rng.For(seed, SynthGeoWorld.TagTestPick);
        if (count < n)
        {
            var idx = Enumerable.Range(0, n).ToArray();
            for (int k = 0; k < count; k++)
            {
                int j = k + rng.NextInt(n - k);
                (idx[k], idx[j]) = (idx[j], idx[k]);
            }

            var chosen = idx[..count];
            Array.Sort(chosen);
            return chosen.Select(i => source[i]).ToArray();
        }

        var result = new TestLocation[count];
        source.CopyTo(result, 0);
        for (int k = n; k < count; k++) result[k] = source[rng.NextInt(n)];
        return result;
    }
}
