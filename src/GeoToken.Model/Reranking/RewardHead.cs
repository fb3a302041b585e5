using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Model;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GeoToken.Reranking;

/// <summary>
/// The paper's reward model: a small head on the GeoToken decoder's state after a candidate's last token that
/// predicts whether the candidate lies within <see cref="ThresholdKm"/> (200 km) of the truth. By default the decoder is
/// frozen and only the head is trained (<see cref="Model.Training.RewardTrainer"/>); the reference fine-tunes the whole transformer with
/// the head, and a head trained so carries its own fine-tuned copy of the model (<see cref="ScorerModel"/>), which then
/// computes the decoder states. Each candidate is decoded against its own image's encoder memory (its own
/// neighbors), never another image's.
/// </summary>
/// <remarks>
/// Weights: <c>fc1</c> (d → <see cref="HiddenDimension"/>) and <c>fc2</c> (→ 1 logit, or 2 bins; see
/// <see cref="Output"/>) with a ReLU between, and <c>scorer.*</c> when fine-tuned. Score pools with <see cref="Score"/> (or as
/// the pool scorer <see cref="RewardScorer"/>) and rank them with <see cref="GeoToken.Reranking.RewardReranker"/>. Not
/// thread-safe on its own: the predictor and the evaluation serialise model use.
/// </remarks>
public sealed class RewardHead : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "fc1")]
    private readonly Linear _fc1;

    [ComponentName(Name = "fc2")]
    private readonly Linear _fc2;

    /// <summary>A head for decoder states of width <paramref name="modelDimension"/>: hidden width d, one logit (GeoToken.NET's default).</summary>
    /// <param name="modelDimension">The GeoToken model's <c>d</c>.</param>
    /// <param name="thresholdKm">The distance the head learns to recognise (default 200 km, as the paper).</param>
    public RewardHead(int modelDimension, double thresholdKm = 200) : this(modelDimension, thresholdKm, modelDimension, RewardHeadOutput.Logit)
    {
    }

    /// <summary>A head of a chosen shape (the reference's: hidden width 2048, <see cref="RewardHeadOutput.TwoBins"/>).</summary>
    /// <param name="modelDimension">The GeoToken model's <c>d</c>.</param>
    /// <param name="thresholdKm">The distance the head learns to recognise.</param>
    /// <param name="hiddenDimension">Width of the hidden layer.</param>
    /// <param name="output">One logit or two bins.</param>
    public RewardHead(int modelDimension, double thresholdKm, int hiddenDimension, RewardHeadOutput output) : base(nameof(RewardHead))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(modelDimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenDimension, 1);
        if (!Enum.IsDefined(output)) throw new ArgumentOutOfRangeException(nameof(output), output, "Not a RewardHeadOutput.");
        if (!(thresholdKm > 0) || !double.IsFinite(thresholdKm)) throw new ArgumentOutOfRangeException(nameof(thresholdKm), thresholdKm, "The threshold must be a positive distance.");
        ModelDimension = modelDimension;
        ThresholdKm = thresholdKm;
        HiddenDimension = hiddenDimension;
        Output = output;
        _fc1 = nn.Linear(modelDimension, hiddenDimension);
        _fc2 = nn.Linear(hiddenDimension, output == RewardHeadOutput.TwoBins ? 2 : 1);
        RegisterComponents();
    }

    /// <summary>The decoder width the head reads.</summary>
    public int ModelDimension { get; }

    /// <summary>The distance whose "within" the head predicts.</summary>
    public double ThresholdKm { get; }

    /// <summary>The hidden layer's width (default: <see cref="ModelDimension"/>; the reference's 2048).</summary>
    public int HiddenDimension { get; }

    /// <summary>One logit or two bins.</summary>
    public RewardHeadOutput Output { get; }

    /// <summary>
    /// The head's own fine-tuned copy of the GeoToken model, which computes the decoder states it reads (the reference
    /// fine-tunes the whole transformer with the head); null when the head reads the frozen model it is given.
    /// </summary>
    public GeoTokenModel? ScorerModel => _scorer;

    private GeoTokenModel? _scorer;

    /// <summary>Makes <paramref name="model"/> (owned from now on) the head's <see cref="ScorerModel"/>, saved and loaded with it.</summary>
    internal void AttachScorer(GeoTokenModel model)
    {
        if (_scorer is not null) throw new InvalidOperationException("The reward head already has a scorer model.");
        if (model.Options.ModelDimension != ModelDimension) throw new ArgumentException($"The scorer model is {model.Options.ModelDimension}-d; the head reads {ModelDimension}-d states.", nameof(model));
        _scorer = model;
        register_module("scorer", model);
    }

    /// <summary>Logits <c>[N]</c> of "within the threshold" for decoder states <c>[N, d]</c> (two bins: within minus beyond).</summary>
    public override Tensor forward(Tensor states)
    {
        using var scope = NewDisposeScope();
        var z = BinLogits(states);
        return (Output == RewardHeadOutput.TwoBins ? z.select(1, 0).sub(z.select(1, 1)) : z.squeeze(-1)).MoveToOuterDisposeScope();
    }

    /// <summary>The last layer's raw output <c>[N, 1]</c> or <c>[N, 2]</c> (bin 0 "within", bin 1 "beyond").</summary>
    internal Tensor BinLogits(Tensor states)
    {
        using var scope = NewDisposeScope();
        return _fc2.forward(F.relu(_fc1.forward(states))).MoveToOuterDisposeScope();
    }

    /// <summary>Disposes the weights and the scorer model.</summary>
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _scorer?.Dispose();
    }

    /// <summary>
    /// The final decoder states <c>[N, d]</c> of every model-generated candidate in <paramref name="pools"/>
    /// (one pool per image of <paramref name="batch"/>), each decoded against its own image's kept encoder output,
    /// and which pool and candidate each row is. No autograd.
    /// </summary>
    internal static (Tensor States, (int Image, int Candidate)[] Rows) CandidateStates(EncodedBatch batch, IReadOnlyList<IReadOnlyList<GeoCandidate>> pools)
    {
        var model = batch.Model;
        int t = model.Options.SequenceLength;
        var (rows, images, tokens) = CandidateRows(t, pools);
        if (rows.Length == 0) return (zeros([0, model.Options.ModelDimension]), []);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var cache = batch.BeginDecoding();
        cache.Reorder(new ReadOnlySpan<long>(images));
        var sequence = tensor(tokens, [rows.Length, t], device: model.Device);
        var states = model.DecoderStates(cache, sequence).select(1, t);
        return (states.MoveToOuterDisposeScope(), rows);
    }

    /// <summary>The model-generated candidates of <paramref name="pools"/>: which pool and candidate each row is, its image, and its tokens (row-major <c>[N, T]</c>).</summary>
    internal static ((int Image, int Candidate)[] Rows, long[] Images, long[] Tokens) CandidateRows(int t, IReadOnlyList<IReadOnlyList<GeoCandidate>> pools)
    {
        var rows = new List<(int, int)>();
        var images = new List<long>();
        var tokens = new List<long>();
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

        return ([.. rows], [.. images], [.. tokens]);
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
        // A head fine-tuned with its own copy of the transformer reads that copy's states: its encoder differs, so it
        // encodes the batch itself (the one case where the encoder runs twice); otherwise the kept encoder output is used.
        using var own = ScorerModel?.EncodeBatch(batch.Batch);
        var (states, rows) = CandidateStates(own ?? batch, pools);
        if (rows.Length == 0) return result;
        var probabilities = sigmoid(forward(states)).to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        for (int r = 0; r < rows.Length; r++)
        {
            var (i, c) = rows[r];
            result[i][c] = probabilities[r];
        }

        return result;
    }

    /// <summary>
    /// 1 where a candidate lies within <see cref="ThresholdKm"/> of its image's true position, else 0; at exactly the
    /// threshold 1, or 0 when <paramref name="strict"/> (the reference's bins: within means closer than the threshold).
    /// </summary>
    internal float[] Labels(IReadOnlyList<IReadOnlyList<GeoCandidate>> pools, (int Image, int Candidate)[] rows, IReadOnlyList<LatLng> truth, bool strict = false) =>
        [.. rows.Select(r => Geodesy.HaversineKm(pools[r.Image][r.Candidate].Position, truth[r.Image]) is var d && (strict ? d < ThresholdKm : d <= ThresholdKm) ? 1f : 0f)];
}
