namespace GeoToken.Decoding;

/// <summary>
/// One batch's cached autoregressive decoding on some runtime (TorchSharp's KV cache, ONNX Runtime, …): the three
/// operations the runtime-neutral search (<see cref="TokenSearch"/>) needs. The encoder has already run; every row
/// decodes one image, and rows stay grouped by image (row <c>r</c> of <c>R</c> rows per image decodes image <c>r / R</c>).
/// </summary>
/// <remarks>
/// A fresh session is at position 0 with one row per image. The search calls <see cref="Expand"/> once, then for each
/// position <see cref="Step"/>, then (except after the last) <see cref="Reorder"/>. The search does not dispose the
/// session. Implementations need not be thread-safe.
/// </remarks>
public interface IDecoderSession
{
    /// <summary>Rows currently decoded (a fresh session: one per image).</summary>
    int Rows { get; }

    /// <summary>
    /// Repeats every row <paramref name="copies"/> times in place: row <c>r</c> becomes rows
    /// <c>r·copies … r·copies + copies − 1</c> (the beams and samples of one image share its encoder output).
    /// </summary>
    /// <param name="copies">At least 1 (1 changes nothing).</param>
    void Expand(int copies);

    /// <summary>
    /// Decodes the next position for every row and returns its scores, row-major <c>[Rows, V_p]</c> (V_p: the position's
    /// vocabulary): the model's logits or its log-probabilities — any scores whose log-softmax over a row is the model's
    /// log-probabilities of that position's tokens given the row's prefix.
    /// </summary>
    /// <param name="previousTokens">Empty at position 0; afterwards the token each row appended at the previous position, one per row.</param>
    /// <returns>A new array the caller may keep.</returns>
    float[] Step(ReadOnlySpan<long> previousTokens);

    /// <summary>
    /// Replaces the rows by the rows named in <paramref name="rows"/> (new row <c>i</c> continues current row
    /// <c>rows[i]</c>): reorders, repeats or drops rows as beam search does. Rows stay grouped by image.
    /// </summary>
    /// <param name="rows">Non-empty; each a current row of the same image as the new row.</param>
    void Reorder(ReadOnlySpan<long> rows);
}
