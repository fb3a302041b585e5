using GeoToken.Randomness;

namespace GeoToken.Decoding;

/// <summary>
/// The rows of one search run and what the search knows of each: per image, the greedy row, then the sample rows,
/// then the beam rows; each row's tokens so far, summed log-probability, prefix cell and random stream.
/// </summary>
internal sealed class SearchRows
{
    public SearchRows(int images, int length, SearchPlan plan, IReadOnlyList<long>? imageKeys)
    {
        Images = images;
        Length = length;
        GreedyRows = plan.Greedy ? 1 : 0;
        SampleRows = plan.Samples;
        BeamRows = plan.BeamWidth;
        PerImage = GreedyRows + SampleRows + BeamRows;
        Count = images * PerImage;
        Tokens = new int[Count * length];
        LogProbability = new double[Count];
        PrefixLogProbability = new double[Count * length];
        Cells = new ulong[Count];
        Inside = new bool[Count];
        Parents = new long[Count];
        Streams = new SplitMix64[images];
        for (int i = 0; i < images; i++)
        {
            long key = imageKeys?[i] ?? i;
            Streams[i] = new SplitMix64(SplitMix64.Mix(plan.Seed, unchecked((ulong)key)));
            for (int b = 1; b < BeamRows; b++) LogProbability[BeamBase(i) + b] = double.NegativeInfinity; // one live beam at the start
        }
    }

    /// <summary>Images decoded.</summary>
    public int Images { get; }

    /// <summary>Tokens per sequence, <c>T</c>.</summary>
    public int Length { get; }

    /// <summary>Greedy rows per image (0 or 1).</summary>
    public int GreedyRows { get; }

    /// <summary>Sample rows per image.</summary>
    public int SampleRows { get; }

    /// <summary>Beam rows per image (the beam width).</summary>
    public int BeamRows { get; }

    /// <summary>Rows per image.</summary>
    public int PerImage { get; }

    /// <summary>Rows in all.</summary>
    public int Count { get; }

    /// <summary>Row-major <c>[rows, T]</c> tokens so far.</summary>
    public int[] Tokens { get; }

    /// <summary>Each row's summed log-probability (−∞: a dead beam).</summary>
    public double[] LogProbability { get; }

    /// <summary>Beam rows: the log-probability of each prefix, row-major <c>[rows, T]</c> (commit choice, coarse-to-fine ranking).</summary>
    public double[] PrefixLogProbability { get; }

    /// <summary>Each row's prefix cell (with a region).</summary>
    public ulong[] Cells { get; }

    /// <summary>Whether each row's prefix cell lies inside the region (every continuation is allowed).</summary>
    public bool[] Inside { get; }

    /// <summary>The row each row continues after the current step (the session's reorder).</summary>
    public long[] Parents { get; }

    /// <summary>Each image's sampling stream.</summary>
    public SplitMix64[] Streams { get; }

    /// <summary>Image <paramref name="image"/>'s first row.</summary>
    public int FirstRow(int image) => image * PerImage;

    /// <summary>Image <paramref name="image"/>'s first beam row.</summary>
    public int BeamBase(int image) => image * PerImage + GreedyRows + SampleRows;
}
