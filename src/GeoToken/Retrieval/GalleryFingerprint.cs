using System.Buffers.Binary;
using System.Security.Cryptography;
using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>
/// Identifies a gallery cheaply: its shape, element type and a SHA-256 over up to
/// <see cref="DefaultSampleRows"/> rows spread evenly over it (first and last included), as
/// float32 values. An index records the fingerprint of the gallery it was built for and refuses
/// any other gallery. A float16 copy of a float32 gallery is a different gallery.
/// </summary>
/// <param name="Rows">Rows of the gallery.</param>
/// <param name="Columns">Dimension.</param>
/// <param name="ElementType">Stored element type.</param>
/// <param name="SampleRows">Rows hashed.</param>
/// <param name="Sha256">The hash, 32 bytes as lowercase hex.</param>
public sealed record GalleryFingerprint(long Rows, int Columns, FeatureElementType ElementType, int SampleRows, string Sha256)
{
    /// <summary>Rows hashed by default.</summary>
    public const int DefaultSampleRows = 1024;

    /// <summary>Computes the fingerprint of <paramref name="gallery"/> over <paramref name="sampleRows"/> evenly spread rows.</summary>
    public static GalleryFingerprint Compute(FeatureMatrix gallery, int sampleRows = DefaultSampleRows)
    {
        ArgumentNullException.ThrowIfNull(gallery);
        if (sampleRows <= 0) throw new ArgumentOutOfRangeException(nameof(sampleRows), sampleRows, "Sample at least one row.");
        long rows = gallery.Rows;
        int samples = (int)Math.Min(rows, sampleRows);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> header = stackalloc byte[24];
        BinaryPrimitives.WriteInt64LittleEndian(header, rows);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], gallery.Columns);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], (int)gallery.ElementType);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], samples);
        hash.AppendData(header);
        var row = new float[gallery.Columns];
        var bytes = new byte[gallery.Columns * 4 + 8];
        for (int s = 0; s < samples; s++)
        {
            long r = samples == 1 ? 0 : (long)((double)s * (rows - 1) / (samples - 1));
            gallery.ReadRow(r, row);
            BinaryPrimitives.WriteInt64LittleEndian(bytes, r);
            for (int c = 0; c < row.Length; c++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(8 + 4 * c), row[c]);
            hash.AppendData(bytes);
        }

        return new GalleryFingerprint(rows, gallery.Columns, gallery.ElementType, sampleRows, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Rows} × {Columns} {(ElementType == FeatureElementType.Float16 ? "float16" : "float32")}, sha256 {Sha256[..16]}… of {Math.Min(Rows, SampleRows)} sampled rows";
}
