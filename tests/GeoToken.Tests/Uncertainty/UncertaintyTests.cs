using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Uncertainty;

namespace GeoToken.Tests.Uncertainty;

public sealed class UncertaintyTests
{
    [Fact]
    public void Radius_is_the_smallest_holding_the_mass()
    {
        var centre = new LatLng(0, 0);
        GeoCandidate At(double lon, int count) => new() { Position = new LatLng(0, lon), Count = count };
        var pool = new[] { At(0, 6), At(1, 2), At(10, 1), At(90, 1) }; // 60%, 20%, 10%, 10%
        var m = PoolUncertainty.Masses(pool);
        Assert.Equal([0.6, 0.2, 0.1, 0.1], m);
        double km1 = Geodesy.HaversineKm(0, 0, 0, 1);
        Assert.Equal(0, PoolUncertainty.RadiusKm(centre, pool, m, 0.5));
        Assert.Equal(km1, PoolUncertainty.RadiusKm(centre, pool, m, 0.8), 9);
        Assert.Equal(Geodesy.HaversineKm(0, 0, 0, 10), PoolUncertainty.RadiusKm(centre, pool, m, 0.9), 9);
        Assert.Equal(Geodesy.HaversineKm(0, 0, 0, 90), PoolUncertainty.RadiusKm(centre, pool, m, 1.0), 9);
    }

    [Fact]
    public void Masses_fall_back_to_softmax_of_log_probabilities()
    {
        var pool = new[] { new GeoCandidate { Position = new LatLng(1, 1), LogProbability = Math.Log(0.75) }, new GeoCandidate { Position = new LatLng(2, 2), LogProbability = Math.Log(0.25) } };
        var m = PoolUncertainty.Masses(pool);
        Assert.Equal(0.75, m[0], 12);
        Assert.Equal(0.25, m[1], 12);
    }

    [Fact]
    public void Calibration_reaches_the_nominal_coverage_on_its_split_and_holds_on_fresh_data()
    {
        // Radii that are systematically 3x too small: raw coverage is low, calibrated coverage ≈ p.
        var rng = new Random(3);
        (double[] R, double[] E) Draw(int n)
        {
            var r = new double[n];
            var e = new double[n];
            for (int i = 0; i < n; i++)
            {
                r[i] = 10 + 500 * rng.NextDouble();
                e[i] = 3 * r[i] * -Math.Log(1 - rng.NextDouble()) / 2.3; // exponential errors around 3r
            }

            return (r, e);
        }

        var (rv, ev) = Draw(2000);
        var cal = RadiusCalibration.Fit(rv, ev, 0.9);
        Assert.True(cal.RawCoverage < 0.6, cal.ToString());
        Assert.InRange(cal.CalibratedCoverage, 0.9, 0.92);
        var (rt, et) = Draw(5000);
        double fresh = Enumerable.Range(0, rt.Length).Count(i => et[i] <= cal.Apply(rt[i])) / (double)rt.Length;
        Assert.InRange(fresh, 0.87, 0.93);
        Assert.InRange(cal.MedianRadiusKm, 10, RadiusCalibration.WholeEarthKm);
    }

    [Fact]
    public void Confidently_wrong_pools_get_an_added_distance_and_radii_never_exceed_the_whole_earth()
    {
        // A weak model: pools concentrated in a few km, errors of thousands of km unrelated to the pool's spread.
        var rng = new Random(5);
        var r = Enumerable.Range(0, 1000).Select(_ => 0.5 + 20 * rng.NextDouble()).ToArray();
        var e = Enumerable.Range(0, 1000).Select(_ => 15000 * rng.NextDouble()).ToArray();
        var cal = RadiusCalibration.Fit(r, e, 0.9);
        Assert.Equal(RadiusCalibrationForm.Offset, cal.Form);
        Assert.InRange(cal.CalibratedCoverage, 0.9, 0.92);
        Assert.InRange(cal.MedianRadiusKm, 13000, RadiusCalibration.WholeEarthKm);
        Assert.All(r, x => Assert.InRange(cal.Apply(x), cal.FloorKm, RadiusCalibration.WholeEarthKm));
        Assert.Equal(RadiusCalibration.WholeEarthKm, cal.Apply(1e6));
        Assert.Contains("radius + ", cal.ToString());
    }
}
