using System.Text;
using GeoToken.Imaging;
using GeoToken.Reranking;

namespace GeoToken.Tests.Imaging;

/// <summary>Image formats from their first bytes: one sniffer for the decoder and for the judge's image input.</summary>
public sealed class ImageFormatSnifferTests
{
    private static byte[] Header(params object[] parts) =>
        [.. parts.SelectMany(p => p switch { string s => Encoding.Latin1.GetBytes(s), byte[] b => b, _ => throw new ArgumentException(p.ToString()) }), .. new byte[16]];

    public static TheoryData<string, ImageFileFormat, string> Signatures() => new()
    {
        { "jpeg", ImageFileFormat.Jpeg, "image/jpeg" },
        { "png", ImageFileFormat.Png, "image/png" },
        { "webp", ImageFileFormat.WebP, "image/webp" },
        { "gif", ImageFileFormat.Gif, "image/gif" },
        { "bmp", ImageFileFormat.Bmp, "image/bmp" },
        { "tiff", ImageFileFormat.Tiff, "image/tiff" },
        { "heic", ImageFileFormat.Heif, "image/heif" },
        { "avif", ImageFileFormat.Avif, "image/avif" },
    };

    private static byte[] Sample(string name) => name switch
    {
        "jpeg" => Header(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0 }),
        "png" => Header(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }),
        "webp" => Header("RIFF", new byte[] { 1, 2, 3, 4 }, "WEBPVP8 "),
        "gif" => Header("GIF89a"),
        "bmp" => Header("BM"),
        "tiff" => Header("II*\0"),
        "heic" => Header(new byte[] { 0, 0, 0, 24 }, "ftypheic"),
        "avif" => Header(new byte[] { 0, 0, 0, 24 }, "ftypavif"),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Signatures))]
    public void Each_signature_names_its_format_and_media_type(string name, ImageFileFormat format, string mediaType)
    {
        var bytes = Sample(name);
        Assert.Equal(format, ImageFormatSniffer.Sniff(bytes));
        Assert.Equal(mediaType, ImageFormatSniffer.MediaType(format));

        // The judge's image input takes what chat APIs accept, through the same sniffer.
        bool chat = format is ImageFileFormat.Jpeg or ImageFileFormat.Png or ImageFileFormat.WebP or ImageFileFormat.Gif;
        Assert.Equal(chat ? mediaType : null, ImageInput.SniffMediaType(bytes));
    }

    [Fact]
    public void Text_truncated_and_empty_headers_are_no_format()
    {
        Assert.Null(ImageFormatSniffer.Sniff("hello, world, this is text"u8));
        Assert.Null(ImageFormatSniffer.Sniff(new byte[] { 0xFF, 0xD8 }));
        Assert.Null(ImageFormatSniffer.Sniff(ReadOnlySpan<byte>.Empty));
        Assert.Null(ImageFormatSniffer.Sniff(Header("RIFF", new byte[] { 1, 2, 3, 4 }, "WAVE")));
        Assert.Null(ImageInput.SniffMediaType("GIF8"u8));
    }
}
