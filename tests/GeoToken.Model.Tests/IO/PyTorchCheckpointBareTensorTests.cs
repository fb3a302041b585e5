using GeoToken.IO;

namespace GeoToken.Model.Tests.IO;

public class PyTorchCheckpointBareTensorTests
{
    [Fact]
    public void A_file_that_saved_a_bare_tensor_reads_as_one_tensor_named_tensor()
    {
        // GeoCLIP's logit scale: torch.save(nn.Parameter(0-d tensor)), value ln(39.687…) = 3.6810348.
        using var dict = PyTorchCheckpoint.Read(Path.Combine(AppContext.BaseDirectory, "TestData", "geoclip", "logit_scale_weights.pth"), cancellationToken: TestContext.Current.CancellationToken);
        var (name, value) = Assert.Single(dict);
        Assert.Equal(PyTorchCheckpoint.BareTensorName, name);
        Assert.Empty(value.shape);
        Assert.Equal(3.6810348, value.item<float>(), 6);
    }
}
