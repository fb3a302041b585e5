using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GeoToken.Model;

/// <summary>
/// The optional neighbor-copy head (<see cref="GeoTokenModelOptions.NeighborCopy"/>): a pointer over the
/// retrieved neighbors mixed into each position's output distribution, so the decoder can copy the next
/// token of a neighbor whose tokens agree with the prefix decoded so far.
/// </summary>
/// <remarks>
/// <para>
/// At position <c>p</c> with decoder state <c>h</c>: scores over neighbors
/// <c>s_j = (query(h) · key(m_j)) / √d + rank_bias_j</c>, where <c>m_j</c> is the encoder output at neighbor
/// <c>j</c>'s first position, and <c>a = softmax(s)</c> over all <c>k</c> neighbors. Only neighbors whose tokens
/// 0..p−1 equal the prefix take part: their attention <c>a_j</c> goes to their token at <c>p</c> (the copy mass,
/// <c>A = Σ_agreeing a_j</c> in all). With the gate <c>λ = sigmoid(gate(h))</c> the position's probabilities are
/// <c>(1 − λA)·softmax(head(h)) + λ·copy</c>: a prefix that only an unlikely neighbor agrees with borrows little
/// from it, so following an outlier neighbor is not rewarded. The model returns the logarithm of these
/// probabilities in place of logits (log-softmax leaves them unchanged, so losses, samplers and beam search work
/// as before).
/// </para>
/// <para>State-dict names: <c>query</c>, <c>key</c> (d → d), <c>gate</c> (d → 1), <c>rank_bias</c> [k].</para>
/// </remarks>
internal sealed class NeighborCopyHead : nn.Module
{
    private const double MinProbability = 1e-30;

    [ComponentName(Name = "query")]
    private readonly Linear _query;

    [ComponentName(Name = "key")]
    private readonly Linear _key;

    [ComponentName(Name = "gate")]
    private readonly Linear _gate;

    [ComponentName(Name = "rank_bias")]
    private Parameter _rankBias;

    private readonly double _scale;

    public NeighborCopyHead(int dModel, int neighbors) : base(nameof(NeighborCopyHead))
    {
        _query = nn.Linear(dModel, dModel);
        _key = nn.Linear(dModel, dModel);
        _gate = nn.Linear(dModel, 1);
        _rankBias = nn.Parameter(zeros(neighbors));
        _scale = 1.0 / Math.Sqrt(dModel);
        RegisterComponents();
    }

    /// <summary>
    /// Which neighbors' tokens at the previous position equal each row's previous token, <c>[N, k]</c> bool (to be
    /// and-ed into the rows' agreement with their prefixes).
    /// </summary>
    /// <param name="neighborTokens">The neighbors' tokens at the previous position <c>[N / rowsPerMemory, k]</c>.</param>
    /// <param name="previousTokens">Each row's previous token <c>[N]</c>.</param>
    /// <param name="rowsPerMemory">Consecutive rows sharing one row of <paramref name="neighborTokens"/>.</param>
    public static Tensor Matches(Tensor neighborTokens, Tensor previousTokens, int rowsPerMemory)
    {
        if (rowsPerMemory > 1) neighborTokens = neighborTokens.repeat_interleave(rowsPerMemory, 0);
        return neighborTokens.eq(previousTokens.unsqueeze(1));
    }

    /// <summary>Keys of the neighbors' encoder outputs <c>[B, k, d]</c> → <c>[B, k, d]</c> (computed once per image).</summary>
    public Tensor Keys(Tensor neighborMemory) => _key.forward(neighborMemory);

    /// <summary>
    /// The mixed log-probabilities of one position.
    /// </summary>
    /// <param name="headLogits">The output head's logits <c>[N, V]</c>.</param>
    /// <param name="states">The decoder states that produced them <c>[N, d]</c>.</param>
    /// <param name="keys">From <see cref="Keys"/>, <c>[N / rowsPerMemory, k, d]</c>; row <c>r</c> uses key row <c>r / rowsPerMemory</c>.</param>
    /// <param name="neighborTokens">The neighbors' tokens at this position <c>[N / rowsPerMemory, k]</c> int64.</param>
    /// <param name="agrees">Whether each neighbor's earlier tokens equal row <c>r</c>'s prefix <c>[N, k]</c> bool.</param>
    /// <param name="rowsPerMemory">Consecutive rows sharing one row of <paramref name="keys"/>.</param>
    public Tensor Mix(Tensor headLogits, Tensor states, Tensor keys, Tensor neighborTokens, Tensor agrees, int rowsPerMemory)
    {
        using var scope = NewDisposeScope();
        using var scale = _scale.ToScalar();
        using var floor = MinProbability.ToScalar();
        long n = states.shape[0], k = keys.shape[1], d = keys.shape[2], v = headLogits.shape[1];
        long memoryRows = keys.shape[0];
        Tensor q = _query.forward(states).view(memoryRows, rowsPerMemory, d);
        Tensor scores = bmm(q, keys.transpose(1, 2)).view(n, k).mul(scale).Plus(_rankBias);
        Tensor pointer = scores.softmax(-1).mul(agrees.to(scores.dtype)); // [N, k]: attention on neighbors that agree
        Tensor oneHot = F.one_hot(neighborTokens, v).to(pointer.dtype); // [N/R, k, V]
        if (rowsPerMemory > 1) oneHot = oneHot.repeat_interleave(rowsPerMemory, 0);
        Tensor copy = bmm(pointer.unsqueeze(1), oneHot).squeeze(1); // [N, V], sums to the agreeing attention mass A
        Tensor gate = _gate.forward(states).sigmoid(); // [N, 1]
        Tensor headWeight = pointer.sum(-1, keepdim: true).mul(gate).neg().add_(Scalars.One); // 1 − λ·A
        Tensor mixed = headLogits.softmax(-1).mul(headWeight).Plus(copy.mul(gate));
        return mixed.clamp_min(floor).log().MoveToOuterDisposeScope();
    }
}
