using GeoToken.Geometry;
using GeoToken.Places;

namespace GeoToken.SynthGeo;

/// <summary>
/// Everything fixed by the seed and the model before any row is generated: the cell sampler, the
/// hotspot index, the scene prior, the gazetteer, the climate field and the mixing networks.
/// Immutable after construction and shared by all worker threads.
/// </summary>
internal sealed class SynthGeoWorld
{
    // Stream tags: every random decision draws from Rng.For(seed, tag, ...), never from shared state.
    internal const ulong TagGallery = 0x47414C4C, TagGalleryMember = 0x4D454D42, TagSeriesBreak = 0x42524B, TagTest = 0x54455354;
    internal const ulong TagNoise = 0x4E4F4953, TagJitter = 0x4A495454, TagCode = 0x434F4445, TagTestPick = 0x5049434B;
    internal const ulong CodeClass = 1, CodeSubscene = 2, CodeType = 3, CodeCell = 4, CodeCountry = 5, CodeCity = 6, CodeLandmark = 7, CodeSeries = 8, CodeClimate = 9;

    private const double KmPerDegree = Geodesy.EarthRadiusKm * Math.PI / 180;

    private readonly double[] _aliasProb;
    private readonly int[] _alias;
    private readonly int[] _hotLo, _hotHi;
    private readonly LatLng[] _hotspots; // GeoCLIP coordinates sorted by S2 leaf id
    private readonly Dictionary<ulong, int> _spotPhotos = []; // real photos per landmark-level cell

    public SynthGeoWorld(SynthGeoModel model, ulong seed, int dimension, int modalities)
    {
        model.Validate();
        Model = model;
        Seed = seed;
        Latent = model.LatentDimension;
        Dimension = dimension;
        Cells = BundledGeography.CellsArray;
        CellLevel = Cells.Select(c => c.Cell.Level).ToArray();
        (_aliasProb, _alias) = BuildAlias(Cells.Select(c => (double)c.Photos).ToArray());

        // Real photo coordinates inside each cell (GeoCLIP's 100K MP-16 sample), for hotspot placement.
        var pts = GeoClipGallery.Coordinates.ToArray();
        var leaves = pts.Select(p => S2CellId.FromLatLng(p).Id).ToArray();
        var order = Enumerable.Range(0, pts.Length).ToArray();
        Array.Sort(leaves, order);
        _hotspots = order.Select(k => pts[k]).ToArray();
        foreach (ulong leaf in leaves)
        {
            ulong spot = new S2CellId(leaf).Parent(model.LandmarkLevel).Id;
            _spotPhotos[spot] = _spotPhotos.GetValueOrDefault(spot) + 1;
        }

        _hotLo = new int[Cells.Length];
        _hotHi = new int[Cells.Length];
        for (int c = 0; c < Cells.Length; c++)
        {
            _hotLo[c] = LowerBound(leaves, Cells[c].Cell.RangeMin.Id);
            _hotHi[c] = LowerBound(leaves, Cells[c].Cell.RangeMax.Id + 1);
        }

        // The scene prior: IM2GPS3K's (type, class) pairs (Flickr photos; MP-16 is Flickr too).
        ScenePrior = BundledGeography.Im2GpsArray.Select(r => (r.S3Label, r.S365Label)).ToArray();
        Cities = GeoNamesCities.Default;

        // Climate: random Fourier features of the unit vector, split among the length scales.
        int kf = model.ClimateFeatures;
        ClimateOmega = new double[3 * kf];
        ClimatePhase = new double[kf];
        ClimateProjection = new float[kf * Latent];
        var rng = Rng.For(seed, TagCode, CodeClimate);
        for (int k = 0; k < kf; k++)
        {
            double scaleKm = model.ClimateLengthScalesKm[k * model.ClimateLengthScalesKm.Length / kf];
            double kappa = Geodesy.EarthRadiusKm / scaleKm; // frequency in units of the unit sphere's chord
            for (int a = 0; a < 3; a++) ClimateOmega[3 * k + a] = kappa * rng.NextGaussian();
            ClimatePhase[k] = 2 * Math.PI * rng.NextDouble();
            Codes.Write(ClimateProjection.AsSpan(k * Latent, Latent), Rng.Hash(seed, TagCode, CodeClimate, (ulong)k));
        }

        ClimateProjectionBlocked = new float[kf * Latent];
        for (int c = 0, o = 0; c < Latent; c += 8)
        {
            for (int k = 0; k < kf; k++, o += 8) Array.Copy(ClimateProjection, k * Latent + c, ClimateProjectionBlocked, o, 8);
        }

        Mixers = new Mixer[modalities];
        for (int m = 0; m < modalities; m++) Mixers[m] = new Mixer(Latent, model.HiddenDimension, dimension, Rng.Hash(seed, 0x4D495845, (ulong)m));
    }

    public SynthGeoModel Model { get; }

    public ulong Seed { get; }

    public int Latent { get; }

    public int Dimension { get; }

    public Mp16Cell[] Cells { get; }

    public int[] CellLevel { get; }

    public (int Type, int Class)[] ScenePrior { get; }

    public GeoNamesCities Cities { get; }

    public double[] ClimateOmega { get; }

    public double[] ClimatePhase { get; }

    public float[] ClimateProjection { get; }

    /// <summary><see cref="ClimateProjection"/> re-laid as [latent/8][feature][8] for the fused accumulation.</summary>
    public float[] ClimateProjectionBlocked { get; }

