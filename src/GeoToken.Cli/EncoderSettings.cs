using System.CommandLine;
using GeoToken.Hosting.Locating;
using GeoToken.Onnx;

namespace GeoToken.Cli;

/// <summary>
/// The ONNX image-encoder options shared by <c>gallery</c>, <c>predict</c> and <c>serve</c>. <c>--encoder</c> takes a
/// path, or one <c>VIEW=PATH</c> per feature view the model reads (<c>image</c>, <c>loc</c>, <c>text</c>: a model trained
/// on MP16-Pro's three views takes three encoders); <c>--preprocess</c> and <c>--encoder-output</c> apply to each.
/// </summary>
internal sealed class EncoderSettings(bool required)
{
    /// <summary>The feature views in the order a model reads them.</summary>
    public static readonly IReadOnlyList<string> Views = ["image", "loc", "text"];

    private readonly Option<string[]> _model = new("--encoder")
    {
        Description = "ONNX image encoder (the one the gallery and model features come from): PATH, or VIEW=PATH once per feature view (image, loc, text; e.g. --encoder image=clip.onnx --encoder text=clip-text.onnx).",
        HelpName = "[VIEW=]M.onnx",
        Required = required,
        Arity = ArgumentArity.OneOrMore,
    };

    private readonly Option<string> _preprocess = new Option<string>("--preprocess") { Description = "Encoder preprocessing: clip, imagenet or caffe-squeezenet.", DefaultValueFactory = _ => "clip" }.OneOf(GeoLocatorEncoderOptions.PreprocessingNames);
    private readonly Option<string?> _output = new("--encoder-output") { HelpName = "TENSOR", Description = "Encoder tensor to use as features (default: the model's float output; e.g. a penultimate layer)." };

    public void AddTo(Command command)
    {
        command.Add(_model);
        command.Add(_preprocess);
        command.Add(_output);
    }

    /// <summary>The one encoder, or null when <c>--encoder</c> was not given.</summary>
    /// <exception cref="CliUsageException">Several encoders were given where one is read.</exception>
    public OnnxImageEncoder? Create(ParseResult parse)
    {
        var all = CreateAll(parse);
        if (all.Count > 1)
        {
            foreach (var e in all) e.Dispose();
            throw new CliUsageException("--encoder: this command reads one encoder; give one PATH.");
        }

        return all.Count == 0 ? null : all[0];
    }

    /// <summary>One encoder per feature view, in the model's view order (empty when <c>--encoder</c> was not given).</summary>
    /// <exception cref="CliUsageException">A view is unknown, given twice, or views are skipped (a view needs every view before it).</exception>
    public IReadOnlyList<OnnxImageEncoder> CreateAll(ParseResult parse)
    {
        var given = parse.GetValue(_model) ?? [];
        if (given.Length == 0) return [];
        string name = parse.GetValue(_preprocess)!;
        if (GeoLocatorEncoderOptions.FindPreprocessing(name) is null)
        {
            throw new CliUsageException($"--preprocess {name.ToLowerInvariant()}: use {string.Join(", ", GeoLocatorEncoderOptions.PreprocessingNames)}.");
        }

        var byView = new string?[Views.Count];
        foreach (string value in given)
        {
            int eq = value.IndexOf('=', StringComparison.Ordinal);
            string view = eq < 0 ? Views[0] : value[..eq].Trim().ToLowerInvariant();
            string path = eq < 0 ? value : value[(eq + 1)..];
            int index = Views.ToList().IndexOf(view);
            if (index < 0) throw new CliUsageException($"--encoder {value}: unknown view '{view}'; use {string.Join(", ", Views)} (VIEW=PATH).");
            if (byView[index] is not null) throw new CliUsageException($"--encoder: the {view} view is given twice ({byView[index]} and {path}).");
            byView[index] = Path.GetFullPath(path);
        }

        int count = byView.Count(p => p is not null);
        if (byView.Take(count).Any(p => p is null))
        {
            throw new CliUsageException($"--encoder: views {string.Join(", ", Views.Where((_, i) => byView[i] is not null))} given; a model reads views in the order {string.Join(", ", Views)}, so give every view before the last one.");
        }

        var encoders = new List<OnnxImageEncoder>();
        try
        {
            foreach (var path in byView.Take(count))
            {
                var settings = new GeoLocatorEncoderOptions { Path = path!, Preprocessing = name, OutputName = parse.GetValue(_output) };
                encoders.Add(new OnnxImageEncoder(settings.Path, settings.ToEncoderOptions()));
            }
        }
        catch
        {
            foreach (var e in encoders) e.Dispose();
            throw;
        }

        return encoders;
    }
}
