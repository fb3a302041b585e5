using GeoToken.Model;
using GeoToken.Tokens;
using static GeoToken.Onnx.Export.OnnxGraphBuilder;
using N = GeoToken.Onnx.Inference.OnnxTensorNames;

namespace GeoToken.Onnx.Export;

/// <summary>
/// Writes the GeoToken transformer's computation as ONNX operators, layer by layer as <see cref="GeoTokenModel"/>
/// computes it in evaluation mode (no dropout): the encoder graph and the one-step decoder graph.
/// </summary>
internal sealed class TransformerGraphs
{
    private readonly GeoTokenModelOptions _o;
    private readonly GeoTokenizer _tokenizer;
    private readonly ModelWeights _w;
    private readonly float[] _positions;
    private OnnxGraphBuilder _g = null!;

    public TransformerGraphs(GeoTokenModel model)
    {
        _o = model.Options;
        _tokenizer = model.Tokenizer;
        _w = new ModelWeights(model);
        using var table = model.GetPositionalEncoding();
        _positions = table.data<float>().ToArray();
    }

    private int D => _o.ModelDimension;

    private int H => _o.HeadCount;

    private int Dh => _o.HeadDimension;

    private bool PreNorm => _o.NormOrder == NormOrder.Pre;

    /// <summary>
    /// The encoder: <c>query_features [B, M, d_in]</c>, <c>neighbor_features [B, k, M, d_in]</c>, <c>neighbor_tokens [B, k, T]</c> →
    /// per decoder layer <c>cross_key_i [B, h, d/h, S]</c> (transposed for the step's product) and <c>cross_value_i [B, h, S, d/h]</c>,
    /// and with the copy head <c>copy_keys [B, d, k]</c> (transposed).
    /// </summary>
    public OnnxGraphBuilder Encoder()
    {
        var o = _o;
        int m = o.ModalityCount, k = o.NeighborCount, t = o.SequenceLength, s = o.ContextLength;
        _g = new OnnxGraphBuilder("geotoken_encoder");
        var g = _g;
        string qf = g.Input(N.QueryFeatures, Float, "batch", m, o.FeatureDimension);
        string nf = g.Input(N.NeighborFeatures, Float, "batch", k, m, o.FeatureDimension);
        string nt = g.Input(N.NeighborTokens, Long, "batch", k, t);

        // Query and neighbors share each modality's projection.
        string all = g.Op("Concat", [g.Op("Unsqueeze", [qf, g.Vec(1)]), nf], Int("axis", 1)); // [B, 1+k, M, d_in]
        var views = new string[m];
        for (int i = 0; i < m; i++)
        {
            string x = g.Op("Gather", [all, g.Scalar(i)], Int("axis", 2)); // [B, 1+k, d_in]
            views[i] = g.Op("Unsqueeze", [Projection(x, $"projections.{i}"), g.Vec(2)]);
        }

        string projected = m == 1 ? views[0] : g.Op("Concat", views, Int("axis", 2)); // [B, 1+k, M, d]
        string queryProjected = g.Op("Gather", [projected, g.Scalar(0)], Int("axis", 1)); // [B, M, d]
        string neighborProjected = g.Op("Slice", [projected, g.Vec(1), g.Vec(1 + k), g.Vec(1)]); // [B, k, M, d]
        var (ctxEmb, ctxShape) = _w.Get("context_token_embedding.weight");
        string offsets = g.Ints(_tokenizer.Offsets.ToArray().Select(x => (long)x).ToArray(), t);
        string tokenEmb = g.Op("Gather", [g.Weight("context_token_embedding.weight", ctxEmb, ctxShape), g.Op("Add", [nt, offsets])]); // [B, k, T, d]
        string neighbors = o.ContextLayout == ContextLayout.Paper
            ? g.Op("Reshape", [g.Op("Concat", [neighborProjected, tokenEmb], Int("axis", 2)), g.Vec(0, k * (m + t), D)])
            : g.Op("Add", [g.Op("ReduceSum", [neighborProjected, g.Vec(2)], Int("keepdims", 0)), g.Op("ReduceMean", [tokenEmb], IntList("axes", 2), Int("keepdims", 0))]);

        string batchVec = g.Op("Shape", [qf], Int("start", 0), Int("end", 1)); // [1] = B
        var (cls, _) = _w.Get("cls_token");
        string clsRows = g.Op("Expand", [g.Weight("cls_token", cls, 1, 1, D), g.Op("Concat", [batchVec, g.Vec(1, 1)], Int("axis", 0))]); // [B, 1, d]
        string sequence = g.Op("Concat", [clsRows, queryProjected, neighbors], Int("axis", 1)); // [B, S, d]
        string x0 = g.Op("Add", [sequence, g.Weight("positional_encoding.encoder", _positions.AsSpan(0, s * D).ToArray(), s, D)]);

        string h = x0;
        for (int i = 0; i < o.EncoderLayers; i++) h = EncoderLayer(h, $"encoder.layers.{i}");
        if (PreNorm) h = LayerNorm(h, "encoder.norm");

        for (int i = 0; i < o.DecoderLayers; i++)
        {
            string p = $"decoder.layers.{i}.cross_attn";
            string key = g.Op("Transpose", [g.Op("Reshape", [Linear(h, $"{p}.k_proj"), g.Vec(0, 0, H, Dh)])], IntList("perm", 0, 2, 3, 1)); // [B, h, dh, S]
            string value = g.Op("Transpose", [g.Op("Reshape", [Linear(h, $"{p}.v_proj"), g.Vec(0, 0, H, Dh)])], IntList("perm", 0, 2, 1, 3)); // [B, h, S, dh]
            g.Output(key, N.CrossKey(i), Float, "batch", H, Dh, s);
            g.Output(value, N.CrossValue(i), Float, "batch", H, s, Dh);
        }

        if (o.NeighborCopy)
        {
            int stride = o.ContextLayout == ContextLayout.Paper ? m + t : 1;
            long[] positions = Enumerable.Range(0, k).Select(j => (long)(1 + m + j * stride)).ToArray();
            string neighborMemory = g.Op("Gather", [h, g.Vec(positions)], Int("axis", 1)); // [B, k, d]
            string keys = g.Op("Transpose", [Linear(neighborMemory, "copy_head.key")], IntList("perm", 0, 2, 1)); // [B, d, k]
            g.Output(keys, N.CopyKeys, Float, "batch", D, k);
        }

        return g;
    }

