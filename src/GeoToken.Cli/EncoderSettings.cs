using System.CommandLine;
using GeoToken.Onnx;
using GeoToken.Hosting.Locating;

namespace GeoToken.Cli;

/// <summary>The ONNX image-encoder options shared by <c>gallery</c> and <c>predict</c>.</summary>
internal sealed class EncoderSettings(bool required)
{
    private readonly Option<FileInfo?> _model = new("--encoder") { Description = "ONNX image encoder (the one the gallery and model features come from).", Required = required };
    private readonly Option<string> _preprocess = new("--preprocess") { Description = "Encoder preprocessing: clip, imagenet or caffe-squeezenet.", DefaultValueFactory = _ => "clip" };
    private readonly Option<string?> _output = new("--encoder-output") { Description = "Encoder tensor to use as features (default: the model's float output; e.g. a penultimate layer)." };

    public void AddTo(Command command)
    {
        command.Add(_model);
        command.Add(_preprocess);
        command.Add(_output);
    }

    /// <summary>The encoder, or null when <c>--encoder</c> was not given.</summary>
    public OnnxImageEncoder? Create(ParseResult parse)
    {
        if (parse.GetValue(_model) is not { } file) return null;
        string name = parse.GetValue(_preprocess)!;
        if (GeoLocatorEncoderOptions.FindPreprocessing(name) is null)
        {
            throw new CliUsageException($"--preprocess {name.ToLowerInvariant()}: use {string.Join(", ", GeoLocatorEncoderOptions.PreprocessingNames)}.");
        }

        var settings = new GeoLocatorEncoderOptions { Path = file.FullName, Preprocessing = name, OutputName = parse.GetValue(_output) };
        return new OnnxImageEncoder(settings.Path, settings.ToEncoderOptions());
    }
}
