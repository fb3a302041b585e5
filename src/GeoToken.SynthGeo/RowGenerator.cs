using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using GeoToken.Geometry;

namespace GeoToken.SynthGeo;

/// <summary>
/// Samples rows' hidden attributes and turns them into latent vectors. Every decision for row i of a
/// split draws from generators keyed by (seed, split, i), so a row's content never depends on which
/// thread computes it or on block boundaries.
/// </summary>
internal sealed class RowGenerator(SynthGeoWorld world)
{
    private const int SeriesWindow = 8;
    private readonly SynthGeoWorld _w = world;
    private readonly SynthGeoModel _m = world.Model;

    /// <summary>The attributes of gallery (training) row <paramref name="row"/>.</summary>
    public RowSpec Gallery(long row)
    {
        long window = row / SeriesWindow;
        int pos = (int)(row % SeriesWindow);
        int leader = pos;
        while (leader > 0 && Continues(window, leader)) leader--;
        int end = pos + 1;
        while (end < SeriesWindow && Continues(window, end)) end++;
        long leaderRow = window * SeriesWindow + leader;

        var rng = Rng.For(_w.Seed, SynthGeoWorld.TagGallery, (ulong)leaderRow);
        int cell = _w.SampleCell(ref rng);
        var spec = new RowSpec { Location = _w.PlaceInCell(cell, ref rng) };
        SampleScene(ref spec, ref rng, -1, -1);
        if (end - leader > 1) spec.SeriesKey = Rng.Hash(_w.Seed, SynthGeoWorld.TagGalleryMember, (ulong)window, (ulong)leader) | 1;

        if (leader != pos)
        {
            // A later photo of the same burst: same place (a few metres away), often the same scene.
            var member = Rng.For(_w.Seed, SynthGeoWorld.TagGalleryMember, (ulong)row);
            spec.Location = _w.Near(cell, spec.Location, _m.SeriesSpreadKm, 4, ref member);
            if (member.NextDouble() >= _m.SeriesSameSceneProbability)
            {
                float keep = spec.Locatability;
                SampleScene(ref spec, ref member, -1, -1);
                spec.Locatability = keep;
            }
            else
            {
                spec.Subscene = member.NextInt(_m.SubscenesPerClass);
            }

            rng = member;
        }

        DecideLandmark(ref spec, ref rng);
        return spec;
    }

    /// <summary>The attributes of test row <paramref name="row"/> at <paramref name="location"/>.</summary>
    public RowSpec Test(long row, TestLocation location)
    {
        var rng = Rng.For(_w.Seed, SynthGeoWorld.TagTest, (ulong)row);
        var spec = new RowSpec { Location = location.Location };
        SampleScene(ref spec, ref rng, location.SceneType, location.SceneClass);
        if (location.Author is { Length: > 0 } author)
        {
            // The same photographer at the same position: one series (IM2GPS3K has up to 43 such photos).
            ulong h = Rng.Hash(_w.Seed, SynthGeoWorld.TagTest, Fnv(author));
            spec.SeriesKey = Rng.Hash(h, BitConverter.DoubleToUInt64Bits(location.Location.Latitude), BitConverter.DoubleToUInt64Bits(location.Location.Longitude)) | 1;
        }

        DecideLandmark(ref spec, ref rng);
        return spec;
    }

