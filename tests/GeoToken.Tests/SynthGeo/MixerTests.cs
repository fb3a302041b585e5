using GeoToken.SynthGeo;

namespace GeoToken.Tests.SynthGeo;

/// <summary>The mixing MLP's blocked kernel.</summary>
public sealed class MixerTests
{
    /// <summary>Outputs match a plain double-precision evaluation of y = W₂(max(W₁z, 0) − c), normalised.</summary>
    [Fact]
    public void Blocked_kernel_matches_a_reference_evaluation()
    {
        const int latent = 64, hidden = 96, output = 40, rows = 12;
        var mixer = new Mixer(latent, hidden, output, seed: 3);
        var rng = new Random(9);
        var z = Enumerable.Range(0, rows * latent).Select(_ => (float)(rng.NextDouble() * 2 - 1) / 8).ToArray();
        var y = new float[rows * output];
        mixer.Mix(z, rows, new float[rows * hidden], new float[rows * mixer.PaddedOutput], y);

        for (int r = 0; r < rows; r++)
        {
            double norm = Math.Sqrt(y.AsSpan(r * output, output).ToArray().Sum(v => (double)v * v));
            Assert.InRange(norm, 1 - 1e-5, 1 + 1e-5);
        }

        var reference = Reference(mixer, z, rows);
        for (int k = 0; k < y.Length; k++) Assert.True(Math.Abs(y[k] - reference[k]) < 1e-4, $"element {k}: {y[k]} vs {reference[k]}");
    }

    /// <summary>A row's output does not depend on which other rows share its block (bit-identical).</summary>
    [Fact]
    public void Outputs_do_not_depend_on_blocking()
    {
        const int latent = 64, hidden = 64, output = 16;
        var mixer = new Mixer(latent, hidden, output, seed: 5);
        var rng = new Random(2);
        var z = Enumerable.Range(0, 12 * latent).Select(_ => (float)rng.NextDouble()).ToArray();
        var all = new float[12 * output];
        mixer.Mix(z, 12, new float[12 * hidden], new float[12 * mixer.PaddedOutput], all);
        var second = new float[6 * output];
        mixer.Mix(z.AsSpan(6 * latent), 6, new float[6 * hidden], new float[6 * mixer.PaddedOutput], second);
        Assert.Equal(all[(6 * output)..], second);
        Assert.Throws<ArgumentException>(() => mixer.Mix(z, 4, new float[12 * hidden], new float[12 * mixer.PaddedOutput], all));
    }

    /// <summary>Evaluates the MLP in double precision from the unpacked weights.</summary>
    private static float[] Reference(Mixer mixer, float[] z, int rows)
    {
        var (w1, w2) = mixer.Weights();
        int l = mixer.Latent, h = mixer.Hidden, o = mixer.Output;
        var y = new float[rows * o];
        for (int r = 0; r < rows; r++)
        {
            var hid = new double[h];
            for (int j = 0; j < h; j++)
            {
                double a = 0;
                for (int k = 0; k < l; k++) a += (double)z[r * l + k] * w1[k * h + j];
                hid[j] = Math.Max(a, 0) - 0.3989422804;
            }

            var outRow = new double[o];
            for (int j = 0; j < o; j++)
            {
                for (int k = 0; k < h; k++) outRow[j] += hid[k] * w2[k * mixer.PaddedOutput + j];
            }

            double norm = Math.Sqrt(outRow.Sum(v => v * v));
            for (int j = 0; j < o; j++) y[r * o + j] = (float)(outRow[j] / norm);
        }

        return y;
    }
}
