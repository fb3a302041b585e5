namespace GeoToken.AI.Judging;

/// <summary>How the MLLM judge is asked.</summary>
public enum MllmJudgeMode
{
    /// <summary>Choose one numbered candidate, or give its own coordinates when none fits (the paper's Pool-Selection).</summary>
    PoolSelection,

    /// <summary>Give a best guess of coordinates, with the candidates as hints (the paper's Free-Generation).</summary>
    FreeGeneration,

    /// <summary>
    /// Retrieval-augmented generation as in the GeoCLIP/Img2Loc line of work: coordinates of the most
    /// similar and of dissimilar retrieved images are given; it answers coordinates.
    /// </summary>
    Rag,
}