    /// <summary>
    /// One decoding step. Inputs: <c>tokens [N]</c> (the previous position's tokens; ignored at position 0), <c>beam_rows [N]</c>
    /// (the row of the previous step each row continues), per layer <c>past_key_i [N', h, P, d/h]</c> and <c>past_value_i [N', h, P, d/h]</c>
    /// (P = the position decoded now), the encoder's cross keys/values <c>[B, …]</c> (rows grouped: N = B·R, row r uses query r / R),
    /// and with the copy head <c>past_agrees [N', k]</c>, <c>copy_keys [B, d, k]</c>, <c>neighbor_tokens [B, k, T]</c>.
    /// Outputs: <c>log_probs [N, V_P]</c>, the presents (P + 1 positions) and <c>present_agrees</c>.
    /// </summary>
    public OnnxGraphBuilder DecoderStep()
    {
        var o = _o;
        int t = o.SequenceLength, s = o.ContextLength, k = o.NeighborCount, layers = o.DecoderLayers;
        _g = new OnnxGraphBuilder("geotoken_decoder_step");
        var g = _g;
        string tokens = g.Input(N.Tokens, Long, "rows");
        string rows = g.Input(N.BeamRows, Long, "rows");
        var pastKeys = new string[layers];
        var pastValues = new string[layers];
        var crossKeys = new string[layers];
        var crossValues = new string[layers];
        for (int i = 0; i < layers; i++)
        {
            pastKeys[i] = g.Input(N.PastKey(i), Float, "past_rows", H, "past", Dh);
            pastValues[i] = g.Input(N.PastValue(i), Float, "past_rows", H, "past", Dh);
        }

        for (int i = 0; i < layers; i++)
        {
            crossKeys[i] = g.Input(N.CrossKey(i), Float, "batch", H, Dh, s);
            crossValues[i] = g.Input(N.CrossValue(i), Float, "batch", H, s, Dh);
        }

        string? pastAgrees = null, copyKeys = null, neighborTokens = null;
        if (o.NeighborCopy)
        {
            pastAgrees = g.Input(N.PastAgrees, Bool, "past_rows", k);
            copyKeys = g.Input(N.CopyKeys, Float, "batch", D, k);
            neighborTokens = g.Input(N.NeighborTokens, Long, "batch", k, t);
        }

        // The position being decoded is the length of the past.
        string position = g.Op("Squeeze", [g.Op("Shape", [pastKeys[0]], Int("start", 2), Int("end", 3)), g.Vec(0)]); // scalar P
        string isStart = g.Op("Equal", [position, g.Scalar(0)]);
        string batchVec = g.Op("Shape", [crossKeys[0]], Int("start", 0), Int("end", 1)); // [1] = B

        // Input: the start vector at position 0, else the embedding of the previous token; plus the position's sinusoid.
        var (start, _) = _w.Get("start_token");
        var (emb, embShape) = _w.Get("token_embedding.weight");
        var table = new float[(embShape[0] + 1) * D];
        start.CopyTo(table, 0);
        emb.CopyTo(table, D);
        var offsets = _tokenizer.Offsets.ToArray();
        long[] previousOffsets = Enumerable.Range(0, t).Select(p => p == 0 ? 0L : 1L + offsets[p - 1]).ToArray();
        string index = g.Op("Where", [isStart, g.Scalar(0), g.Op("Add", [tokens, g.Op("Gather", [g.Ints(previousOffsets, t), position])])]);
        string x = g.Op("Gather", [g.Weight("decoder_input_embedding", table, embShape[0] + 1, D), index]); // [N, d]
        int decoderPositions = t;
        string positions = g.Weight("positional_encoding.decoder", _positions.AsSpan(0, decoderPositions * D).ToArray(), decoderPositions, D);
        x = g.Op("Add", [x, g.Op("Gather", [positions, position])]);

        for (int i = 0; i < layers; i++)
        {
            x = DecoderLayerStep(x, $"decoder.layers.{i}", rows, pastKeys[i], pastValues[i], crossKeys[i], crossValues[i], batchVec, out var presentKey, out var presentValue);
            g.Output(presentKey, N.PresentKey(i), Float, "rows", H, "present", Dh);
            g.Output(presentValue, N.PresentValue(i), Float, "rows", H, "present", Dh);
        }

        if (PreNorm) x = LayerNorm(x, "decoder.norm");

        // Output heads of every position, zero-padded to the largest vocabulary; the position's head is gathered and sliced.
        int vMax = _tokenizer.VocabularySizes.ToArray().Max();
        var headW = new float[t * D * vMax];
        var headB = new float[t * vMax];
        for (int p = 0; p < t; p++)
        {
            var (w, shape) = _w.GetTransposed($"heads.{p}.weight"); // [d, V_p]
            int v = (int)shape[1];
            for (int r = 0; r < D; r++) Array.Copy(w, r * v, headW, (p * D + r) * vMax, v);
            Array.Copy(_w.Get($"heads.{p}.bias").Data, 0, headB, p * vMax, v);
        }

        string vocab = g.Op("Unsqueeze", [g.Op("Gather", [g.Ints(_tokenizer.VocabularySizes.ToArray().Select(v => (long)v).ToArray(), t), position]), g.Vec(0)]); // [1] = V_P
        string logitsPadded = g.Op("Add", [
            g.Op("MatMul", [x, g.Op("Gather", [g.Weight("heads.weight_padded", headW, t, D, vMax), position])]),
            g.Op("Gather", [g.Weight("heads.bias_padded", headB, t, vMax), position])]);
        string logits = g.Op("Slice", [logitsPadded, g.Vec(0), vocab, g.Vec(1)]); // [N, V_P]

        string output;
        if (!o.NeighborCopy)
        {
            output = g.Op("LogSoftmax", [logits], Int("axis", -1));
        }
        else
        {
            string groupShape = g.Op("Concat", [batchVec, g.Vec(-1, k)], Int("axis", 0)); // [B, -1, k]
            string q = g.Op("Reshape", [Linear(x, "copy_head.query"), g.Op("Concat", [batchVec, g.Vec(-1, D)], Int("axis", 0))]); // [B, R, d]
            string scores = g.Op("Reshape", [g.Op("MatMul", [q, copyKeys!]), g.Vec(-1, k)]); // [N, k]
            var (rankBias, _) = _w.Get("copy_head.rank_bias");
            scores = g.Op("Add", [g.Op("Mul", [scores, g.FloatScalar((float)(1.0 / Math.Sqrt(D)))]), g.Weight("copy_head.rank_bias", rankBias, k)]);
            string attention = g.Op("Softmax", [scores], Int("axis", -1));

            // Agreement with the prefix: the continued row's agreement, and (after position 0) the previous token.
            string previousPosition = g.Op("Max", [g.Op("Sub", [position, g.Scalar(1)]), g.Scalar(0)]);
            string neighborPrevious = g.Op("Unsqueeze", [g.Op("Gather", [neighborTokens!, previousPosition], Int("axis", 2)), g.Vec(1)]); // [B, 1, k]
            string rowPrevious = g.Op("Reshape", [tokens, g.Op("Concat", [batchVec, g.Vec(-1, 1)], Int("axis", 0))]); // [B, R, 1]
            string matches = g.Op("Reshape", [g.Op("Equal", [rowPrevious, neighborPrevious]), g.Vec(-1, k)]); // [N, k]
            string agrees = g.Op("And", [g.Op("Gather", [pastAgrees!, rows], Int("axis", 0)), g.Op("Or", [matches, isStart])]);
            agrees = g.Output(agrees, N.PresentAgrees, Bool, "rows", k);

            string pointer = g.Op("Mul", [attention, g.Op("Cast", [agrees], Int("to", Float))]); // [N, k]
            string current = g.Op("Gather", [neighborTokens!, position], Int("axis", 2)); // [B, k]
            string oneHot = g.Op("OneHot", [current, vocab, g.Weight("one_hot_values", [0f, 1f], 2)], Int("axis", -1)); // [B, k, V_P]
            string copy = g.Op("Reshape", [g.Op("MatMul", [g.Op("Reshape", [pointer, groupShape]), oneHot]), g.Op("Concat", [g.Vec(-1), vocab], Int("axis", 0))]); // [N, V_P]
            string gate = g.Op("Sigmoid", [Linear(x, "copy_head.gate")]); // [N, 1]
            string mass = g.Op("ReduceSum", [pointer, g.Vec(-1)], Int("keepdims", 1)); // [N, 1]
            string headWeight = g.Op("Sub", [g.FloatScalar(1f), g.Op("Mul", [mass, gate])]);
            string mixed = g.Op("Add", [g.Op("Mul", [g.Op("Softmax", [logits], Int("axis", -1)), headWeight]), g.Op("Mul", [copy, gate])]);
            string logMixed = g.Op("Log", [g.Op("Max", [mixed, g.FloatScalar(1e-30f)])]);
            output = g.Op("LogSoftmax", [logMixed], Int("axis", -1));
        }

        g.Output(output, N.LogProbs, Float, "rows", "vocabulary");
        return g;
    }

