namespace GeoToken.Model.Training;

/// <summary>Evaluates the model being trained at the end of every epoch (see <see cref="GeoTokenTrainer.Train"/>).</summary>
public interface ITrainingValidator
{
    /// <summary>Evaluates <paramref name="model"/> (the trainer puts it back into training mode afterwards).</summary>
    ValidationReport Validate(GeoTokenModel model, CancellationToken cancellationToken);
}
