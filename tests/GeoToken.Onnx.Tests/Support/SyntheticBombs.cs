using System.Buffers.Binary;
using System.IO.Compression;

namespace GeoToken.Onnx.Tests.Support;

/// <summary>
/// Small, valid image files that claim (and really contain) huge solid-grey images: decompression
/// bombs, written byte by byte without ever holding the pixels. Also linked into the Onnx benchmarks.
/// </summary>
internal static class SyntheticBombs
{
    /// <summary>
    /// A baseline greyscale JPEG of <paramref name="width"/> × <paramref name="height"/> pixels, every pixel 128.
    /// Huffman tables with a single one-bit code (DC difference 0, AC end-of-block) make each 8 × 8 block two
    /// zero bits, so 13,370 × 13,370 pixels take about 700 KB.
    /// </summary>
    public static byte[] SolidGreyJpeg(int width, int height)
    {
        long blocks = (long)((width + 7) / 8) * ((height + 7) / 8);
        var ms = new MemoryStream();
        ms.Write([0xFF, 0xD8]);
        Segment(ms, 0xDB, [0x00, .. Enumerable.Repeat((byte)1, 64)]); // quantisation table 0, all ones
        Segment(ms, 0xC0, [8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 1, 1, 0x11, 0]);
        byte[] oneCode = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00]; // one symbol (0) of length 1: code "0"
        Segment(ms, 0xC4, [0x00, .. oneCode]); // DC table 0
        Segment(ms, 0xC4, [0x10, .. oneCode]); // AC table 0: symbol 0 is end-of-block
        Segment(ms, 0xDA, [1, 1, 0x00, 0, 63, 0]);
        long bits = blocks * 2;
        ms.Write(new byte[bits / 8]);
        if (bits % 8 != 0) ms.WriteByte((byte)(0xFF >> (int)(bits % 8))); // pad the last byte with one-bits
        ms.Write([0xFF, 0xD9]);
        return ms.ToArray();
    }

    /// <summary>An 8-bit greyscale PNG of <paramref name="width"/> × <paramref name="height"/> pixels of <paramref name="value"/>.</summary>
    public static byte[] SolidGreyPng(int width, int height, byte value)
    {
        var ms = new MemoryStream();
        ms.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth; colour type 0 (grey), deflate, filter 0, not interlaced
        Chunk(ms, "IHDR", ihdr);
        var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.Fastest, leaveOpen: true))
        {
            var row = new byte[width + 1]; // filter type 0 (none), then the row
            row.AsSpan(1).Fill(value);
            for (int y = 0; y < height; y++) z.Write(row);
        }

        Chunk(ms, "IDAT", idat.ToArray());
        Chunk(ms, "IEND", []);
        return ms.ToArray();
    }

    private static void Segment(Stream s, byte marker, byte[] payload)
    {
        s.Write([0xFF, marker, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2)]);
        s.Write(payload);
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> n = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(n, data.Length);
        s.Write(n);
        byte[] typed = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
        s.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(n, Crc32(typed));
        s.Write(n);
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int i = 0; i < 8; i++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }

        return ~crc;
    }
}
