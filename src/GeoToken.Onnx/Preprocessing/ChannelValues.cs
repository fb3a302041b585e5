namespace GeoToken.Preprocessing;

/// <summary>One value per colour channel, always named by colour (whatever the tensor's channel order).</summary>
/// <param name="Red">The red channel's value.</param>
/// <param name="Green">The green channel's value.</param>
/// <param name="Blue">The blue channel's value.</param>
public readonly record struct ChannelValues(float Red, float Green, float Blue)
{
    /// <summary>The value of colour channel <paramref name="rgbIndex"/> (0 red, 1 green, 2 blue).</summary>
    public float this[int rgbIndex] => rgbIndex switch
    {
        0 => Red,
        1 => Green,
        2 => Blue,
        _ => throw new ArgumentOutOfRangeException(nameof(rgbIndex), rgbIndex, "Colour channel index must be 0 (red), 1 (green) or 2 (blue)."),
    };

    /// <summary>The same value for all three channels.</summary>
    public static ChannelValues All(float value) => new(value, value, value);
}
