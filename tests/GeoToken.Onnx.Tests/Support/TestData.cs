namespace GeoToken.Onnx.Tests.Support;

/// <summary>Paths of the committed fixtures (see TestData/README.md).</summary>
internal static class TestData
{
    public static string Root { get; } = Path.Combine(AppContext.BaseDirectory, "TestData");

    public static string PhotosDir { get; } = Path.Combine(Root, "photos");

    public static string SqueezeNet { get; } = Path.Combine(Root, "models", "squeezenet_snacks.onnx");

    public static string CmykJpeg { get; } = Path.Combine(Root, "images", "cmyk_quadrants.jpg");

    public static string CmykPhoto { get; } = Path.Combine(Root, "images", "DSCN0010_cmyk.jpg");

    /// <summary>The nine real Nikon photos, sorted by name.</summary>
    public static IReadOnlyList<string> Photos { get; } =
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "TestData", "photos"), "*.jpg").Order(StringComparer.Ordinal).ToArray();

    public static string Photo(string name) => Path.Combine(PhotosDir, name);
}
