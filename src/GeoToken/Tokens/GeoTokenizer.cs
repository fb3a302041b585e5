using GeoToken.Geometry;

namespace GeoToken.Tokens;

/// <summary>
/// Turns locations into GeoToken sequences and back. A sequence is the cube face (6-way), then the
/// Hilbert child positions of the location's level-<c>L</c> S2 cell, <c>G</c> levels per token
/// (4^G-way; the last token covers the remaining <c>L mod G</c> levels when <c>G</c> does not divide <c>L</c>).
/// </summary>
/// <remarks>
/// With the paper's setting (L = 20, G = 2) a location is 11 tokens: face, then ten 16-way tokens.
/// Token <c>t</c> at position <c>p</c> has the global index <c>Offsets[p] + t</c> in a single
/// embedding table of <see cref="TotalVocabularySize"/> rows. Instances are immutable and thread-safe.
/// </remarks>
public sealed class GeoTokenizer
{
    private const int MaxGroupSize = 8;
    private readonly int[] _vocab;
    private readonly int[] _offsets;
    private readonly int[] _levelAfter;

    /// <summary>Creates a tokenizer (paper settings when <paramref name="options"/> is null).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Level outside 1–30 or group size outside 1–8.</exception>
    public GeoTokenizer(GeoTokenizerOptions? options = null)
    {
        options ??= GeoTokenizerOptions.Paper;
        if (options.Level is < 1 or > S2CellId.MaxLevel)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Level, "Level must be in 1..30.");
        }

        if (options.GroupSize is < 1 or > MaxGroupSize)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.GroupSize, $"GroupSize must be in 1..{MaxGroupSize}.");
        }

        Options = options;
        Level = options.Level;
        GroupSize = options.GroupSize;
        Length = 1 + (Level + GroupSize - 1) / GroupSize;
        _vocab = new int[Length];
        _offsets = new int[Length];
        _levelAfter = new int[Length + 1];
        _vocab[0] = S2CellId.FaceCount;
        for (int p = 1; p < Length; p++)
        {
            int levels = Math.Min(GroupSize, Level - (p - 1) * GroupSize);
            _vocab[p] = 1 << (2 * levels);
        }

        for (int p = 1; p < Length; p++) _offsets[p] = _offsets[p - 1] + _vocab[p - 1];
        for (int n = 1; n <= Length; n++) _levelAfter[n] = Math.Min(Level, (n - 1) * GroupSize);
        _levelAfter[0] = -1;
        TotalVocabularySize = _offsets[Length - 1] + _vocab[Length - 1];
    }

    /// <summary>The settings this tokenizer was built with.</summary>
    public GeoTokenizerOptions Options { get; }

    /// <summary>The S2 level of a full sequence's cell.</summary>
    public int Level { get; }

    /// <summary>S2 levels per token after the face.</summary>
    public int GroupSize { get; }

    /// <summary>Tokens in a full sequence, face included.</summary>
    public int Length { get; }

    /// <summary>The number of distinct values at each position (6 for the face).</summary>
    public ReadOnlySpan<int> VocabularySizes => _vocab;

    /// <summary>Where each position's values start in a shared embedding table.</summary>
    public ReadOnlySpan<int> Offsets => _offsets;

    /// <summary>The sum of <see cref="VocabularySizes"/>: rows of a shared embedding table.</summary>
    public int TotalVocabularySize { get; }

    /// <summary>The S2 level named by a prefix of <paramref name="tokenCount"/> tokens (1 … <see cref="Length"/>).</summary>
    public int LevelOfPrefix(int tokenCount)
    {
        if (tokenCount < 1 || tokenCount > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(tokenCount), tokenCount, $"A prefix has 1..{Length} tokens.");
        }

        return _levelAfter[tokenCount];
    }

    /// <summary>Writes the sequence of the cell containing <paramref name="cell"/> at <see cref="Level"/>.</summary>
    /// <param name="cell">A valid cell at level ≥ <see cref="Level"/> (a leaf, typically).</param>
    /// <param name="destination">At least <see cref="Length"/> tokens.</param>
    public void Encode(S2CellId cell, Span<int> destination)
    {
        if (!cell.IsValid) throw new ArgumentException($"{cell} is not a valid S2 cell id.", nameof(cell));
        if (cell.Level < Level)
        {
            throw new ArgumentException($"Cell {cell.ToToken()} is at level {cell.Level}, coarser than the tokenizer's level {Level}.", nameof(cell));
        }

        if (destination.Length < Length)
        {
            throw new ArgumentException($"The destination holds {destination.Length} tokens; {Length} are needed.", nameof(destination));
        }

        ulong id = cell.Id;
        destination[0] = cell.Face;
        int consumed = 0;
        for (int p = 1; p < Length; p++)
        {
            int levels = Math.Min(GroupSize, Level - consumed);
            consumed += levels;

            // Child positions for levels (consumed-levels+1 .. consumed) sit just below the face bits.
            int shift = 2 * (S2CellId.MaxLevel - consumed) + 1;
            destination[p] = (int)(id >> shift) & ((1 << (2 * levels)) - 1);
        }
    }

    /// <summary>Writes the sequence of a position.</summary>
    public void Encode(LatLng position, Span<int> destination) => Encode(S2CellId.FromLatLng(position), destination);

    /// <summary>The sequence of a position given in degrees.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The coordinates are invalid.</exception>
    public int[] Encode(double latitude, double longitude)
    {
        var tokens = new int[Length];
        Encode(new LatLng(latitude, longitude), tokens);
        return tokens;
    }

    /// <summary>
    /// The S2 cell named by a full sequence or by a prefix (1 … <see cref="Length"/> tokens); a prefix of
    /// <c>n</c> tokens names a cell at level <see cref="LevelOfPrefix"/>(n).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A token lies outside its position's vocabulary (the message names the position and value), or the sequence is empty or too long.</exception>
    public S2CellId Decode(ReadOnlySpan<int> tokens)
    {
        if (tokens.Length < 1 || tokens.Length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(tokens), tokens.Length, $"A token sequence has 1..{Length} tokens.");
        }

        Validate(tokens);
        int level = _levelAfter[tokens.Length];
        ulong pos = 0;
        int consumed = 0;
        for (int p = 1; p < tokens.Length; p++)
        {
            int levels = Math.Min(GroupSize, Level - consumed);
            consumed += levels;
            pos = (pos << (2 * levels)) | (uint)tokens[p];
        }

        // Face bits, then 2·level bits of child positions, then the level marker bit.
        int markerShift = 2 * (S2CellId.MaxLevel - level);
        ulong id = ((ulong)tokens[0] << 61) | (pos << (markerShift + 1)) | (1UL << markerShift);
        return new S2CellId(id);
    }

    /// <summary>The centre of the cell named by a full sequence or prefix.</summary>
    public LatLng DecodeCenter(ReadOnlySpan<int> tokens) => Decode(tokens).ToLatLng();

    /// <summary>Checks every token against its position's vocabulary.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The first offending position and value.</exception>
    public void Validate(ReadOnlySpan<int> tokens)
    {
        if (tokens.Length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(tokens), tokens.Length, $"A token sequence has at most {Length} tokens.");
        }

        for (int p = 0; p < tokens.Length; p++)
        {
            if ((uint)tokens[p] >= (uint)_vocab[p])
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), tokens[p],
                    $"Token at position {p} is {tokens[p]}; position {p} accepts 0..{_vocab[p] - 1}.");
            }
        }
    }
}
