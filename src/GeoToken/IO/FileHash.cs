using System.Buffers.Binary;
using System.Security.Cryptography;

namespace GeoToken.IO;

/// <summary>
/// Content hashes of files: the SHA-256 of the whole file, and a cheap "head and tail" SHA-256 over the
/// file's length and its first and last <see cref="HeadTailBlockBytes"/> bytes (for files too large to
/// hash on every open; see <c>docs/datasets.md</c>).
/// </summary>
public static class FileHash
{
    /// <summary>Bytes hashed at each end of a file by <see cref="HeadTailSha256"/> (1 MiB).</summary>
    public const int HeadTailBlockBytes = 1 << 20;

    /// <summary>The SHA-256 of the whole content of <paramref name="path"/>, as lowercase hex.</summary>
    public static string Sha256(string path, CancellationToken cancellationToken = default)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        int n;
        while ((n = fs.Read(buffer)) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            hash.AppendData(buffer, 0, n);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// The SHA-256 of the file's length (8 bytes, little-endian) followed by its first and last
    /// <see cref="HeadTailBlockBytes"/> bytes (the whole file, once, when it is shorter than two blocks).
    /// Catches truncation, appended data, header edits and edits near either end; not edits in the middle.
    /// </summary>
    public static string HeadTailSha256(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        long length = fs.Length;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(len, length);
        hash.AppendData(len);
        var buffer = new byte[HeadTailBlockBytes];
        if (length <= 2L * HeadTailBlockBytes)
        {
            int n;
            while ((n = fs.Read(buffer)) > 0) hash.AppendData(buffer, 0, n);
        }
        else
        {
            fs.ReadExactly(buffer);
            hash.AppendData(buffer);
            fs.Position = length - HeadTailBlockBytes;
            fs.ReadExactly(buffer);
            hash.AppendData(buffer);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
