using GeoToken.IO;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.Reranking;

/// <summary>GeoCLIP-named state dicts with random weights and chosen sizes, built in memory.</summary>
internal static class GeoClipTestWeights
{
    public static readonly double[] Sigmas = [1, 16, 256];

    /// <summary>GeoCLIP's image MLP names: <c>0.weight</c> [h, f], <c>0.bias</c>, <c>2.weight</c> [d, h], <c>2.bias</c>.</summary>
    public static StateDict ImageMlp(int f, int h, int d, ulong seed)
    {
        using var g = new Generator(seed);
        var s = new StateDict();
        s.Add("0.weight", randn([h, f], generator: g) / Math.Sqrt(f));
        s.Add("0.bias", randn([h], generator: g) * 0.1);
        s.Add("2.weight", randn([d, h], generator: g) / Math.Sqrt(h));
        s.Add("2.bias", randn([d], generator: g) * 0.1);
        return s;
    }

    /// <summary>GeoCLIP's location encoder names: three <c>LocEnc{i}</c> capsules with <c>b</c> [r, 2] ~ N(0, σ²), three hidden layers of w, a head to d.</summary>
    public static StateDict LocationEncoder(int r, int w, int d, ulong seed)
    {
        using var g = new Generator(seed);
        var s = new StateDict();
        for (int i = 0; i < 3; i++)
        {
            string p = $"LocEnc{i}.";
            s.Add(p + "capsule.0.b", randn([r, 2], generator: g) * Sigmas[i]);
            int inWidth = 2 * r;
            foreach (var (name, outWidth) in new[] { ("capsule.1", w), ("capsule.3", w), ("capsule.5", w), ("head.0", d) })
            {
                s.Add(p + name + ".weight", randn([outWidth, inWidth], generator: g) / Math.Sqrt(inWidth));
                s.Add(p + name + ".bias", randn([outWidth], generator: g) * 0.1);
                inWidth = outWidth;
            }
        }

        return s;
    }

    /// <summary>A logit-scale file's contents: one 0-d tensor.</summary>
    public static StateDict LogitScale(float value, string name = "logit_scale")
    {
        var s = new StateDict();
        s.Add(name, tensor(value));
        return s;
    }
}
