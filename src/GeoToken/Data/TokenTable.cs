using GeoToken.Data;
using GeoToken.Tokens;

namespace GeoToken.Data;

/// <summary>
/// The GeoToken sequences of every row of a dataset, computed once (16 bits per token: rows × T × 2 bytes,
/// e.g. 88 MB for MP16's 4M rows) so that batches can copy neighbor and target tokens without
/// recomputing S2 cells.
/// </summary>
public sealed class TokenTable
{
    private readonly ushort[] _tokens;

    private TokenTable(ushort[] tokens, int length, long rows)
    {
        _tokens = tokens;
        Length = length;
        Rows = rows;
    }

    /// <summary>Rows in the table.</summary>
    public long Rows { get; }

    /// <summary>Tokens per row.</summary>
    public int Length { get; }

    /// <summary>Computes the tokens of every row of <paramref name="dataset"/> (in parallel blocks).</summary>
    /// <exception cref="ArgumentException">The tokenizer's vocabulary does not fit 16 bits.</exception>
    public static TokenTable Build(GeoDataset dataset, GeoTokenizer tokenizer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(tokenizer);
        foreach (int v in tokenizer.VocabularySizes)
        {
            if (v > ushort.MaxValue + 1) throw new ArgumentException($"A token vocabulary of {v} does not fit 16 bits; use a group size of at most 8.", nameof(tokenizer));
        }

        int t = tokenizer.Length;
        long rows = dataset.Rows;
        if (rows * t > Array.MaxLength) throw new ArgumentException($"{rows} rows × {t} tokens exceed one array.", nameof(dataset));
        dataset.LoadLocations();
        var tokens = new ushort[rows * t];
        const int block = 16_384;
        long blocks = (rows + block - 1) / block;
        Parallel.For(0L, blocks, new ParallelOptions { CancellationToken = cancellationToken }, () => new int[block * t], (b, _, buffer) =>
        {
            long start = b * block;
            int count = (int)Math.Min(block, rows - start);
            dataset.GetTokens(start, count, tokenizer, buffer);
            var dst = tokens.AsSpan((int)(start * t), count * t);
            for (int i = 0; i < dst.Length; i++) dst[i] = (ushort)buffer[i];
            return buffer;
        }, _ => { });
        return new TokenTable(tokens, t, rows);
    }

    /// <summary>The tokens of <paramref name="row"/>.</summary>
    public ReadOnlySpan<ushort> this[long row]
    {
        get
        {
            if ((ulong)row >= (ulong)Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"The table has {Rows} rows.");
            return _tokens.AsSpan((int)(row * Length), Length);
        }
    }
}
