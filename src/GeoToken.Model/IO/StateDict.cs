using System.Collections;
using System.Diagnostics.CodeAnalysis;
using static TorchSharp.torch;

namespace GeoToken.IO;

/// <summary>
/// Named tensors in insertion order, as a PyTorch <c>state_dict()</c> or a safetensors file holds them.
/// The dictionary owns its tensors: <see cref="Dispose"/> frees them. Readers of checkpoint files return
/// one, writers take one; importers look tensors up with <see cref="Require"/>, which names the file and
/// the tensor when something is missing or has the wrong shape.
/// </summary>
public sealed class StateDict : IReadOnlyDictionary<string, Tensor>, IDisposable
{
    private readonly List<string> _names = [];
    private readonly Dictionary<string, Tensor> _tensors = new(StringComparer.Ordinal);
    private bool _disposed;

    /// <summary>Creates an empty state dict.</summary>
    /// <param name="source">Where the tensors came from (a file path), used in error messages; null when built in memory.</param>
    public StateDict(string? source = null) => Source = source;

    /// <summary>Where the tensors came from (a file path), used in error messages; null when built in memory.</summary>
    public string? Source { get; }

    /// <summary>The tensor names, in insertion order.</summary>
    public IEnumerable<string> Keys => _names;

    /// <summary>The tensors, in insertion order.</summary>
    public IEnumerable<Tensor> Values => _names.Select(n => _tensors[n]);

    /// <summary>The number of tensors.</summary>
    public int Count => _names.Count;

    /// <summary>The tensor called <paramref name="key"/>.</summary>
    /// <exception cref="KeyNotFoundException">There is no such tensor.</exception>
    public Tensor this[string key] => _tensors.TryGetValue(key, out var t)
        ? t
        : throw new KeyNotFoundException($"{Describe()} has no tensor '{key}'.");

    /// <summary>Adds a tensor and takes ownership of it.</summary>
    /// <exception cref="ArgumentException">A tensor of that name is already present.</exception>
    public void Add(string name, Tensor tensor)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(tensor);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_tensors.TryAdd(name, tensor))
        {
            throw new ArgumentException($"{Describe()} already has a tensor '{name}'.", nameof(name));
        }

        _names.Add(name);
    }

    /// <summary>
    /// Returns the tensor called <paramref name="name"/>, checking its element type and shape.
    /// </summary>
    /// <param name="name">The tensor's name.</param>
    /// <param name="dtype">The element type it must have; null for any floating-point type.</param>
    /// <param name="shape">The shape it must have; a negative entry matches any size.</param>
    /// <exception cref="InvalidDataException">The tensor is missing or has another type or shape; the message names the file and the tensor.</exception>
    public Tensor Require(string name, ScalarType? dtype, params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (!_tensors.TryGetValue(name, out var t))
        {
            throw new InvalidDataException($"{Describe()} has no tensor '{name}'.");
        }

        bool typeOk = dtype is { } want ? t.dtype == want : is_floating_point(t);
        bool shapeOk = t.dim() == shape.Length && shape.Select((s, i) => s < 0 || t.shape[i] == s).All(ok => ok);
        if (!typeOk || !shapeOk)
        {
            string expected = string.Join(", ", shape.Select(s => s < 0 ? "*" : s.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            throw new InvalidDataException(
                $"{Describe()}: tensor '{name}' is {t.dtype} [{string.Join(", ", t.shape)}]; expected {(dtype?.ToString() ?? "floating point")} [{expected}].");
        }

        return t;
    }

    /// <summary>Whether a tensor of that name is present.</summary>
    public bool ContainsKey(string key) => _tensors.ContainsKey(key);

    /// <summary>Looks a tensor up by name.</summary>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out Tensor value) => _tensors.TryGetValue(key, out value);

    /// <summary>The tensors in insertion order.</summary>
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() =>
        _names.Select(n => new KeyValuePair<string, Tensor>(n, _tensors[n])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Frees every tensor.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
        _names.Clear();
    }

    private string Describe() => Source is null ? "the state dict" : $"'{Source}'";
}