    public Mixer[] Mixers { get; }

    /// <summary>Fame in [0, 1) of the landmark-level cell <paramref name="spot"/>: 1 − exp(−real photos in it / LandmarkFamePhotos).</summary>
    public double Fame(S2CellId spot) => _spotPhotos.TryGetValue(spot.Id, out int n) ? 1 - Math.Exp(-n / Model.LandmarkFamePhotos) : 0;

    /// <summary>The average edge length (km) of S2 cells at <paramref name="level"/>.</summary>
    public static double EdgeKm(int level) => Geodesy.EarthRadiusKm * Math.Sqrt(4 * Math.PI / 6) / (1 << level);

    /// <summary>Draws an MP-16 cell with probability proportional to its photo count.</summary>
    public int SampleCell(ref Rng rng)
    {
        int i = rng.NextInt(_aliasProb.Length);
        return rng.NextDouble() < _aliasProb[i] ? i : _alias[i];
    }

    /// <summary>
    /// A gallery photo position in cell <paramref name="c"/>: near a real photo coordinate of the cell, or
    /// spread around its mean; always inside the cell, rounded to 6 decimals (about 0.1 m).
    /// </summary>
    public LatLng PlaceInCell(int c, ref Rng rng)
    {
        var cell = Cells[c];
        int lo = _hotLo[c], hi = _hotHi[c];
        if (hi > lo && rng.NextDouble() < Model.HotspotProbability)
        {
            var h = _hotspots[lo + rng.NextInt(hi - lo)];
            double lnMin = Math.Log(Model.HotspotSpreadKm[0]), lnMax = Math.Log(Model.HotspotSpreadKm[1]);
            double sigma = Math.Exp(lnMin + (lnMax - lnMin) * rng.NextDouble());
            return Near(c, h, sigma, 4, ref rng);
        }

        return Near(c, cell.Mean, Model.CellSpreadFraction * EdgeKm(CellLevel[c]), 8, ref rng);
    }

    /// <summary>
    /// A Gaussian draw of spread <paramref name="sigmaKm"/> around <paramref name="center"/> that lies in cell
    /// <paramref name="c"/> (up to <paramref name="attempts"/> tries; then the centre itself, or the cell's
    /// centre if even that is outside), rounded to 6 decimals.
    /// </summary>
    public LatLng Near(int c, LatLng center, double sigmaKm, int attempts, ref Rng rng)
    {
        for (int attempt = 0; attempt < attempts; attempt++)
        {
            var p = Round(Offset(center, sigmaKm * rng.NextGaussian(), sigmaKm * rng.NextGaussian()));
            if (Inside(p, c)) return p;
        }

        var q = Round(center);
        return Inside(q, c) ? q : Round(Cells[c].Cell.ToLatLng());
    }

    private bool Inside(LatLng p, int c) => S2CellId.FromLatLng(p).Parent(CellLevel[c]) == Cells[c].Cell;

    /// <summary>Rounds to 6 decimals (about 0.1 m), the precision written to meta.csv.</summary>
    public static LatLng Round(LatLng p) => new(Math.Round(p.Latitude, 6), Math.Round(p.Longitude, 6));

    /// <summary>Moves <paramref name="p"/> by <paramref name="eastKm"/> and <paramref name="northKm"/> (local flat approximation, wrapped onto the sphere).</summary>
    public static LatLng Offset(LatLng p, double eastKm, double northKm)
    {
        double lat = p.Latitude + northKm / KmPerDegree;
        double lon = p.Longitude;
        if (lat > 90)
        {
            lat = 180 - lat;
            lon += 180;
        }
        else if (lat < -90)
        {
            lat = -180 - lat;
            lon += 180;
        }

        double cos = Math.Max(Math.Cos(p.Latitude * Math.PI / 180), 1e-3);
        lon += eastKm / (KmPerDegree * cos);
        lon = Math.IEEERemainder(lon, 360); // [-180, 180]
        lat = Math.Clamp(lat, -90, 90);
        return new LatLng(lat, lon);
    }

    private static int LowerBound(ulong[] a, ulong value)
    {
        int lo = 0, hi = a.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (a[mid] < value) lo = mid + 1;
            else hi = mid;
        }

        return lo;
    }

    /// <summary>Vose's alias tables for sampling proportionally to <paramref name="weights"/>.</summary>
    private static (double[] Prob, int[] Alias) BuildAlias(double[] weights)
    {
        int n = weights.Length;
        double total = weights.Sum();
        var prob = new double[n];
        var alias = new int[n];
        var scaled = weights.Select(w => w * n / total).ToArray();
        var small = new Stack<int>();
        var large = new Stack<int>();
        for (int i = n - 1; i >= 0; i--) (scaled[i] < 1 ? small : large).Push(i);
        while (small.Count > 0 && large.Count > 0)
        {
            int s = small.Pop(), l = large.Pop();
            prob[s] = scaled[s];
            alias[s] = l;
            scaled[l] = scaled[l] + scaled[s] - 1;
            (scaled[l] < 1 ? small : large).Push(l);
        }

        while (large.Count > 0)
        {
            int l = large.Pop();
            prob[l] = 1;
            alias[l] = l;
        }

        while (small.Count > 0)
        {
            int s = small.Pop();
            prob[s] = 1;
            alias[s] = s;
        }

        return (prob, alias);
    }
}
