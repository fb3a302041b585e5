using GeoToken.Geometry;
using GeoToken.Randomness;
using GeoToken.Reranking;

namespace GeoToken.Model.Training;

/// <summary>
/// GeoCLIP's dynamic queue of GPS negatives: a fixed number of past training coordinates (first in, first out) that
/// every contrastive step adds to its batch's locations as extra negatives.
/// </summary>
/// <remarks>
/// GeoCLIP starts its queue from random values; this one starts full of positions drawn uniformly on the sphere
/// from a seed, so every step has the same number of negatives from the first step on. Coordinates enter as the
/// step used them (with the training noise, <see cref="SimilarityTrainingOptions.LocationNoiseKm"/>). Unlike
/// GeoCLIP's, the capacity need not be a multiple of the batch size: the ring wraps element by element.
/// </remarks>
internal sealed class GpsQueue
{
    private readonly LatLng[] _items;
    private int _next;

    /// <summary>A queue of <paramref name="capacity"/> positions drawn uniformly on the sphere from <paramref name="seed"/>.</summary>
    public GpsQueue(int capacity, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _items = new LatLng[capacity];
        var rng = new SplitMix64(seed);
        for (int i = 0; i < capacity; i++)
        {
            double lat = Math.Asin(2 * rng.NextDouble() - 1) * 180 / Math.PI;
            double lng = rng.NextDouble() * 360 - 180;
            _items[i] = new LatLng(lat, lng);
        }
    }

    /// <summary>The number of positions held (the capacity: the queue is always full).</summary>
    public int Count => _items.Length;

    /// <summary>The positions held, in storage order (the order does not matter to the loss).</summary>
    public ReadOnlySpan<LatLng> Items => _items;

    /// <summary>Replaces the oldest positions with <paramref name="batch"/>.</summary>
    public void Enqueue(ReadOnlySpan<LatLng> batch)
    {
        foreach (var p in batch)
        {
            _items[_next] = p;
            _next = (_next + 1) % _items.Length;
        }
    }
}
