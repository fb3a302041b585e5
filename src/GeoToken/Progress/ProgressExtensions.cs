namespace GeoToken.Progress;

/// <summary>
/// Helpers for forwarding progress between layers. Unlike <see cref="Progress{T}"/>, the adapters here
/// report synchronously on the calling thread, so a caller sees every report, in order, before the
/// reporting method returns.
/// </summary>
public static class ProgressExtensions
{
    /// <summary>
    /// Returns a progress sink that converts each report with <paramref name="map"/> and forwards it to
    /// <paramref name="target"/> synchronously, or <see langword="null"/> when <paramref name="target"/> is null
    /// (so callees can skip building reports nobody reads).
    /// </summary>
    /// <typeparam name="TFrom">The report type the callee produces.</typeparam>
    /// <typeparam name="TTo">The report type the target consumes.</typeparam>
    /// <param name="target">Where converted reports go; may be null.</param>
    /// <param name="map">Converts one report.</param>
    public static IProgress<TFrom>? Map<TFrom, TTo>(this IProgress<TTo>? target, Func<TFrom, TTo> map)
    {
        ArgumentNullException.ThrowIfNull(map);
        return target is null ? null : new MappedProgress<TFrom, TTo>(target, map);
    }

    private sealed class MappedProgress<TFrom, TTo>(IProgress<TTo> target, Func<TFrom, TTo> map) : IProgress<TFrom>
    {
        public void Report(TFrom value) => target.Report(map(value));
    }
}
