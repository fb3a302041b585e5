using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Model.Decoding;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GeoToken.Model.Reranking;

/// <summary>
/// The paper's reward model: a small head on the GeoToken decoder's state after a candidate's last token that
/// predicts whether the candidate lies within <see cref="ThresholdKm"/> (200 km) of the truth. The decoder is
/// frozen; only the head is trained (<see cref="RewardTrainer"/>). Each candidate is decoded against its own
/// image's encoder memory (its own neighbours), never another image's.
/// </summary>
/// <remarks>
/// Weights: <c>fc1</c> (d → d) and <c>fc2</c> (d → 1) with a ReLU between. Score pools with <see cref="Score"/> (or as
/// the pool scorer <see cref="RewardScorer"/>) and rank them with <see cref="GeoToken.Reranking.RewardReranker"/>. Not
/// thread-safe on its own: the predictor and the evaluation serialise model use.
/// </remarks>
public sealed class RewardHead : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "fc1")]
    private readonly Linear _fc1;

    [ComponentName(Name = "fc2")]
    private readonly Linear _fc2;

    /// <summary>A head for decoder states of width <paramref name="modelDimension"/>.</summary>
    /// <param name="modelDimension">The GeoToken model's <c>d</c>.</param>
    /// <param name="thresholdKm">The distance the head learns to recognise (default 200 km, as the paper).</param>
    public RewardHead(int modelDimension, double thresholdKm = 200) : base(nameof(RewardHead))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(modelDimension, 1);
        if (!(thresholdKm > 0) || !double.IsFinite(thresholdKm)) throw new ArgumentOutOfRangeException(nameof(thresholdKm), thresholdKm, "The threshold must be a positive distance.");
        ModelDimension = modelDimension;
        ThresholdKm = thresholdKm;
        _fc1 = nn.Linear(modelDimension, modelDimension);
        _fc2 = nn.Linear(modelDimension, 1);
        RegisterComponents();
    }

    /// <summary>The decoder width the head reads.</summary>
    public int ModelDimension { get; }

    /// <summary>The distance whose "within" the head predicts.</summary>
    public double ThresholdKm { get; }

    /// <summary>Logits <c>[N]</c> of "within the threshold" for decoder states <c>[N, d]</c>.</summary>
    public override Tensor forward(Tensor states)
    {
        using var scope = NewDisposeScope();
        return _fc2.forward(F.relu(_fc1.forward(states))).squeeze(-1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The final decoder states <c>[N, d]</c> of every model-generated candidate in <paramref name="pools"/>
    /// (one pool per image of <paramref name="batch"/>), each decoded against its own image's kept encoder output,
    /// and which pool and candidate each row is. No autograd.
    /// </summary>
    internal static (Tensor States, (int Image, int Candidate)[] Rows) CandidateStates(EncodedBatch batch, IReadOnlyList<IReadOnlyList<GeoCandidate>> pools)
    {
        var model = batch.Model;
        var rows = new List<(int, int)>();
        var images = new List<long>();
        var tokens = new List<long>();
        int t = model.Options.SequenceLength;
        for (int i = 0; i < pools.Count; i++)
        {
            for (int c = 0; c < pools[i].Count; c++)
            {
                if (pools[i][c].Tokens is not { } seq || seq.Count != t) continue;
                rows.Add((i, c));
                images.Add(i);
                foreach (var token in seq) tokens.Add(token);
            }
        }

        if (rows.Count == 0) return (zeros([0, model.Options.ModelDimension]), []);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var cache = batch.BeginDecoding();
        cache.Reorder(new ReadOnlySpan<long>([.. images]));
        var sequence = tensor(tokens.ToArray(), [rows.Count, t], device: model.Device);
        var states = model.DecoderStates(cache, sequence).select(1, t);
        return (states.MoveToOuterDisposeScope(), [.. rows]);
    }

    /// <summary>
    /// Scores every model-generated candidate of <paramref name="pools"/> (the pools of <paramref name="batch"/>'s
    /// images, as <see cref="CandidatePoolBuilder.Build(EncodedBatch, IReadOnlyList{long}?, CancellationToken)"/> returns
    /// them) from the batch's kept encoder output (the encoder does not run again): the head's probability per
    /// candidate, in pool order; free-position candidates get NaN.
    /// </summary>
    /// <exception cref="ArgumentException">The head does not fit the model, or the pools do not match the batch.</exception>
    public IReadOnlyList<IReadOnlyList<double>> Score(EncodedBatch batch, IReadOnlyList<IReadOnlyList<GeoCandidate>> pools)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(pools);
        if (batch.Model.Options.ModelDimension != ModelDimension)
        {
            throw new ArgumentException($"The reward head reads {ModelDimension}-d decoder states but the model's are {batch.Model.Options.ModelDimension}-d.", nameof(batch));
        }

        if (pools.Count != batch.Count) throw new ArgumentException($"{pools.Count} pools for a batch of {batch.Count} images.", nameof(pools));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var result = pools.Select(p => Enumerable.Repeat(double.NaN, p.Count).ToArray()).ToArray();
        var (states, rows) = CandidateStates(batch, pools);
        if (rows.Length == 0) return result;
        var probabilities = sigmoid(forward(states)).to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        for (int r = 0; r < rows.Length; r++)
        {
            var (i, c) = rows[r];
            result[i][c] = probabilities[r];
        }

        return result;
    }

    /// <summary>1 where a candidate lies within <see cref="ThresholdKm"/> of its image's true position, else 0.</summary>
    internal float[] Labels(IReadOnlyList<IReadOnlyList<GeoCandidate>> pools, (int Image, int Candidate)[] rows, IReadOnlyList<LatLng> truth) =>
        [.. rows.Select(r => Geodesy.HaversineKm(pools[r.Image][r.Candidate].Position, truth[r.Image]) <= ThresholdKm ? 1f : 0f)];
}
