using System.Buffers.Binary;
using System.Text;

namespace GeoToken.IO.Pickle;

/// <summary>
/// Writes a zip archive of uncompressed ("stored") entries the way <c>torch.save</c> does: each entry's data starts
/// at a multiple of 64 bytes (padding in the local header's extra field), CRC-32 in the headers, no zip64 (the archive
/// must stay under 4 GiB).
/// </summary>
internal sealed class StoredZipWriter(Stream stream)
{
    private const int Alignment = 64;
    private readonly List<(byte[] Name, uint Crc, long Size, long Offset)> _entries = [];

    /// <summary>Appends an entry holding <paramref name="data"/>.</summary>
    /// <exception cref="NotSupportedException">The archive would exceed 4 GiB (zip64 is not written).</exception>
    public void Add(string name, ReadOnlySpan<byte> data)
    {
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        long size = data.Length;
        uint crc = Crc32.Append(0, data);
        long offset = stream.Position;
        long dataStart = offset + 30 + nameBytes.Length + 4;
        int pad = (int)((Alignment - dataStart % Alignment) % Alignment);
        if (offset + 30 + nameBytes.Length + 4 + pad + size >= uint.MaxValue)
        {
            throw new NotSupportedException($"The checkpoint would exceed 4 GiB at entry '{name}'; zip64 archives are not written.");
        }

        Span<byte> h = stackalloc byte[30];
        BinaryPrimitives.WriteUInt32LittleEndian(h, 0x04034b50);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 20); // version needed
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 0x0800); // flags: UTF-8 names
        BinaryPrimitives.WriteUInt16LittleEndian(h[8..], 0); // stored
        BinaryPrimitives.WriteUInt16LittleEndian(h[10..], 0); // time
        BinaryPrimitives.WriteUInt16LittleEndian(h[12..], 0x21); // date 1980-01-01
        BinaryPrimitives.WriteUInt32LittleEndian(h[14..], crc);
        BinaryPrimitives.WriteUInt32LittleEndian(h[18..], (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(h[22..], (uint)size);
        BinaryPrimitives.WriteUInt16LittleEndian(h[26..], (ushort)nameBytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(h[28..], (ushort)(4 + pad));
        stream.Write(h);
        stream.Write(nameBytes);
        Span<byte> extra = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(extra, 0x4246); // "FB": torch's padding field
        BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], (ushort)pad);
        stream.Write(extra);
        stream.Write(new byte[pad]);
        stream.Write(data);
        _entries.Add((nameBytes, crc, size, offset));
    }

    /// <summary>Writes the central directory and the end record.</summary>
    public void Finish()
    {
        long start = stream.Position;
        Span<byte> c = stackalloc byte[46];
        foreach (var (name, crc, size, offset) in _entries)
        {
            c.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(c, 0x02014b50);
            BinaryPrimitives.WriteUInt16LittleEndian(c[4..], 20); // made by
            BinaryPrimitives.WriteUInt16LittleEndian(c[6..], 20); // needed
            BinaryPrimitives.WriteUInt16LittleEndian(c[8..], 0x0800);
            BinaryPrimitives.WriteUInt16LittleEndian(c[14..], 0x21);
            BinaryPrimitives.WriteUInt32LittleEndian(c[16..], crc);
            BinaryPrimitives.WriteUInt32LittleEndian(c[20..], (uint)size);
            BinaryPrimitives.WriteUInt32LittleEndian(c[24..], (uint)size);
            BinaryPrimitives.WriteUInt16LittleEndian(c[28..], (ushort)name.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(c[42..], (uint)offset);
            stream.Write(c);
            stream.Write(name);
        }

        long end = stream.Position;
        if (end >= uint.MaxValue || _entries.Count >= ushort.MaxValue) throw new NotSupportedException("The checkpoint exceeds 4 GiB or 65,535 entries; zip64 archives are not written.");
        Span<byte> e = stackalloc byte[22];
        e.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(e, 0x06054b50);
        BinaryPrimitives.WriteUInt16LittleEndian(e[8..], (ushort)_entries.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(e[10..], (ushort)_entries.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(e[12..], (uint)(end - start));
        BinaryPrimitives.WriteUInt32LittleEndian(e[16..], (uint)start);
        stream.Write(e);
    }
}
