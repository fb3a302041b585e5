using Spectre.Console;

namespace GeoToken.Cli;

/// <summary>
/// Progress bars for long commands (Spectre.Console) on an interactive terminal; on redirected output
/// (CI logs, tests) a few plain lines instead.
/// </summary>
internal static class ProgressDisplay
{
    /// <summary>A task's reported state: work done, total (0 when unknown) and a short status text.</summary>
    internal readonly record struct Update(string Task, double Done, double Total, string? Status = null);

    public static async Task<T> RunAsync<T>(TextWriter error, Func<IProgress<Update>, Task<T>> work)
    {
        if (error != Console.Error || Console.IsErrorRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            var plain = new PlainProgress(error);
            var result = await work(plain).ConfigureAwait(false);
            plain.Finish();
            return result;
        }

        T value = default!;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                var progress = new Progress<Update>(u =>
                {
                    if (!tasks.TryGetValue(u.Task, out var t))
                    {
                        t = ctx.AddTask(Markup.Escape(u.Task), maxValue: Math.Max(1, u.Total));
                        tasks[u.Task] = t;
                    }

                    if (u.Total > 0) t.MaxValue = u.Total;
                    t.Value = u.Done;
                    t.Description = Markup.Escape(u.Status is null ? u.Task : $"{u.Task} {u.Status}");
                });
                value = await work(progress).ConfigureAwait(false);
                foreach (var t in tasks.Values) t.Value = t.MaxValue;
            }).ConfigureAwait(false);
        return value;
    }

    /// <summary>Prints a line per task at most every 10% (and its last state at the end).</summary>
    private sealed class PlainProgress(TextWriter error) : IProgress<Update>
    {
        private readonly Dictionary<string, (int Decile, Update Last)> _seen = [];
        private readonly Lock _lock = new();

        public void Report(Update value)
        {
            lock (_lock)
            {
                int decile = value.Total > 0 ? (int)(10 * value.Done / value.Total) : 0;
                bool known = _seen.TryGetValue(value.Task, out var prev);
                _seen[value.Task] = (known ? Math.Max(decile, prev.Decile) : decile, value);
                if (!known || decile > prev.Decile) error.WriteLine(Line(value));
            }
        }

        public void Finish()
        {
            lock (_lock)
            {
                foreach (var (_, last) in _seen.Values)
                {
                    if (last.Total <= 0 || last.Done < last.Total) error.WriteLine(Line(last));
                }
            }
        }

        private static string Line(Update u) =>
            u.Total > 0 ? $"{u.Task}: {u.Done:N0}/{u.Total:N0}{(u.Status is null ? "" : " " + u.Status)}" : $"{u.Task}: {u.Status}";
    }
}
