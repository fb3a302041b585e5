using System.Globalization;
using GeoToken.IO;
using GeoToken.Tokens;
using static TorchSharp.torch;

namespace GeoToken.Model.Import;

/// <summary>
/// Converts between the state dict of the GeoToken authors' reference model (<c>GeoTransformerModelS2</c>,
/// github.com/NNargesNN/GeoToken, read with <see cref="PyTorchCheckpoint"/>) and <see cref="GeoTokenModel"/>.
/// </summary>
/// <remarks>
/// <para>
/// The reference model is <see cref="GeoTokenModelOptions.Paper"/>-shaped under other names: a post-norm encoder–decoder
/// of stock PyTorch layers; three feature views (image, location, text: <c>image_proj</c>, <c>loc_proj</c>,
/// <c>text_proj</c> = <c>projections.0/1/2</c>, each Linear–ReLU–Linear then divided by its L2 norm); encoder input CLS,
/// the query's three views, then per neighbor its three views and the <c>retrieval_embedding</c>
/// (= <c>context_token_embedding</c>) of its tokens, plus sinusoids; decoder input <c>start_token_embedding</c> and the
/// <c>embedding</c> (= <c>token_embedding</c>) of the previous tokens, plus sinusoids, causal self-attention; output head
/// <c>output_layers.{p}</c> (= <c>heads.{p}</c>) on decoder position <c>p</c>. No padding or memory masks. Names differ:
/// packed <c>in_proj_weight/bias</c> = <c>q/k/v_proj</c>, <c>norm1/2(/3)</c> = <c>self_attn_norm</c>,
/// (<c>cross_attn_norm</c>,) <c>ffn_norm</c>, <c>multihead_attn</c> = <c>cross_attn</c>, <c>linear1/2</c> = <c>ffn.fc1/2</c>,
/// <c>[1, d]</c> rows = <c>[d]</c> vectors. Two numerical differences: the reference divides by the norm where this library
/// divides by max(norm, 1e-12) (the same unless a projection is exactly zero), and it keeps two position tables (encoder
/// 500 rows, decoder T + 1) where this library keeps one; both are the same float32 sinusoids, and the import checks it.
/// </para>
/// <para>
/// A state dict does not record the number of attention heads nor of neighbors: pass them in
/// <see cref="ReferenceImportOptions"/> (defaults 8 and 15, the paper's). Everything else is read from the shapes, and every
/// tensor is checked.
/// </para>
/// </remarks>
public static class ReferenceCheckpoint
{
    /// <summary>The feature width the reference model hard-codes for its three projections.</summary>
    public const int ReferenceFeatureDimension = 768;

    /// <summary>The options of the model a reference state dict holds.</summary>
    /// <exception cref="InvalidDataException">A tensor the options are read from is missing or has an unexpected shape, or the shapes describe no valid model; the message names the tensor.</exception>
    public static GeoTokenModelOptions InferOptions(StateDict state, ReferenceImportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        options ??= new ReferenceImportOptions();
        options.Validate();
        return Infer(state, options).Options;
    }

