using System.Globalization;
using System.Numerics;
using CsCheck;
using GeoToken.Evaluation;
using GeoToken.Geometry;
using GeoToken.Tests.Support;

namespace GeoToken.Tests.Evaluation;

public sealed class PairedComparisonTests
{
    [Fact]
    public void Counts_wins_and_losses_per_threshold_and_the_difference_with_its_interval()
    {
        // 100 images at 10 km (baseline) or 10/30/3000 km (candidate): within 25 km the candidate wins 0 and loses 12.
        var baseline = Enumerable.Repeat(10.0, 100).ToArray();
        var candidate = baseline.Select((_, i) => i < 12 ? 30.0 : i < 20 ? 3000 : 10).ToArray();
        var c = PairedComparison.Compare(candidate, baseline, [1, 25, 2500]);
        Assert.Equal(100, c.Count);
        Assert.Equal([1.0, 25, 2500], c.Thresholds.Select(t => t.ThresholdKm));

        var at1 = c.Thresholds[0];
        Assert.Equal((0.0, 0.0, 0, 0, 0.0, 1.0), (at1.Accuracy, at1.BaselineAccuracy, at1.Wins, at1.Losses, at1.Difference, at1.PValue));

        var at25 = c.Thresholds[1];
        Assert.Equal((80.0, 100.0, 0, 20), (at25.Accuracy, at25.BaselineAccuracy, at25.Wins, at25.Losses));
        Assert.Equal(-20, at25.Difference, 12);
        double se = Math.Sqrt(20 - (400.0 / 100)) / 100; // paired proportions: √(b + c − (b − c)²/n) / n
        Assert.Equal(-20 - (100 * 1.959963984540054 * se), at25.DifferenceLow, 9);
        Assert.Equal(-20 + (100 * 1.959963984540054 * se), at25.DifferenceHigh, 9);
        Assert.Equal(2 * Math.Pow(0.5, 20), at25.PValue, 12); // all 20 discordant images one way

        var at2500 = c.Thresholds[2];
        Assert.Equal((92.0, 100.0, 0, 8), (at2500.Accuracy, at2500.BaselineAccuracy, at2500.Wins, at2500.Losses));
    }

    [Fact]
    public void McNemar_p_values_match_hand_computed_ones()
    {
        Assert.Equal(2 * 79 / 4096.0, PairedComparison.McNemarPValue(10, 2), 12); // 2·(C(12,0)+C(12,1)+C(12,2))/2¹²
        Assert.Equal(2 * 79 / 4096.0, PairedComparison.McNemarPValue(2, 10), 12);
        Assert.Equal(1, PairedComparison.McNemarPValue(7, 7), 12);
        Assert.Equal(1, PairedComparison.McNemarPValue(0, 0));
        Assert.Equal(1, PairedComparison.McNemarPValue(0, 1), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => PairedComparison.McNemarPValue(-1, 3));
    }

    [Fact]
    public void McNemar_p_values_equal_exact_big_integer_binomial_sums()
    {
        Gen.Select(Gen.Int[0, 1500], Gen.Int[0, 1500]).Sample((wins, losses) =>
        {
            int m = wins + losses, low = Math.Min(wins, losses);
            BigInteger sum = 0, term = 1;
            for (int k = 0; k <= low; k++)
            {
                if (k > 0) term = term * (m - k + 1) / k;
                sum += term;
            }

            double exact = m == 0 ? 1 : Math.Min(1, Math.Exp(BigInteger.Log(2 * sum) - (m * Math.Log(2))));
            double ours = PairedComparison.McNemarPValue(wins, losses);
            Assert.True(Math.Abs(ours - exact) <= 1e-9 * Math.Max(exact, 1e-300) + 1e-300, $"wins {wins}, losses {losses}: {ours} vs {exact}");
        }, iter: 200);
    }

