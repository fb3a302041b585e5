
namespace GeoToken.IO.Pickle;

/// <summary>A Python dict (or OrderedDict) read from a pickle: entries in insertion order; a key set twice keeps its first place and its last value, as Python does.</summary>
internal sealed class PickleDict
{
    private readonly List<object?> _keys = [];
    private readonly List<object?> _values = [];
    private readonly Dictionary<object, int> _index = new(PickleKeyComparer.Instance);

    /// <summary>The entries, in insertion order.</summary>
    public IEnumerable<KeyValuePair<object?, object?>> Entries => _keys.Select((k, i) => new KeyValuePair<object?, object?>(k, _values[i]));

    /// <summary>The number of entries.</summary>
    public int Count => _keys.Count;

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>.</summary>
    public void Set(object? key, object? value)
    {
        if (key is not null && _index.TryGetValue(key, out int i))
        {
            _values[i] = value;
            return;
        }

        if (key is not null) _index[key] = _keys.Count;
        _keys.Add(key);
        _values.Add(value);
    }

    /// <summary>The value of a string key, or false when absent.</summary>
    public bool TryGet(string key, out object? value)
    {
        if (_index.TryGetValue(key, out int i))
        {
            value = _values[i];
            return true;
        }

        value = null;
        return false;
    }

    /// <summary>Equality of the hashable key kinds a state dict uses (strings, integers, booleans, floats); other keys compare by reference.</summary>
    private sealed class PickleKeyComparer : IEqualityComparer<object>
    {
        public static readonly PickleKeyComparer Instance = new();

        public new bool Equals(object? x, object? y) => x is string or long or bool or double ? object.Equals(x, y) : ReferenceEquals(x, y);

        public int GetHashCode(object obj) => obj is string or long or bool or double ? obj.GetHashCode() : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj);
    }
}