    /// <summary>
    /// Writes the latent parts of a row: S (scene), G (geography, not yet scaled by λ) and D (near-duplicates),
    /// each <see cref="SynthGeoWorld.Latent"/> long.
    /// </summary>
    public void Parts(in RowSpec spec, long row, ulong split, Span<float> s, Span<float> g, Span<float> d)
    {
        s.Clear();
        g.Clear();
        d.Clear();
        ulong seed = _w.Seed;
        int t = spec.SceneType;

        Codes.Add(s, Rng.Hash(seed, SynthGeoWorld.TagCode, SynthGeoWorld.CodeClass, (ulong)spec.SceneClass), (float)_m.SceneClassWeight);
        Codes.Add(s, Rng.Hash(seed, SynthGeoWorld.TagCode, SynthGeoWorld.CodeSubscene, ((ulong)spec.SceneClass << 20) | (uint)spec.Subscene), (float)_m.SubsceneWeight);
        Codes.Add(s, Rng.Hash(seed, SynthGeoWorld.TagCode, SynthGeoWorld.CodeType, (ulong)t), (float)_m.SceneTypeWeight);

        // Multi-scale cells, each looked up at a jittered position so that codes blend across borders.
        var jitter = Rng.For(seed, SynthGeoWorld.TagJitter, split, (ulong)row);
        var levels = _m.CellLevels;
        var weights = _m.CellLevelWeights[t];
        for (int k = 0; k < levels.Length; k++)
        {
            if (weights[k] == 0) continue;
            double sigma = _m.CellJitterFraction * SynthGeoWorld.EdgeKm(levels[k]);
            var p = SynthGeoWorld.Offset(spec.Location, sigma * jitter.NextGaussian(), sigma * jitter.NextGaussian());
            var cell = S2CellId.FromLatLng(p).Parent(levels[k]);
            Codes.Add(g, Rng.Hash(seed, SynthGeoWorld.TagCode, SynthGeoWorld.CodeCell, cell.Id), (float)weights[k]);
        }

        // Country and city of the nearest real place.
        int city = _w.Cities.NearestIndex(spec.Location, out double cityKm);
        Codes.Add(g, Rng.Hash(seed, SynthGeoWorld.TagCode, SynthGeoWorld.CodeCountry, (ulong)_w.Cities.CountryIndexOf(city)), (float)_m.CountryWeight[t]);
        Codes.Add(g, Rng.Hash(seed, SynthGeoWorld.TagCode, SynthGeoWorld.CodeCity, (ulong)city), (float)(_m.CityWeight[t] * Math.Exp(-cityKm / _m.CityScaleKm)));

        // Smooth climate-like field: random Fourier features of the unit vector.
        double climate = _m.ClimateWeight[t];
        if (climate > 0)
        {
            var u = spec.Location.ToPoint();
            int kf = _m.ClimateFeatures;
            double amp = climate * Math.Sqrt(2.0 / kf);
            var om = _w.ClimateOmega;
            Span<float> phi = stackalloc float[kf];
            for (int k = 0; k < kf; k++)
            {
                phi[k] = (float)(amp * Math.Cos(om[3 * k] * u.X + om[3 * k + 1] * u.Y + om[3 * k + 2] * u.Z + _w.ClimatePhase[k]));
            }

            Climate(_w.ClimateProjectionBlocked, phi, g);
        }

        if (spec.Landmark)
        {
            var spot = S2CellId.FromLatLng(spec.Location).Parent(_m.LandmarkLevel);
            Codes.Add(d, Rng.Hash(seed, SynthGeoWorld.TagCode, SynthGeoWorld.CodeLandmark, spot.Id), (float)_m.LandmarkWeight);
        }

        if (spec.SeriesKey != 0) Codes.Add(d, Rng.Hash(seed, SynthGeoWorld.TagCode, SynthGeoWorld.CodeSeries, spec.SeriesKey), (float)_m.SeriesWeight);
    }

    /// <summary>z = α S + β λ G + δ D + σ ε for one view, normalised to unit length.</summary>
    public void View(SynthGeoView view, float locatability, ReadOnlySpan<float> s, ReadOnlySpan<float> g, ReadOnlySpan<float> d, ref Rng noise, Span<float> z)
    {
        TensorPrimitives.Multiply(s, (float)view.Scene, z);
        TensorPrimitives.MultiplyAdd(g, (float)(view.Geography * locatability), z, z);
        TensorPrimitives.MultiplyAdd(d, (float)view.Duplicate, z, z);
        Codes.AddNoise(z, ref noise, (float)view.Noise);
        float norm = TensorPrimitives.Norm(z);
        if (norm > 0) TensorPrimitives.Multiply(z, 1 / norm, z);
    }

    /// <summary>g += Σₖ φₖ Pₖ with P stored as [latent/8][feature][8] (eight accumulators' worth of columns at a time).</summary>
    private static void Climate(float[] blocked, ReadOnlySpan<float> phi, Span<float> g)
    {
        int kf = phi.Length;
        for (int c = 0, o = 0; c < g.Length; c += 8)
        {
            var acc = Vector256.Create<float>(g.Slice(c, 8));
            for (int k = 0; k < kf; k++, o += 8)
            {
                acc = Vector256.FusedMultiplyAdd(Vector256.Create(phi[k]), Vector256.Create(blocked, o), acc);
            }

            acc.CopyTo(g.Slice(c, 8));
        }
    }

    private bool Continues(long window, int pos) =>
        (Rng.Hash(_w.Seed, SynthGeoWorld.TagSeriesBreak, (ulong)window, (ulong)pos) >> 11) * (1.0 / (1UL << 53)) < _m.SeriesContinueProbability;

    private void SampleScene(ref RowSpec spec, ref Rng rng, int knownType, int knownClass)
    {
        if (knownType >= 0 && knownClass >= 0)
        {
            spec.SceneType = knownType;
            spec.SceneClass = knownClass;
        }
        else
        {
            (spec.SceneType, spec.SceneClass) = _w.ScenePrior[rng.NextInt(_w.ScenePrior.Length)];
        }

        spec.Subscene = rng.NextInt(_m.SubscenesPerClass);
        int t = spec.SceneType;
        spec.Locatability = (float)rng.NextKumaraswamy(_m.LocatabilityA[t], _m.LocatabilityB[t]);
    }

    private void DecideLandmark(ref RowSpec spec, ref Rng rng)
    {
        double fame = _w.Fame(S2CellId.FromLatLng(spec.Location).Parent(_m.LandmarkLevel));
        if (fame == 0) return;
        if (rng.NextDouble() < _m.LandmarkShotProbability[spec.SceneType] * fame)
        {
            spec.Landmark = true;
            spec.Locatability = Math.Max(spec.Locatability, (float)(0.6 + 0.4 * rng.NextDouble()));
        }
    }

    private static ulong Fnv(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in s)
        {
            h ^= c;
            h *= 1099511628211UL;
        }

        return h;
    }
}
