using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace GeoToken.Data;

/// <summary>
/// The image ids seen so far, to refuse a repeated id with both row numbers. Keeps a 128-bit prefix of
/// each id's SHA-256 (about 40 bytes per row, not the strings), so two different ids are taken for the
/// same only with probability ≈ rows² / 2¹²⁹ (10⁻²⁶ for 5 million rows).
/// </summary>
internal sealed class ImageIdSet
{
    private readonly Dictionary<UInt128, long> _rows = [];

    /// <summary>Adds the id of <paramref name="row"/> (0-based); returns the 0-based row that already holds it, or −1.</summary>
    public long Add(string id, long row)
    {
        var key = Key(id);
        if (_rows.TryGetValue(key, out long earlier)) return earlier;
        _rows.Add(key, row);
        return -1;
    }

    /// <summary>Removes an id added earlier (to undo a block that is refused).</summary>
    public void Remove(string id) => _rows.Remove(Key(id));

    /// <summary>The message for a repeated id (rows counted from 1, as in meta.csv's data rows).</summary>
    public static string Repeated(string source, string id, long earlierRow, long row) =>
        string.Create(CultureInfo.InvariantCulture, $"{source}: image id '{id}' of row {row + 1} repeats row {earlierRow + 1}; every image needs its own id.");

    private static UInt128 Key(string id)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(MemoryMarshal.AsBytes(id.AsSpan()), digest);
        return MemoryMarshal.Read<UInt128>(digest);
    }
}
