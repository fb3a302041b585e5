
namespace GeoToken.IO;

/// <summary>How <see cref="PyTorchCheckpoint.Read"/> finds the state dict in a checkpoint and how much it lets a file make it allocate.</summary>
public sealed record PyTorchCheckpointOptions
{
    /// <summary>
    /// The keys leading from the saved object to the state dict, e.g. <c>["state_dict"]</c> for
    /// <c>torch.save({"state_dict": model.state_dict(), ...})</c> (default null: the saved object itself when it is a dict
    /// of tensors, otherwise the only dict of tensors nested in it; a checkpoint with several, such as a model and its
    /// optimizer state, needs the path).
    /// </summary>
    public IReadOnlyList<string>? KeyPath { get; init; }

    /// <summary>The largest pickle (<c>data.pkl</c>) accepted, in bytes (default 256 MiB; a state dict's pickle takes a few hundred bytes per tensor).</summary>
    public long MaxPickleBytes { get; init; } = 256L << 20;

    /// <summary>The most pickle memo entries accepted (default 4,194,304).</summary>
    public int MaxMemoEntries { get; init; } = 1 << 22;

    /// <summary>How deep the search for a nested dict of tensors descends (default 16).</summary>
    public int MaxDepth { get; init; } = 16;

    /// <summary>Throws unless the options are usable.</summary>
    /// <exception cref="ArgumentException">A limit is not positive, or <see cref="KeyPath"/> holds an empty key.</exception>
    public void Validate()
    {
        if (MaxPickleBytes < 1) throw new ArgumentException($"MaxPickleBytes is {MaxPickleBytes}; it must be positive.");
        if (MaxMemoEntries < 1) throw new ArgumentException($"MaxMemoEntries is {MaxMemoEntries}; it must be positive.");
        if (MaxDepth < 1) throw new ArgumentException($"MaxDepth is {MaxDepth}; it must be positive.");
        if (KeyPath is not null && KeyPath.Any(string.IsNullOrEmpty)) throw new ArgumentException("KeyPath holds an empty key.");
    }
}
