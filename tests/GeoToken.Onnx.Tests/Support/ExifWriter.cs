using System.Buffers.Binary;
using System.Text;

namespace GeoToken.Onnx.Tests.Support;

/// <summary>
/// Builds an EXIF APP1 segment by hand (big-endian TIFF: IFD0 with pointers to a GPS IFD and an
/// Exif IFD) so tests can write any GPS values, including malformed ones no camera app would
/// write. TIFF 6.0 / EXIF 2.32 field types: BYTE 1, ASCII 2, SHORT 3, LONG 4, RATIONAL 5.
/// </summary>
internal sealed class ExifWriter
{
    private readonly List<Entry> _ifd0 = [];
    private readonly List<Entry> _gps = [];
    private readonly List<Entry> _exif = [];

    private sealed record Entry(ushort Tag, ushort Type, uint Count, byte[] Data);

    public ExifWriter Orientation(int value) => Add(_ifd0, 0x0112, 3, 1, BE16((ushort)value));

    /// <summary>GPSLatitudeRef (1) and GPSLatitude (2) as three rationals; null leaves a tag out.</summary>
    public ExifWriter Latitude(string? reference, params (uint Num, uint Den)[]? dms)
    {
        if (reference is not null) Ascii(_gps, 0x0001, reference);
        if (dms is not null) Rationals(_gps, 0x0002, dms);
        return this;
    }

    public ExifWriter Longitude(string? reference, params (uint Num, uint Den)[]? dms)
    {
        if (reference is not null) Ascii(_gps, 0x0003, reference);
        if (dms is not null) Rationals(_gps, 0x0004, dms);
        return this;
    }

    /// <summary>Decimal degrees as d/1, m/1, s×10000/10000 with the reference from the sign.</summary>
    public ExifWriter Position(double lat, double lon)
    {
        Latitude(lat < 0 ? "S" : "N", Dms(Math.Abs(lat)));
        return Longitude(lon < 0 ? "W" : "E", Dms(Math.Abs(lon)));
    }

    public ExifWriter Altitude(uint num, uint den, bool belowSeaLevel)
    {
        Add(_gps, 0x0005, 1, 1, [(byte)(belowSeaLevel ? 1 : 0)]);
        return Rationals(_gps, 0x0006, (num, den));
    }

    public ExifWriter Status(string status) => Ascii(_gps, 0x0009, status);

    public ExifWriter DateTimeOriginal(string value, string? offset = null)
    {
        Ascii(_exif, 0x9003, value);
        if (offset is not null) Ascii(_exif, 0x9011, offset);
        return this;
    }

    public static (uint, uint)[] Dms(double degrees)
    {
        uint d = (uint)Math.Floor(degrees);
        double minutes = (degrees - d) * 60;
        uint m = (uint)Math.Floor(minutes);
        uint s = (uint)Math.Round((minutes - m) * 60 * 10000);
        return [(d, 1), (m, 1), (s, 10000)];
    }

    /// <summary>The JPEG with this EXIF segment inserted after SOI.</summary>
    public byte[] InsertInto(byte[] jpeg)
    {
        byte[] tiff = Tiff();
        int length = 2 + 6 + tiff.Length;
        return [.. jpeg.AsSpan(0, 2), 0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. "Exif\0\0"u8, .. tiff, .. jpeg.AsSpan(2)];
    }

    private byte[] Tiff()
    {
        var ifd0 = new List<Entry>(_ifd0);
        if (_gps.Count > 0) ifd0.Add(new Entry(0x8825, 4, 1, new byte[4]));
        if (_exif.Count > 0) ifd0.Add(new Entry(0x8769, 4, 1, new byte[4]));
        int gpsAt = 8 + Size(ifd0), exifAt = gpsAt + (_gps.Count > 0 ? Size(_gps) : 0);
        ifd0 = [.. ifd0.Select(e => e.Tag == 0x8825 ? e with { Data = BE32((uint)gpsAt) } : e.Tag == 0x8769 ? e with { Data = BE32((uint)exifAt) } : e)];

        var tiff = new List<byte> { (byte)'M', (byte)'M', 0x00, 0x2A, 0, 0, 0, 8 };
        tiff.AddRange(Ifd(ifd0, 8));
        if (_gps.Count > 0) tiff.AddRange(Ifd(_gps, gpsAt));
        if (_exif.Count > 0) tiff.AddRange(Ifd(_exif, exifAt));
        return [.. tiff];
    }

    private static int Size(List<Entry> entries) => 2 + (12 * entries.Count) + 4 + entries.Sum(e => e.Data.Length > 4 ? (e.Data.Length + 1) & ~1 : 0);

    private static byte[] Ifd(List<Entry> entries, int at)
    {
        var sorted = entries.OrderBy(e => e.Tag).ToList();
        var head = new List<byte>(BE16((ushort)sorted.Count));
        var data = new List<byte>();
        int dataAt = at + 2 + (12 * sorted.Count) + 4;
        foreach (var e in sorted)
        {
            head.AddRange(BE16(e.Tag));
            head.AddRange(BE16(e.Type));
            head.AddRange(BE32(e.Count));
            if (e.Data.Length <= 4)
            {
                head.AddRange([.. e.Data, .. new byte[4 - e.Data.Length]]);
            }
            else
            {
                head.AddRange(BE32((uint)(dataAt + data.Count)));
                data.AddRange(e.Data);
                if (data.Count % 2 == 1) data.Add(0);
            }
        }

        head.AddRange(new byte[4]); // no next IFD
        return [.. head, .. data];
    }

    private ExifWriter Add(List<Entry> ifd, ushort tag, ushort type, uint count, byte[] data)
    {
        ifd.Add(new Entry(tag, type, count, data));
        return this;
    }

    private ExifWriter Ascii(List<Entry> ifd, ushort tag, string value)
    {
        byte[] bytes = [.. Encoding.ASCII.GetBytes(value), 0];
        return Add(ifd, tag, 2, (uint)bytes.Length, bytes);
    }

    private ExifWriter Rationals(List<Entry> ifd, ushort tag, params (uint Num, uint Den)[] values) =>
        Add(ifd, tag, 5, (uint)values.Length, [.. values.SelectMany(v => BE32(v.Num).Concat(BE32(v.Den)))]);

    private static byte[] BE16(ushort v)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, v);
        return b;
    }

    private static byte[] BE32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, v);
        return b;
    }
}
