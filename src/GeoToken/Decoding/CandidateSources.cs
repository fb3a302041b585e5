namespace GeoToken.Decoding;

/// <summary>Which generators proposed a candidate (a candidate merged from several carries several flags).</summary>
[Flags]
public enum CandidateSources
{
    /// <summary>Unknown or none.</summary>
    None = 0,

    /// <summary>Greedy decoding.</summary>
    Greedy = 1,

    /// <summary>Beam search.</summary>
    Beam = 2,

    /// <summary>Temperature / top-k / top-p sampling.</summary>
    Sample = 4,

    /// <summary>A retrieved neighbor's location (k-NN baseline).</summary>
    Retrieval = 8,

    /// <summary>A GPS gallery entry chosen by a location encoder (GeoCLIP-style).</summary>
    GpsGallery = 16,

    /// <summary>A location proposed by an MLLM judge itself.</summary>
    Judge = 32,
}
