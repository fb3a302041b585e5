using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GeoToken.Retrieval;

/// <summary>
/// Bounded top-k selection for a block of queries: one binary min-heap of k (similarity, id) pairs
/// per query, whose root (the current k-th best) is the threshold that filters candidates eight at
/// a time before any heap work. Order: higher similarity first; equal similarities rank the lower
/// id first. Empty slots hold (−∞, <see cref="long.MaxValue"/>), which every real candidate beats.
/// </summary>
internal sealed class TopKHeaps
{
    /// <summary>The id of an empty slot.</summary>
    public const long EmptyId = long.MaxValue;

    private readonly float[] _scores;
    private readonly long[] _ids;
    private readonly long[] _exclude;

    public TopKHeaps(int capacity, int k)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be positive.");
        Capacity = capacity;
        K = k;
        _scores = new float[(long)capacity * k];
        _ids = new long[(long)capacity * k];
        _exclude = new long[capacity];
    }

    /// <summary>Queries held.</summary>
    public int Capacity { get; }

    /// <summary>Neighbors kept per query.</summary>
    public int K { get; }

    /// <summary>Queries in use since the last <see cref="Reset"/>.</summary>
    public int Count { get; private set; }

    /// <summary>Empties the first <paramref name="count"/> heaps and clears exclusions.</summary>
    public void Reset(int count)
    {
        if (count > Capacity) throw new ArgumentOutOfRangeException(nameof(count), count, $"At most {Capacity} queries.");
        Count = count;
        _scores.AsSpan(0, count * K).Fill(float.NegativeInfinity);
        _ids.AsSpan(0, count * K).Fill(EmptyId);
        _exclude.AsSpan(0, count).Fill(-1);
    }

    /// <summary>Empties heap <paramref name="q"/> only (its exclusion stays).</summary>
    public void ResetOne(int q)
    {
        _scores.AsSpan(q * K, K).Fill(float.NegativeInfinity);
        _ids.AsSpan(q * K, K).Fill(EmptyId);
    }

    /// <summary>Never admits <paramref name="id"/> for query <paramref name="q"/> (exclude-self).</summary>
    public void Exclude(int q, long id) => _exclude[q] = id;

    /// <summary>The current k-th best similarity of query <paramref name="q"/> (−∞ while not full).</summary>
    public float Threshold(int q) => _scores[q * K];

    /// <summary>Whether query <paramref name="q"/> holds k real candidates.</summary>
    public bool IsFull(int q)
    {
        var ids = _ids.AsSpan(q * K, K);
        return !ids.Contains(EmptyId);
    }

    /// <summary>
    /// Offers candidates j = 0..n−1 with similarity <c>raw[j]·scale[j]</c> (or <c>raw[j]</c> when
    /// <paramref name="scale"/> is empty) and id <c>ids[j]</c> (or <c>idBase + j</c> when
    /// <paramref name="ids"/> is empty).
    /// </summary>
    public void Offer(int q, ReadOnlySpan<float> raw, ReadOnlySpan<float> scale, long idBase, ReadOnlySpan<long> ids)
    {
        int n = raw.Length;
        float threshold = _scores[q * K];
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float r = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(raw);
            ref float s = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(scale);
            bool scaled = !scale.IsEmpty;
            for (; j + 8 <= n; j += 8)
            {
                var v = Vector256.LoadUnsafe(ref r, (nuint)j);
                if (scaled) v *= Vector256.LoadUnsafe(ref s, (nuint)j);
                uint mask = Vector256.GreaterThanOrEqual(v, Vector256.Create(threshold)).ExtractMostSignificantBits();
                while (mask != 0)
                {
                    int lane = System.Numerics.BitOperations.TrailingZeroCount(mask);
                    mask &= mask - 1;
                    int jj = j + lane;
                    float score = v.GetElement(lane);
                    if (score >= threshold)
                    {
                        threshold = Insert(q, score, ids.IsEmpty ? idBase + jj : ids[jj]);
                    }
                }
            }
        }

        for (; j < n; j++)
        {
            float score = scale.IsEmpty ? raw[j] : raw[j] * scale[j];
            if (score >= threshold) threshold = Insert(q, score, ids.IsEmpty ? idBase + j : ids[j]);
        }
    }

    /// <summary>
    /// Empties the slots of query <paramref name="q"/> scoring more than <paramref name="margin"/> below its best,
    /// except that the best slots are kept, whatever their score, until their <paramref name="rows"/> add up to
    /// <paramref name="minRows"/>. The heap order is not kept: call this only when nothing more will be offered.
    /// </summary>
    /// <param name="q">The query.</param>
    /// <param name="margin">The margin below the best score.</param>
    /// <param name="rows">Rows behind each id (leaf sizes).</param>
    /// <param name="minRows">Rows to keep at least (the neighbors a query needs).</param>
    /// <param name="order">Scratch of at least <see cref="K"/> slots.</param>
    public void DropBelowBest(int q, float margin, Func<long, long> rows, long minRows, int[] order)
    {
        int b = q * K, n = 0;
        for (int j = 0; j < K; j++)
        {
            if (_ids[b + j] != EmptyId) order[n++] = j;
        }

        if (n == 0) return;
        var slots = order.AsSpan(0, n);
        slots.Sort((x, y) => _scores[b + y].CompareTo(_scores[b + x]));
        float floor = _scores[b + slots[0]] - margin;
        long covered = 0;
        foreach (int j in slots)
        {
            if (covered >= minRows && _scores[b + j] < floor)
            {
                _ids[b + j] = EmptyId;
                continue;
            }

            covered += rows(_ids[b + j]);
        }
    }

    /// <summary>Offers one candidate; returns the new threshold.</summary>
    public float Insert(int q, float score, long id)
    {
        int b = q * K;
        if (id == _exclude[q] || !Better(score, id, _scores[b], _ids[b])) return _scores[b];

        // Replace the root (the worst) and sift down.
        int k = K, i = 0;
        while (true)
        {
            int l = 2 * i + 1;
            if (l >= k) break;
            int r = l + 1;
            int w = l;
            if (r < k && Better(_scores[b + l], _ids[b + l], _scores[b + r], _ids[b + r])) w = r;
            if (!Better(score, id, _scores[b + w], _ids[b + w])) break;
            _scores[b + i] = _scores[b + w];
            _ids[b + i] = _ids[b + w];
            i = w;
        }

        _scores[b + i] = score;
        _ids[b + i] = id;
        return _scores[b];
    }

    /// <summary>Offers every real candidate of query <paramref name="otherQuery"/> in <paramref name="other"/>.</summary>
    public void MergeFrom(int q, TopKHeaps other, int otherQuery)
    {
        int b = otherQuery * other.K;
        for (int k = 0; k < other.K; k++)
        {
            long id = other._ids[b + k];
            if (id != EmptyId) Insert(q, other._scores[b + k], id);
        }
    }

    /// <summary>The ids held for query <paramref name="q"/>, in heap order (for set membership).</summary>
    public ReadOnlySpan<long> Ids(int q) => _ids.AsSpan(q * K, K);

    /// <summary>Writes query <paramref name="q"/>'s neighbors best first; returns how many are real.</summary>
    public int Sort(int q, Span<long> ids, Span<float> scores)
    {
        int b = q * K;
        var s = _scores.AsSpan(b, K);
        var i = _ids.AsSpan(b, K);
        s.CopyTo(scores);
        i.CopyTo(ids);
        // Sort by (score descending, id ascending).
        var keys = scores[..K];
        var values = ids[..K];
        SortPairs(keys, values);
        int real = 0;
        while (real < K && values[real] != EmptyId) real++;
        return real;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Better(float s1, long id1, float s2, long id2) => s1 > s2 || (s1 == s2 && id1 < id2);

    private static void SortPairs(Span<float> scores, Span<long> ids)
    {
        // Insertion sort for small k, otherwise a struct sort.
        int n = scores.Length;
        if (n <= 32)
        {
            for (int a = 1; a < n; a++)
            {
                float s = scores[a];
                long id = ids[a];
                int c = a - 1;
                while (c >= 0 && Better(s, id, scores[c], ids[c]))
                {
                    scores[c + 1] = scores[c];
                    ids[c + 1] = ids[c];
                    c--;
                }

                scores[c + 1] = s;
                ids[c + 1] = id;
            }

            return;
        }

        var pairs = new (float Score, long Id)[n];
        for (int a = 0; a < n; a++) pairs[a] = (scores[a], ids[a]);
        Array.Sort(pairs, static (x, y) => Better(x.Score, x.Id, y.Score, y.Id) ? -1 : Better(y.Score, y.Id, x.Score, x.Id) ? 1 : 0);
        for (int a = 0; a < n; a++)
        {
            scores[a] = pairs[a].Score;
            ids[a] = pairs[a].Id;
        }
    }
}
