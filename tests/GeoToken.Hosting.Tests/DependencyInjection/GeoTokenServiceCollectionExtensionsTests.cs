using GeoToken.Hosting.DependencyInjection;
using GeoToken.Hosting.Locating;
using GeoToken.Hosting.Tests.Locating;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GeoToken.Hosting.Tests.DependencyInjection;

/// <summary>services.AddGeoToken: the locator resolves from configured options; bad options fail validation, named.</summary>
public sealed class GeoTokenServiceCollectionExtensionsTests(PhotoGalleryFixture data) : IClassFixture<PhotoGalleryFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_locator_resolves_as_a_singleton_and_locates()
    {
        var template = data.Options();
        var services = new ServiceCollection().AddGeoToken(o =>
        {
            o.ModelPath = template.ModelPath;
            o.GalleryDirectory = template.GalleryDirectory;
            o.Encoders.Add(template.Encoders[0]);
            o.Samples = 4;
            o.Reranker = "logprob";
        });
        await using (var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }))
        {
            var locator = provider.GetRequiredService<GeoLocator>();
            Assert.Same(locator, provider.GetRequiredService<GeoLocator>());
            Assert.Equal(4, provider.GetRequiredService<IOptions<GeoLocatorOptions>>().Value.Samples);
            var p = await locator.LocateAsync(PhotoGalleryFixture.Photos[0], Ct);
            Assert.Equal("logprob", p.DecidedBy);
            Assert.Equal(Path.GetFileName(PhotoGalleryFixture.Photos[0]), p.Id);
        }
    }

    [Fact]
    public void Bad_options_throw_an_options_validation_exception_listing_every_problem()
    {
        var services = new ServiceCollection().AddGeoToken(o =>
        {
            o.GalleryDirectory = Path.Combine(Path.GetTempPath(), "no-such-gallery-" + Guid.NewGuid().ToString("N"));
            o.Samples = -1;
            o.BatchSize = 0;
        });
        using var provider = services.BuildServiceProvider();
        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<GeoLocatorOptions>>().Value);
        Assert.Equal(typeof(GeoLocatorOptions), e.OptionsType);
        Assert.Contains(e.Failures, f => f.Contains("ModelPath is empty", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.Contains("GalleryDirectory: ", StringComparison.Ordinal) && f.Contains("does not exist", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.Contains("Encoders is empty", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.Contains("Samples is -1", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.Contains("BatchSize is 0", StringComparison.Ordinal));

        // Resolving the locator validates the same way (nothing is loaded).
        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<GeoLocator>());
    }
}
