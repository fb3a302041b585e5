namespace GeoToken.Model.Import;

/// <summary>
/// The state-dict layout of the GeoToken authors' reference model (<c>GeoTransformerModelS2</c> of
/// github.com/NNargesNN/GeoToken) for a <see cref="GeoTokenModelOptions"/>, in the reference's own key order, with the
/// parameter of <see cref="GeoTokenModel"/> each tensor is.
/// </summary>
internal static class ReferenceLayout
{
    /// <summary>Rows of the reference's encoder position table (its <c>max_len</c>).</summary>
    public const int EncoderPositionRows = 500;

    /// <summary>The reference's feature views, in the order of this library's <c>projections.{m}</c>: image, location, text.</summary>
    public static readonly string[] Views = ["image_proj", "loc_proj", "text_proj"];

    /// <summary>Every tensor of the reference's state dict for a model of these options.</summary>
    public static List<ReferenceTensor> Tensors(GeoTokenModelOptions o, IReadOnlyList<int> vocab)
    {
        long d = o.ModelDimension, ff = o.FeedForwardDimension, din = o.FeatureDimension;
        int total = vocab.Sum();
        var list = new List<ReferenceTensor>();
        void Add(string name, ReferenceTensorKind kind, long[] shape, params string[] ours) => list.Add(new(name, shape, kind, ours));
        void Linear(string theirs, string ours, long outDim, long inDim)
        {
            Add($"{theirs}.weight", ReferenceTensorKind.Same, [outDim, inDim], $"{ours}.weight");
            Add($"{theirs}.bias", ReferenceTensorKind.Same, [outDim], $"{ours}.bias");
        }

        void Norm(string theirs, string ours)
        {
            Add($"{theirs}.weight", ReferenceTensorKind.Same, [d], $"{ours}.weight");
            Add($"{theirs}.bias", ReferenceTensorKind.Same, [d], $"{ours}.bias");
        }

        void Attention(string theirs, string ours)
        {
            Add($"{theirs}.in_proj_weight", ReferenceTensorKind.Packed, [3 * d, d], $"{ours}.q_proj.weight", $"{ours}.k_proj.weight", $"{ours}.v_proj.weight");
            Add($"{theirs}.in_proj_bias", ReferenceTensorKind.Packed, [3 * d], $"{ours}.q_proj.bias", $"{ours}.k_proj.bias", $"{ours}.v_proj.bias");
            Linear($"{theirs}.out_proj", $"{ours}.out_proj", d, d);
        }

        // Root parameters first, then the submodules in the order the reference registers them.
        Add("start_token_embedding", ReferenceTensorKind.Row, [1, d], "start_token");
        Add("cls_token", ReferenceTensorKind.Row, [1, d], "cls_token");
        for (int p = 0; p < vocab.Count; p++) Linear($"output_layers.{p}", $"heads.{p}", vocab[p], d);
        Add("embedding.weight", ReferenceTensorKind.Same, [total, d], "token_embedding.weight");
        foreach (string view in new[] { "image_proj", "text_proj", "loc_proj" })
        {
            int m = Array.IndexOf(Views, view);
            Linear($"{view}.0", $"projections.{m}.fc1", d, din);
            Linear($"{view}.2", $"projections.{m}.fc2", d, d);
        }

        Add("retrieval_embedding.weight", ReferenceTensorKind.Same, [total, d], "context_token_embedding.weight");
        Add("similarity_embedding.weight", ReferenceTensorKind.Unused, [11, d]);
        for (int i = 0; i < o.EncoderLayers; i++)
        {
            string t = $"encoder.layers.{i}", u = $"encoder.layers.{i}";
            Attention($"{t}.self_attn", $"{u}.self_attn");
            Linear($"{t}.linear1", $"{u}.ffn.fc1", ff, d);
            Linear($"{t}.linear2", $"{u}.ffn.fc2", d, ff);
            Norm($"{t}.norm1", $"{u}.self_attn_norm");
            Norm($"{t}.norm2", $"{u}.ffn_norm");
        }

        Add("encoder_pos_encoder.pe", ReferenceTensorKind.EncoderPositions, [EncoderPositionRows, 1, d]);
        Add("metadata_proj.weight", ReferenceTensorKind.Unused, [d, 2]);
        Add("metadata_proj.bias", ReferenceTensorKind.Unused, [d]);
        Add("coord_head.weight", ReferenceTensorKind.Unused, [2, d]);
        Add("coord_head.bias", ReferenceTensorKind.Unused, [2]);
        for (int i = 0; i < o.DecoderLayers; i++)
        {
            string t = $"decoder.layers.{i}", u = $"decoder.layers.{i}";
            Attention($"{t}.self_attn", $"{u}.self_attn");
            Attention($"{t}.multihead_attn", $"{u}.cross_attn");
            Linear($"{t}.linear1", $"{u}.ffn.fc1", ff, d);
            Linear($"{t}.linear2", $"{u}.ffn.fc2", d, ff);
            Norm($"{t}.norm1", $"{u}.self_attn_norm");
            Norm($"{t}.norm2", $"{u}.cross_attn_norm");
            Norm($"{t}.norm3", $"{u}.ffn_norm");
        }

        Add("decoder_pos_encoder.pe", ReferenceTensorKind.DecoderPositions, [vocab.Count + 1, 1, d]);
        return list;
    }
}