    private string EncoderLayer(string x, string p)
    {
        var g = _g;
        string h = PreNorm ? LayerNorm(x, $"{p}.self_attn_norm") : x;
        string q = g.Op("Transpose", [g.Op("Reshape", [Linear(h, $"{p}.self_attn.q_proj"), g.Vec(0, 0, H, Dh)])], IntList("perm", 0, 2, 1, 3)); // [B, h, S, dh]
        string key = g.Op("Transpose", [g.Op("Reshape", [Linear(h, $"{p}.self_attn.k_proj"), g.Vec(0, 0, H, Dh)])], IntList("perm", 0, 2, 3, 1)); // [B, h, dh, S]
        string v = g.Op("Transpose", [g.Op("Reshape", [Linear(h, $"{p}.self_attn.v_proj"), g.Vec(0, 0, H, Dh)])], IntList("perm", 0, 2, 1, 3));
        string a = g.Op("MatMul", [g.Op("Softmax", [Scale(g.Op("MatMul", [q, key]))], Int("axis", -1)), v]); // [B, h, S, dh]
        a = Linear(g.Op("Reshape", [g.Op("Transpose", [a], IntList("perm", 0, 2, 1, 3)), g.Vec(0, 0, D)]), $"{p}.self_attn.out_proj");
        string x1 = Residual(x, a, $"{p}.self_attn_norm");
        string h2 = PreNorm ? LayerNorm(x1, $"{p}.ffn_norm") : x1;
        return Residual(x1, FeedForward(h2, $"{p}.ffn"), $"{p}.ffn_norm");
    }

