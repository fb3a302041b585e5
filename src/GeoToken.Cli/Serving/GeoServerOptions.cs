namespace GeoToken.Cli.Serving;

/// <summary>How <c>geotoken serve</c> serves (always on 127.0.0.1).</summary>
internal sealed record GeoServerOptions
{
    /// <summary>The loopback port (0: any free port; the bound address is in <see cref="GeoServer.Address"/>).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>Largest request body accepted (default 16 MB); larger requests get 413.</summary>
    public long MaxRequestBytes { get; init; } = 16L << 20;

    /// <summary>Prediction requests handled at once (default 4); beyond them and the queue, 503.</summary>
    public int MaxConcurrentRequests { get; init; } = 4;

    /// <summary>Prediction requests waiting for a slot (default 16); a full queue answers 503.</summary>
    public int QueueLength { get; init; } = 16;

    /// <summary>Images per request (default 64).</summary>
    public int MaxImagesPerRequest { get; init; } = 64;

    /// <summary>Ranked locations returned per image (default 3).</summary>
    public int Top { get; init; } = 3;
}