    /// <summary>
    /// Builds a <see cref="GeoTokenModel"/> holding a reference checkpoint's weights, and its position table (so that it adds
    /// exactly the values the checkpoint holds).
    /// </summary>
    /// <param name="state">The reference model's state dict (e.g. from <see cref="PyTorchCheckpoint.Read"/>); not modified or disposed.</param>
    /// <param name="options">Head and neighbor counts, dropout and position tolerance (null: the paper's).</param>
    /// <exception cref="InvalidDataException">A tensor is missing, unexpected, or has the wrong shape; or a position table is not the sinusoids; the message names the source and tensor.</exception>
    public static ReferenceImportResult Import(StateDict state, ReferenceImportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        options ??= new ReferenceImportOptions();
        options.Validate();
        var (o, vocab) = Infer(state, options);
        var layout = ReferenceLayout.Tensors(o, vocab);
        CheckKeys(state, layout);
        var model = GeoTokenModelFile.CreateWithoutTouchingRng(o);
        try
        {
            var ignored = new List<string>();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var ours = model.state_dict();
            var filled = new HashSet<string>(StringComparer.Ordinal);
            long d = o.ModelDimension;
            foreach (var t in layout)
            {
                var theirs = state.Require(t.Name, null, t.Shape);
                switch (t.Kind)
                {
                    case ReferenceTensorKind.Same:
                        ours[t.Ours[0]].copy_(theirs);
                        break;
                    case ReferenceTensorKind.Row:
                        ours[t.Ours[0]].copy_(theirs.reshape(d));
                        break;
                    case ReferenceTensorKind.Packed:
                        var parts = theirs.chunk(3, 0);
                        for (int i = 0; i < 3; i++) ours[t.Ours[i]].copy_(parts[i]);
                        break;
                    case ReferenceTensorKind.Unused:
                        ignored.Add(t.Name);
                        break;
                    case ReferenceTensorKind.EncoderPositions:
                        try
                        {
                            model.SetPositionalEncoding(theirs.reshape(t.Shape[0], d), options.PositionTolerance);
                        }
                        catch (ArgumentException e)
                        {
                            throw new InvalidDataException($"{Describe(state)}: tensor '{t.Name}' is not the sinusoid table: {e.Message}", e);
                        }

                        break;
                    case ReferenceTensorKind.DecoderPositions:
                        var rows = theirs.reshape(t.Shape[0], d).to(ScalarType.Float32);
                        double diff = (rows - model.GetPositionalEncoding().narrow(0, 0, t.Shape[0])).abs().max().item<float>();
                        if (!(diff <= options.PositionTolerance))
                        {
                            throw new InvalidDataException(FormattableString.Invariant($"{Describe(state)}: tensor '{t.Name}' differs from the encoder's position rows by up to {diff:G3} (tolerance {options.PositionTolerance:G3}); this library uses one table for both."));
                        }

                        break;
                }

                foreach (var name in t.Ours) filled.Add(name);
            }

            var unfilled = ours.Keys.Where(k => !filled.Contains(k)).ToList();
            if (unfilled.Count > 0) throw new InvalidOperationException($"The reference layout does not fill {string.Join(", ", unfilled)} (a bug in ReferenceLayout).");
            model.eval();
            return new ReferenceImportResult(model, ignored);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The state dict of the reference model for <paramref name="model"/>: every tensor the reference's
    /// <c>load_state_dict(strict=True)</c> expects, under its names. Unused reference parameters
    /// (<c>similarity_embedding</c>, <c>metadata_proj</c>, <c>coord_head</c>) are zeros; the position tables are full size,
    /// <c>encoder_pos_encoder.pe</c> <c>[500, 1, d]</c> and <c>decoder_pos_encoder.pe</c> <c>[T + 1, 1, d]</c>: the model's
    /// own rows, then (encoder rows beyond <see cref="GeoTokenModel.PositionalEncodingLength"/>) the sinusoids computed in
    /// float32 as PyTorch does.
    /// </summary>
    /// <param name="model">A model with reference-compatible options (see the exception).</param>
    /// <returns>New CPU tensors; the caller disposes them. Write them with <see cref="PyTorchCheckpoint.Write"/>.</returns>
    /// <exception cref="ArgumentException">
    /// The model's options have no reference equivalent: pre-norm, compact layout, the copy head, other than 3 views of
    /// 768 features, different encoder and decoder depths, an S2 level not divisible by the group size, or more than 500
    /// encoder positions. The message lists every problem.
    /// </exception>
    public static StateDict Export(GeoTokenModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var o = model.Options;
        var problems = ExportProblems(o);
        if (problems.Count > 0) throw new ArgumentException($"The model cannot be written in the reference layout: {string.Join("; ", problems)}.", nameof(model));

        var vocab = model.Tokenizer.VocabularySizes.ToArray();
        var layout = ReferenceLayout.Tensors(o, vocab);
        long d = o.ModelDimension;
        var result = new StateDict();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var ours = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().to(ScalarType.Float32));
            var positions = model.GetPositionalEncoding();
            foreach (var t in layout)
            {
                Tensor tensor = t.Kind switch
                {
                    ReferenceTensorKind.Same => ours[t.Ours[0]].clone(),
                    ReferenceTensorKind.Row => ours[t.Ours[0]].reshape(1, d).clone(),
                    ReferenceTensorKind.Packed => cat(t.Ours.Select(n => ours[n]).ToArray(), 0),
                    ReferenceTensorKind.Unused => zeros(t.Shape),
                    ReferenceTensorKind.EncoderPositions => PositionRows(positions, (int)t.Shape[0]).reshape(t.Shape),
                    ReferenceTensorKind.DecoderPositions => positions.narrow(0, 0, t.Shape[0]).clone().reshape(t.Shape),
                    _ => throw new InvalidOperationException($"Unknown kind {t.Kind}."),
                };
                result.Add(t.Name, tensor.DetachFromDisposeScope());
            }

            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>Why a model of these options cannot be exported (empty when it can).</summary>
    public static IReadOnlyList<string> ExportProblems(GeoTokenModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options;
        var problems = new List<string>();
        void Need(bool ok, string problem)
        {
            if (!ok) problems.Add(problem);
        }

        Need(o.NormOrder == NormOrder.Post, "the reference is post-norm (NormOrder Pre)");
        Need(o.ContextLayout == ContextLayout.Paper, "the reference uses the paper context layout (ContextLayout Compact)");
        Need(!o.NeighborCopy, "the reference has no neighbor-copy head (NeighborCopy true)");
        Need(o.ModalityCount == 3, $"the reference reads 3 feature views (ModalityCount {o.ModalityCount})");
        Need(o.FeatureDimension == ReferenceFeatureDimension, $"the reference's projections take {ReferenceFeatureDimension} features (FeatureDimension {o.FeatureDimension})");
        Need(o.EncoderLayers == o.DecoderLayers, $"the reference has one layer count for encoder and decoder (EncoderLayers {o.EncoderLayers}, DecoderLayers {o.DecoderLayers})");
        Need(o.NeighborCount >= 1, "the reference reads neighbors (NeighborCount 0)");
        Need(o.Tokenizer.Level % o.Tokenizer.GroupSize == 0, $"the reference needs the S2 level divisible by the group size (Level {o.Tokenizer.Level}, GroupSize {o.Tokenizer.GroupSize})");
        Need(o.ContextLength <= ReferenceLayout.EncoderPositionRows, $"the reference's position table has {ReferenceLayout.EncoderPositionRows} rows (ContextLength {o.ContextLength})");
        return problems;
    }

    /// <summary>Rows 0..<paramref name="rows"/>−1 of the position table: the model's, then the float32 sinusoids PyTorch computes.</summary>
    private static Tensor PositionRows(Tensor ours, int rows)
    {
        long have = Math.Min(ours.shape[0], rows), d = ours.shape[1];
        if (have == rows) return ours.narrow(0, 0, rows).clone();
        using var scope = NewDisposeScope();
        var position = arange(have, rows, ScalarType.Float32).unsqueeze(1);
        var rate = exp(arange(0L, d, 2L, ScalarType.Int64).to(ScalarType.Float32) * (-Math.Log(10000.0) / d));
        var angle = position * rate;
        var extra = stack([sin(angle), cos(angle)], 2).reshape(rows - have, d);
        return cat([ours.narrow(0, 0, have), extra], 0).MoveToOuterDisposeScope();
    }

    private static (GeoTokenModelOptions Options, int[] Vocab) Infer(StateDict state, ReferenceImportOptions options)
    {
        string src = Describe(state);
        long d = state.Require("cls_token", null, 1, -1).shape[1];
        if (d % options.HeadCount != 0)
        {
            throw new InvalidDataException($"{src}: the model dimension {d} (tensor 'cls_token') is not divisible by {options.HeadCount} heads; pass the checkpoint's head count.");
        }

        var vocab = new List<int>();
        while (state.ContainsKey($"output_layers.{vocab.Count}.weight")) vocab.Add((int)state.Require($"output_layers.{vocab.Count}.weight", null, -1, d).shape[0]);
        if (vocab.Count < 2) throw new InvalidDataException($"{src} has {vocab.Count} output layers ('output_layers.{{p}}.weight'); a reference model has one per token, at least 2.");
        if (vocab[0] != 6) throw new InvalidDataException($"{src}: tensor 'output_layers.0.weight' has {vocab[0]} rows; the first token is the cube face (6).");
        int group = Log4(vocab[1], src, 1);
        int level = 0;
        for (int p = 1; p < vocab.Count; p++) level += Log4(vocab[p], src, p);
        var tokenizerOptions = new GeoTokenizerOptions { Level = level, GroupSize = group };
        int[] expected;
        try
        {
            expected = new GeoTokenizer(tokenizerOptions).VocabularySizes.ToArray();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{src}: the output layers' sizes [{string.Join(", ", vocab)}] describe no GeoToken tokenizer: {e.Message}", e);
        }

        if (!expected.SequenceEqual(vocab))
        {
            throw new InvalidDataException($"{src}: the output layers' sizes [{string.Join(", ", vocab)}] are not those of the tokenizer of level {level}, group {group} ([{string.Join(", ", expected)}]).");
        }

        long ff = state.Require("encoder.layers.0.linear1.weight", null, -1, d).shape[0];
        long din = state.Require("image_proj.0.weight", null, d, -1).shape[1];
        var o = new GeoTokenModelOptions
        {
            ModelDimension = (int)d,
            HeadCount = options.HeadCount,
            FeedForwardDimension = (int)ff,
            EncoderLayers = LayerCount(state, "encoder.layers."),
            DecoderLayers = LayerCount(state, "decoder.layers."),
            Dropout = options.Dropout,
            ModalityCount = 3,
            FeatureDimension = (int)din,
            NeighborCount = options.NeighborCount,
            Tokenizer = tokenizerOptions,
            NormOrder = NormOrder.Post,
            ContextLayout = ContextLayout.Paper,
            NeighborCopy = false,
        };
        try
        {
            o.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{src} describes an invalid model: {e.Message}", e);
        }

        if (o.ContextLength > ReferenceLayout.EncoderPositionRows)
        {
            throw new InvalidDataException($"{src}: {o.NeighborCount} neighbors need {o.ContextLength} encoder positions, more than the {ReferenceLayout.EncoderPositionRows} rows of 'encoder_pos_encoder.pe'.");
        }

        return (o, vocab.ToArray());
    }

    private static int LayerCount(StateDict state, string prefix)
    {
        var indices = state.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => k[prefix.Length..].Split('.')[0])
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (indices.Count == 0) throw new InvalidDataException($"{Describe(state)} has no '{prefix}*' tensors.");
        return indices.Count; // gaps or stray indices show up as missing or unexpected tensors in CheckKeys
    }

    private static int Log4(int v, string src, int p)
    {
        for (int g = 1, x = 4; g <= 15; g++, x *= 4)
        {
            if (x == v) return g;
        }

        throw new InvalidDataException($"{src}: tensor 'output_layers.{p}.weight' has {v} rows; after the face every token has 4^G values.");
    }

    private static void CheckKeys(StateDict state, List<ReferenceTensor> layout)
    {
        var expected = layout.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var missing = layout.Select(t => t.Name).Where(n => !state.ContainsKey(n)).ToList();
        var unexpected = state.Keys.Where(n => !expected.Contains(n)).ToList();
        if (missing.Count == 0 && unexpected.Count == 0) return;
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"missing {List(missing)}");
        if (unexpected.Count > 0) parts.Add($"unexpected {List(unexpected)}");
        throw new InvalidDataException($"{Describe(state)} is not a reference GeoToken state dict: {string.Join("; ", parts)}.");

        static string List(List<string> names) => string.Join(", ", names.Take(10).Select(n => $"'{n}'")) + (names.Count > 10 ? string.Create(CultureInfo.InvariantCulture, $" (+{names.Count - 10} more)") : "");
    }

    private static string Describe(StateDict state) => state.Source is null ? "The state dict" : $"'{state.Source}'";
}