    private string DecoderLayerStep(string x, string p, string rows, string pastKey, string pastValue, string crossKey, string crossValue, string batchVec, out string presentKey, out string presentValue)
    {
        var g = _g;

        // Self-attention over the cache of the continued rows plus this position.
        string h = PreNorm ? LayerNorm(x, $"{p}.self_attn_norm") : x;
        // Keys and values are cached as [N, h, P, dh], so each position's cache grows by one contiguous block per row and
        // head (appending along the last axis of a [N, h, dh, P] cache would copy it in strided pieces of P floats).
        string q = Linear(h, $"{p}.self_attn.q_proj");
        string key = g.Op("Reshape", [Linear(h, $"{p}.self_attn.k_proj"), g.Vec(0, H, 1, Dh)]); // [N, h, 1, dh]
        string value = g.Op("Reshape", [Linear(h, $"{p}.self_attn.v_proj"), g.Vec(0, H, 1, Dh)]); // [N, h, 1, dh]
        presentKey = g.Op("Concat", [g.Op("Gather", [pastKey, rows], Int("axis", 0)), key], Int("axis", 2)); // [N, h, P+1, dh]
        presentValue = g.Op("Concat", [g.Op("Gather", [pastValue, rows], Int("axis", 0)), value], Int("axis", 2)); // [N, h, P+1, dh]
        string scores = g.Op("MatMul", [presentKey, g.Op("Reshape", [q, g.Vec(0, H, Dh, 1)])]); // [N, h, P+1, 1]: K·q, no transpose
        scores = g.Op("Reshape", [scores, g.Vec(0, H, 1, -1)]); // [N, h, 1, P+1]
        string a = g.Op("MatMul", [g.Op("Softmax", [Scale(scores)], Int("axis", -1)), presentValue]); // [N, h, 1, dh]
        a = Linear(g.Op("Reshape", [a, g.Vec(0, D)]), $"{p}.self_attn.out_proj");
        string x1 = Residual(x, a, $"{p}.self_attn_norm");

        // Cross-attention: the R rows of a query attend to its memory together.
        string h2 = PreNorm ? LayerNorm(x1, $"{p}.cross_attn_norm") : x1;
        string cq = g.Op("Transpose", [g.Op("Reshape", [Linear(h2, $"{p}.cross_attn.q_proj"), g.Op("Concat", [batchVec, g.Vec(-1, H, Dh)], Int("axis", 0))])], IntList("perm", 0, 2, 1, 3)); // [B, h, R, dh]
        string c = g.Op("MatMul", [g.Op("Softmax", [Scale(g.Op("MatMul", [cq, crossKey]))], Int("axis", -1)), crossValue]); // [B, h, R, dh]
        c = Linear(g.Op("Reshape", [g.Op("Transpose", [c], IntList("perm", 0, 2, 1, 3)), g.Vec(-1, D)]), $"{p}.cross_attn.out_proj"); // [N, d]
        string x2 = Residual(x1, c, $"{p}.cross_attn_norm");

        string h3 = PreNorm ? LayerNorm(x2, $"{p}.ffn_norm") : x2;
        return Residual(x2, FeedForward(h3, $"{p}.ffn"), $"{p}.ffn_norm");
    }

