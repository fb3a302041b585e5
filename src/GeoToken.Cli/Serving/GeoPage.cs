using System.Security.Cryptography;
using System.Text.Json;
using GeoToken.Reports.Geography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GeoToken.Cli.Serving;

/// <summary>
/// The page of <c>geotoken serve</c> at <c>/</c>: HTML, CSS and JavaScript embedded in this assembly, and
/// <c>/world.json</c>, the bundled Natural Earth country outlines (<see cref="WorldOutlines"/>) the page draws its
/// offline map from. Every response of the service carries a Content-Security-Policy that allows this origin only
/// (no inline script or style, no other host).
/// </summary>
internal static class GeoPage
{
    /// <summary>The policy sent with every response: this origin only; the photo preview is a blob: URL.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Lazy<Asset> Html = new(() => Embedded("index.html", "text/html; charset=utf-8"));
    private static readonly Lazy<Asset> Script = new(() => Embedded("app.js", "text/javascript; charset=utf-8"));
    private static readonly Lazy<Asset> Style = new(() => Embedded("app.css", "text/css; charset=utf-8"));
    private static readonly Lazy<Asset> World = new(() => Asset.Of(WorldJson(WorldOutlines.Countries), "application/json"));

    /// <summary>Sends the security headers with every response and maps <c>/</c>, <c>/app.js</c>, <c>/app.css</c> and <c>/world.json</c>.</summary>
    public static void Map(WebApplication app)
    {
        app.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            return next(context);
        });
        Get(app, "/", Html);
        Get(app, "/app.js", Script);
        Get(app, "/app.css", Style);
        Get(app, "/world.json", World);
    }

    /// <summary>
    /// The outlines as <c>{"countries": [{"name": …, "rings": [[lon, lat, lon, lat, …], …]}]}</c>, degrees rounded
    /// to 0.001° (the 1:110m data is quantised to about 0.0036°, so nothing visible is lost).
    /// </summary>
    internal static byte[] WorldJson(IReadOnlyList<CountryOutline> countries)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("countries");
            foreach (var country in countries)
            {
                json.WriteStartObject();
                json.WriteString("name", country.Name);
                json.WriteStartArray("rings");
                foreach (var ring in country.Rings)
                {
                    json.WriteStartArray();
                    foreach (var point in ring)
                    {
                        json.WriteNumberValue(Math.Round(point[0], 3));
                        json.WriteNumberValue(Math.Round(point[1], 3));
                    }

                    json.WriteEndArray();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void Get(WebApplication app, string path, Lazy<Asset> asset) =>
        ((IEndpointRouteBuilder)app).MapGet(path, (HttpContext context) => asset.Value.Send(context));

    private static Asset Embedded(string name, string contentType)
    {
        string resource = $"GeoToken.Cli.Serving.Page.{name}";
        using var stream = typeof(GeoPage).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The page resource {resource} is missing from {typeof(GeoPage).Assembly.GetName().Name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Asset.Of(copy.ToArray(), contentType);
    }

    /// <summary>An immutable response body with its content type and an ETag from its SHA-256 (revalidated: 304 when unchanged).</summary>
    private sealed record Asset(byte[] Bytes, string ContentType, string ETag)
    {
        public static Asset Of(byte[] bytes, string contentType) =>
            new(bytes, contentType, "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes), 0, 16) + "\"");

        public IResult Send(HttpContext context)
        {
            var headers = context.Response.Headers;
            headers.ETag = ETag;
            headers.CacheControl = "no-cache"; // cached, but revalidated, so that a new version of the service is seen at once
            if (context.Request.Headers.IfNoneMatch.Any(v => v is not null && v.Split(',').Any(t => t.Trim() == ETag || t.Trim() == "*")))
            {
                return Results.StatusCode(StatusCodes.Status304NotModified);
            }

            return Results.Bytes(Bytes, ContentType);
        }
    }
}
