using GeoToken.Hosting.Locating;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GeoToken.Hosting.DependencyInjection;

/// <summary>Registers GeoToken.NET with Microsoft.Extensions.DependencyInjection.</summary>
public static class GeoTokenServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="GeoLocatorOptions"/> (configured by <paramref name="configure"/>, checked by
    /// <see cref="GeoLocatorOptionsValidator"/>: bad options throw <see cref="OptionsValidationException"/> listing every
    /// problem when the options or the locator are first resolved) and a singleton <see cref="GeoLocator"/>, opened on
    /// first use with the container's <see cref="ILoggerFactory"/> (if any) and disposed with the container.
    /// </summary>
    /// <example><code>services.AddGeoToken(o => { o.ModelPath = "small"; o.GalleryDirectory = "mp16/train"; o.Encoders.Add(new() { Path = "clip.onnx" }); });</code></example>
    public static IServiceCollection AddGeoToken(this IServiceCollection services, Action<GeoLocatorOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<GeoLocatorOptions>().Configure(configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GeoLocatorOptions>, GeoLocatorOptionsValidator>());
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<GeoLocatorOptions>>().Value;
            // Opening reads the model and builds the gallery's token table; the factory must return synchronously.
            return GeoLocator.OpenAsync(options, sp.GetService<ILoggerFactory>(), CancellationToken.None).GetAwaiter().GetResult();
        });
        return services;
    }
}
