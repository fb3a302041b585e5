using GeoToken.Imaging;

namespace GeoToken.Reranking;

/// <summary>The query photo itself, for rerankers that look at pixels (an MLLM judge).</summary>
/// <param name="Data">The encoded image bytes (JPEG, PNG, WebP…).</param>
/// <param name="MediaType">The IANA media type, e.g. <c>image/jpeg</c>.</param>
/// <param name="Path">Where it came from, for messages.</param>
public sealed record ImageInput(ReadOnlyMemory<byte> Data, string MediaType, string? Path = null)
{
    /// <summary>Reads an image file, inferring the media type from its first bytes.</summary>
    /// <exception cref="InvalidDataException">The file is not a JPEG, PNG, WebP or GIF.</exception>
    public static ImageInput FromFile(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return new ImageInput(bytes, SniffMediaType(bytes) ?? throw new InvalidDataException($"{path} is not a JPEG, PNG, WebP or GIF image."), path);
    }

    /// <summary>
    /// The media type of a JPEG, PNG, WebP or GIF image (what multimodal chat APIs accept) from its first bytes
    /// (<see cref="ImageFormatSniffer"/>), or null for anything else.
    /// </summary>
    public static string? SniffMediaType(ReadOnlySpan<byte> b) =>
        ImageFormatSniffer.Sniff(b) is { } format && format is ImageFileFormat.Jpeg or ImageFileFormat.Png or ImageFileFormat.WebP or ImageFileFormat.Gif
            ? ImageFormatSniffer.MediaType(format)
            : null;
}
