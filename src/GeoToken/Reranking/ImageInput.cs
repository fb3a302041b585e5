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

    /// <summary>The media type from magic bytes, or null.</summary>
    public static string? SniffMediaType(ReadOnlySpan<byte> b) => b switch
    {
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [0x89, (byte)'P', (byte)'N', (byte)'G', ..] => "image/png",
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => "image/webp",
        [(byte)'G', (byte)'I', (byte)'F', (byte)'8', ..] => "image/gif",
        _ => null,
    };
}
