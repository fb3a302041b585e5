using GeoToken.Geometry;

namespace GeoToken.Tests.Geometry;

/// <summary>Inputs that exercise S2: random positions, and positions exactly on faces, cell edges, poles and the antimeridian.</summary>
internal static class S2TestPoints
{
    /// <summary>Half uniform on the sphere, half uniform in latitude/longitude, some rounded to few decimals as users type them.</summary>
    public static IEnumerable<(double Lat, double Lng)> RandomLatLngs(int count, int seed)
    {
        var rng = new Random(seed);
        for (int k = 0; k < count; k++)
        {
            double lat, lng;
            switch (k % 4)
            {
                case 0:
                case 1:
                    lat = Math.Asin(2 * rng.NextDouble() - 1) * (180 / Math.PI);
                    lng = rng.NextDouble() * 360 - 180;
                    break;
                case 2:
                    lat = rng.NextDouble() * 180 - 90;
                    lng = rng.NextDouble() * 360 - 180;
                    break;
                default:
                    lat = Math.Round(rng.NextDouble() * 180 - 90, rng.Next(0, 7));
                    lng = Math.Round(rng.NextDouble() * 360 - 180, rng.Next(0, 7));
                    break;
            }

            yield return (lat, lng);
        }
    }

    /// <summary>Poles, the antimeridian, the equator, face boundaries (±45°, ±135°, the cube's edges), and cell vertices as lat/lng.</summary>
    public static IEnumerable<(double Lat, double Lng)> SpecialLatLngs()
    {
        double[] lngs = [-180, Math.BitIncrement(-180), -135, -90, -45, 0, -0.0, 45, 90, 135, Math.BitDecrement(180), 180, 1e-300, -1e-300];
        double[] lats = [-90, Math.BitIncrement(-90), -45, Math.Atan(Math.Sqrt(0.5)) * (180 / Math.PI), 35.26438968275466, -35.26438968275466, 0, -0.0, 45, Math.BitDecrement(90), 90];
        foreach (double lat in lats)
        {
            foreach (double lng in lngs) yield return (lat, lng);
        }

        var rng = new Random(3);
        for (int k = 0; k < 20_000; k++)
        {
            yield return (rng.NextDouble() * 180 - 90, 180);
            yield return (rng.NextDouble() * 180 - 90, -180);
            yield return (90, rng.NextDouble() * 360 - 180);
            yield return (-90, rng.NextDouble() * 360 - 180);
            yield return (rng.NextDouble() * 70 - 35, 45 + 90 * rng.Next(-2, 2));
            yield return (0, rng.NextDouble() * 360 - 180);
        }

        // Cube edges and cell corners, converted to lat/lng.
        foreach (var p in BoundaryPoints(seed: 4))
        {
            var ll = p.ToLatLng();
            yield return (ll.Latitude, ll.Longitude);
        }
    }

    /// <summary>Random vectors (various lengths) on the sphere.</summary>
    public static IEnumerable<S2Point> RandomPoints(int count, int seed)
    {
        var rng = new Random(seed);
        for (int k = 0; k < count; k++)
        {
            double x = 2 * rng.NextDouble() - 1, y = 2 * rng.NextDouble() - 1, z = 2 * rng.NextDouble() - 1;
            if (x == 0 && y == 0 && z == 0) continue;
            double scale = k % 3 == 0 ? 1 / Math.Sqrt(x * x + y * y + z * z) : Math.Pow(10, rng.Next(-5, 6));
            yield return new S2Point(x * scale, y * scale, z * scale);
        }
    }

    /// <summary>Points exactly on face edges, cube corners, and the (u,v) boundaries of cells at every level.</summary>
    public static IEnumerable<S2Point> BoundaryPoints(int seed)
    {
        var rng = new Random(seed);
        for (int face = 0; face < 6; face++)
        {
            foreach (double u in new[] { -1.0, 1.0 })
            {
                foreach (double v in new[] { -1.0, 1.0, 0.0 }) yield return S2Coords.FaceUVtoXYZ(face, u, v);
                for (int k = 0; k < 2000; k++)
                {
                    double t = 2 * rng.NextDouble() - 1;
                    yield return S2Coords.FaceUVtoXYZ(face, u, t);
                    yield return S2Coords.FaceUVtoXYZ(face, t, u);
                }
            }

            for (int k = 0; k < 10_000; k++)
            {
                int level = rng.Next(0, S2CellId.MaxLevel + 1);
                int size = S2CellId.SizeIJ(level);
                int i = rng.Next(0, S2Coords.LimitIJ / size + 1) * size;
                int j = rng.Next(0, S2Coords.LimitIJ);
                double ub = S2Coords.STtoUV(S2Coords.IJtoSTMin(i));
                double vb = S2Coords.STtoUV(S2Coords.IJtoSTMin(j));
                yield return S2Coords.FaceUVtoXYZ(face, ub, vb);
                yield return S2Coords.FaceUVtoXYZ(face, vb, ub);
                yield return S2Coords.FaceUVtoXYZ(face, ub, vb).Normalize();
            }
        }

        foreach (var cell in Cells(seed).Take(20_000))
        {
            for (int v = 0; v < 4; v++) yield return cell.GetVertex(v);
        }
    }

    /// <summary>Cells at every level: random ones, faces, and the corner cells of every face where neighbors cross faces.</summary>
    public static IEnumerable<S2CellId> Cells(int seed)
    {
        var rng = new Random(seed);
        for (int face = 0; face < 6; face++)
        {
            yield return S2CellId.FromFace(face);
            int max = S2Coords.LimitIJ - 1;
            foreach (var (i, j) in new[] { (0, 0), (0, max), (max, 0), (max, max), (max / 2, 0), (0, max / 2) })
            {
                var leaf = S2CellId.FromFaceIJ(face, i, j);
                for (int level = 0; level <= S2CellId.MaxLevel; level++) yield return leaf.Parent(level);
            }
        }

        foreach (var (lat, lng) in RandomLatLngs(150_000, seed))
        {
            yield return S2CellId.FromLatLng(lat, lng).Parent(rng.Next(0, S2CellId.MaxLevel + 1));
        }
    }
}
