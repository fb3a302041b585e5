using GeoToken.Randomness;
using static TorchSharp.torch;

namespace GeoToken.Model.Training;

/// <summary>
/// Random training examples shaped for a model's options, reproducible from a seed: Gaussian features
/// and uniformly random valid token sequences. For tests, benchmarks and smoke runs, not for real models.
/// </summary>
/// <remarks>
/// When <c>learnable</c> is true the target of every row is its first neighbor's token sequence and the
/// query's features are that neighbor's features plus noise, so a working model can drive the loss
/// well below the loss of guessing (<c>Σ w_p ln V_p / Σ w_p</c>).
/// </remarks>
public sealed class SyntheticBatchSource : IGeoTokenBatchSource
{
    private readonly GeoTokenModelOptions _o;
    private readonly float[] _query;
    private readonly float[] _neighbors;
    private readonly long[] _neighborTokens;
    private readonly long[] _targets;

    /// <summary>Generates <paramref name="count"/> rows for models with <paramref name="options"/>.</summary>
    /// <param name="options">The model shape the batches must fit.</param>
    /// <param name="count">Rows to generate.</param>
    /// <param name="seed">Seed of the generator.</param>
    /// <param name="learnable">Make each target its first neighbor's sequence (needs <c>NeighborCount ≥ 1</c>).</param>
    public SyntheticBatchSource(GeoTokenModelOptions options, int count, ulong seed, bool learnable = true)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (learnable && options.NeighborCount < 1) throw new ArgumentException("A learnable synthetic source needs NeighborCount ≥ 1.", nameof(learnable));
        _o = options;
        Count = count;
        var tokenizer = new Tokens.GeoTokenizer(options.Tokenizer);
        var vocab = tokenizer.VocabularySizes.ToArray();
        int m = options.ModalityCount, din = options.FeatureDimension, k = options.NeighborCount, t = options.SequenceLength;
        int rowFeat = m * din;
        _query = new float[(long)count * rowFeat];
        _neighbors = new float[(long)count * k * rowFeat];
        _neighborTokens = new long[(long)count * k * t];
        _targets = new long[(long)count * t];
        var rng = new SplitMix64(SplitMix64.Mix(seed, 0x5EED));
        for (int r = 0; r < count; r++)
        {
            for (int i = 0; i < k * rowFeat; i++) _neighbors[(long)r * k * rowFeat + i] = (float)rng.NextGaussian();
            for (int j = 0; j < k; j++)
            {
                for (int p = 0; p < t; p++) _neighborTokens[((long)r * k + j) * t + p] = rng.NextInt(vocab[p]);
            }

            for (int i = 0; i < rowFeat; i++)
            {
                _query[(long)r * rowFeat + i] = learnable
                    ? _neighbors[(long)r * k * rowFeat + i] + 0.1f * (float)rng.NextGaussian()
                    : (float)rng.NextGaussian();
            }

            for (int p = 0; p < t; p++)
            {
                _targets[(long)r * t + p] = learnable ? _neighborTokens[(long)r * k * t + p] : rng.NextInt(vocab[p]);
            }
        }
    }

    /// <inheritdoc />
    public int Count { get; }

    /// <inheritdoc />
    public GeoTokenBatch ReadBatch(ReadOnlySpan<int> rows)
    {
        int b = rows.Length;
        if (b < 1) throw new ArgumentException("A batch needs at least one row.", nameof(rows));
        int m = _o.ModalityCount, din = _o.FeatureDimension, k = _o.NeighborCount, t = _o.SequenceLength;
        int rowFeat = m * din;
        var q = new float[(long)b * rowFeat];
        var n = new float[(long)b * k * rowFeat];
        var nt = new long[(long)b * k * t];
        var tg = new long[(long)b * t];
        for (int i = 0; i < b; i++)
        {
            int r = rows[i];
            if ((uint)r >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(rows), r, $"Row {r} is outside 0..{Count - 1}.");
            Array.Copy(_query, (long)r * rowFeat, q, (long)i * rowFeat, rowFeat);
            Array.Copy(_neighbors, (long)r * k * rowFeat, n, (long)i * k * rowFeat, k * rowFeat);
            Array.Copy(_neighborTokens, (long)r * k * t, nt, (long)i * k * t, k * t);
            Array.Copy(_targets, (long)r * t, tg, (long)i * t, t);
        }

        return new GeoTokenBatch(
            tensor(q, [b, m, din]),
            tensor(n, [b, k, m, din]),
            tensor(nt, [b, k, t]),
            tensor(tg, [b, t]));
    }
}
