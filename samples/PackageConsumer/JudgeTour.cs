using GeoToken.AI.Judging;
using GeoToken.Data;
using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Prediction;
using GeoToken.Reranking;
using GeoToken.SynthGeo;

/// <summary>GeoToken.AI: the MLLM judge reranks the predictor's candidate pool through the application's chat client.</summary>
internal static class JudgeTour
{
    public static async Task<string> RunAsync(string modelPath, SynthGeoResult synth, CancellationToken cancellationToken)
    {
        const int Queries = 4;
        var client = new NearestNeighborChatClient();
        var judge = new MllmJudgeReranker(client, new MllmJudgeOptions { MaxAttempts = 1, RetryDelay = TimeSpan.Zero });
        using var test = GeoDataset.Open(synth.TestDirectory);
        using (var predictor = await GeoTokenPredictor.OpenAsync(Options(modelPath, synth, judge), cancellationToken))
        {
            for (int q = 0; q < Queries; q++)
            {
                var p = await predictor.PredictAsync(Query(test, q), cancellationToken);
                Expect.That(p.DecidedBy == "judge-pool", $"judge: query {q} was decided by {p.DecidedBy}, not judge-pool");
                Expect.That(client.Choices.Count == q + 1 && client.Choices[q] is not null, $"judge: query {q}: the chat client was called {client.Choices.Count} time(s) in all");
                // The prompt prints candidates with 4 decimals: the answer is the chosen candidate within half a unit of the last.
                var chosen = client.Choices[q]!.Value.Position;
                Expect.That(Math.Abs(p.Best.Position.Latitude - chosen.Latitude) <= 5.01e-5 && Math.Abs(p.Best.Position.Longitude - chosen.Longitude) <= 5.01e-5,
                    $"judge: query {q}: the answer {p.Best.Position} is not the candidate the chat client chose ({chosen})");
            }
        }

        Expect.That(!client.SawImage.Any(s => s), "judge: an image was attached to a query that has none");

        // A chat client whose reply is unusable: the judge fails with its reason and the fallback decides.
        var mute = new NearestNeighborChatClient("I would say Paris.");
        var chain = new FallbackReranker(new MllmJudgeReranker(mute, new MllmJudgeOptions { MaxAttempts = 1, RetryDelay = TimeSpan.Zero }), new ConsensusReranker());
        using (var predictor = await GeoTokenPredictor.OpenAsync(Options(modelPath, synth, chain), cancellationToken))
        {
            var p = await predictor.PredictAsync(Query(test, 0), cancellationToken);
            Expect.That(p.DecidedBy == "consensus", $"judge fallback: decided by {p.DecidedBy}, not consensus");
            Expect.That(p.FallbackReasons.Count == 1 && p.FallbackReasons[0].StartsWith("judge-pool: ", StringComparison.Ordinal),
                $"judge fallback: reasons [{string.Join("; ", p.FallbackReasons)}]");
        }

        return $"judge (GeoToken.AI) over the application's IChatClient decided {Queries} queries as the client chose; an unusable reply fell back to consensus";
    }

    private static GeoTokenPredictorOptions Options(string modelPath, SynthGeoResult synth, IReranker reranker) => new()
    {
        ModelPath = modelPath,
        Runtimes = [TorchGeoTokenRuntime.Cpu],
        GalleryDirectory = synth.TrainDirectory,
        Reranker = reranker,
        Pool = new CandidatePoolOptions { Samples = 8 },
    };

    private static GeoQuery Query(GeoDataset test, long row)
    {
        var features = new float[test.Dimension];
        test.Image.ReadRow(row, features);
        return GeoQuery.FromImageFeatures(features, test.GetImageId(row));
    }
}