    [Fact]
    public void McNemar_p_values_of_millions_of_pairs_equal_mpmath_at_40_digits()
    {
        // The peer: mpmath at 40 significant digits, P(X ≤ low) = C(m, low)/2^m · Σ_j Π ratios, summed down from low
        // until the terms fall below 1e-45 (the ratio k/(m−k+1) < 1 makes the tail geometric).
        (int Wins, int Losses)[] cases = [(1_001_000, 999_000), (2_000_000, 1_990_000), (500_000, 501_234), (1_000, 1_400)];
        string dir = Directory.CreateTempSubdirectory("geotoken-mcnemar-").FullName;
        try
        {
            string script = """
                import mpmath
                mpmath.mp.dps = 40
                def p(w, l):
                    m = w + l; low = min(w, l)
                    lead = mpmath.exp(mpmath.loggamma(m + 1) - mpmath.loggamma(low + 1) - mpmath.loggamma(m - low + 1) - m * mpmath.log(2))
                    s = mpmath.mpf(0); t = mpmath.mpf(1); k = low
                    while k >= 0:
                        s += t
                        if t < mpmath.mpf(10) ** -45: break
                        t = t * k / (m - k + 1); k -= 1
                    return min(1, 2 * lead * s)
                for line in sys.argv[1:]:
                    w, l = map(int, line.split(','))
                    print(mpmath.nstr(p(w, l), 25, min_fixed=-1, max_fixed=-1))
                """;
            string output = NumPyPeer.Run($"sys.argv[1:] = [{string.Join(", ", cases.Select(c => $"'{c.Wins},{c.Losses}'"))}]\n" + script, dir);
            double[] expected = [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture))];
            Assert.Equal(cases.Length, expected.Length);
            for (int i = 0; i < cases.Length; i++)
            {
                double ours = PairedComparison.McNemarPValue(cases[i].Wins, cases[i].Losses);

                // The regularized incomplete beta's prefactor exp(a ln x + b ln(1−x) − ln B(a, b)) cancels log-gamma terms of
                // order m ln m ≈ 6e7; their rounding (≈ 6e7 · 2.2e-16 ≈ 1e-8) bounds the relative accuracy at this m.
                Assert.True(Math.Abs(ours - expected[i]) <= 1e-7 * expected[i], $"{cases[i]}: {ours} vs mpmath {expected[i]}");
                Assert.True(expected[i] > 1e-300, "the case must not underflow");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Strategies_compare_by_their_errors_on_the_same_queries()
    {
        LatLng[] truth = [new(0, 0), new(10, 10), new(-30, 100)];
        var greedy = StrategyEvaluation.Create("greedy", [new(0, 0.1), new(10, 12), new(-30, 100)], truth);
        var beam = StrategyEvaluation.Create("beam", [new(0, 0.5), new(10, 10), new(-30, 140)], truth);
        var c = beam.CompareWith(greedy);
        Assert.Equal(PairedComparison.Compare(beam.DistancesKm.ToArray(), greedy.DistancesKm.ToArray()), c, new ComparisonByValue());
        var at25 = c.Thresholds[1]; // greedy 11 km / 219 km / 0; beam 56 km / 0 / about 3,800 km
        Assert.Equal((1, 2), (at25.Wins, at25.Losses));
        Assert.Throws<ArgumentException>(() => beam.CompareWith(StrategyEvaluation.Create("short", [new(0, 0)], [new(0, 0)])));
    }

    private sealed class ComparisonByValue : IEqualityComparer<PairedComparison>
    {
        public bool Equals(PairedComparison? x, PairedComparison? y) => x!.Count == y!.Count && x.Thresholds.SequenceEqual(y.Thresholds);

        public int GetHashCode(PairedComparison obj) => obj.Count;
    }

    [Fact]
    public void Bad_input_is_named()
    {
        var e = Assert.Throws<ArgumentException>(() => PairedComparison.Compare([1.0, 2], [1.0]));
        Assert.Contains("2 errors", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => PairedComparison.Compare([1.0, double.NaN], [1.0, 2]));
        Assert.Contains("Error 1", e.Message, StringComparison.Ordinal);
        Assert.Equal("candidateKm", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => PairedComparison.Compare([1.0], [-3.0]));
        Assert.Equal("baselineKm", e.ParamName);
        Assert.Throws<ArgumentException>(() => PairedComparison.Compare([], []));
        Assert.Throws<ArgumentException>(() => PairedComparison.Compare([1.0], [1.0], [0]));
    }
}
