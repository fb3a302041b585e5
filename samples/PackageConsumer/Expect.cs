/// <summary>The consumer's checks: a failed one stops the run with its message and a non-zero exit.</summary>
internal static class Expect
{
    /// <summary>How many checks have passed.</summary>
    public static int Passed { get; private set; }

    /// <summary>Throws <see cref="ConsumerCheckException"/> with <paramref name="what"/> unless <paramref name="ok"/>.</summary>
    public static void That(bool ok, string what)
    {
        if (!ok) throw new ConsumerCheckException(what);
        Passed++;
    }

    /// <summary>Checks that <paramref name="action"/> throws <typeparamref name="T"/> with <paramref name="fragment"/> in its message.</summary>
    public static T Throws<T>(Action action, string fragment, string what)
        where T : Exception
    {
        try
        {
            action();
        }
        catch (T e)
        {
            That(e.Message.Contains(fragment, StringComparison.Ordinal), $"{what}: the message '{e.Message}' does not say '{fragment}'");
            return e;
        }

        throw new ConsumerCheckException($"{what}: no {typeof(T).Name} was thrown");
    }
}

/// <summary>A check of the package consumer failed.</summary>
internal sealed class ConsumerCheckException(string message) : Exception(message);