    /// <summary>Post-norm: norm(x + y); pre-norm: x + y.</summary>
    private string Residual(string x, string y, string norm)
    {
        string sum = _g.Op("Add", [x, y]);
        return PreNorm ? sum : LayerNorm(sum, norm);
    }

    private string Scale(string scores) => _g.Op("Mul", [scores, _g.FloatScalar((float)(1.0 / Math.Sqrt(Dh)))]);

    private string FeedForward(string x, string p) => Linear(_g.Op("Relu", [Linear(x, $"{p}.fc1")]), $"{p}.fc2");

    /// <summary><c>normalize(fc2(relu(fc1(x))))</c> with PyTorch's <c>F.normalize</c>: x / max(‖x‖₂, 1e-12).</summary>
    private string Projection(string x, string p)
    {
        string y = FeedForward(x, p);
        string norm = _g.Op("ReduceL2", [y], IntList("axes", -1), Int("keepdims", 1));
        return _g.Op("Div", [y, _g.Op("Max", [norm, _g.FloatScalar(1e-12f)])]);
    }

    private string Linear(string x, string p)
    {
        var (w, wShape) = _w.GetTransposed($"{p}.weight");
        var (b, bShape) = _w.Get($"{p}.bias");
        return _g.Op("Add", [_g.Op("MatMul", [x, _g.Weight($"{p}.weight_t", w, wShape)]), _g.Weight($"{p}.bias", b, bShape)]);
    }

    private string LayerNorm(string x, string p)
    {
        var (scale, shape) = _w.Get($"{p}.weight");
        var (bias, _) = _w.Get($"{p}.bias");
        return _g.Op("LayerNormalization", [x, _g.Weight($"{p}.weight", scale, shape), _g.Weight($"{p}.bias", bias, shape)], Int("axis", -1), FloatAttr("epsilon", 1e-5f));
    }
}
