namespace GeoToken.Imaging;

/// <summary>Cheap structural checks of JPEG files that decoders tolerate silently.</summary>
internal static class JpegStructure
{
    /// <summary>
    /// Whether an end-of-image marker (<c>FF D9</c>) follows the first start-of-scan. libjpeg (and
    /// hence Skia and Pillow) decodes a JPEG whose tail was lost or overwritten — a zero-filled
    /// tail after a crashed copy, a partial download padded with garbage — into grey or smeared
    /// rows with only a warning; such a file has no end marker after its scan data. (The EXIF
    /// thumbnail's own end marker sits in APP1, before the scan, and is skipped.)
    /// </summary>
    public static bool HasEndOfImageAfterScan(ReadOnlySpan<byte> jpeg)
    {
        int i = 2;
        while (i + 4 <= jpeg.Length)
        {
            if (jpeg[i] != 0xFF) return false;
            byte marker = jpeg[i + 1];
            if (marker == 0xFF)
            {
                i++; // fill byte
                continue;
            }

            if (marker == 0xDA) return jpeg[(i + 2)..].IndexOf((ReadOnlySpan<byte>)[0xFF, 0xD9]) >= 0;
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                i += 2;
                continue;
            }

            i += 2 + ((jpeg[i + 2] << 8) | jpeg[i + 3]);
        }

        return false;
    }
}
