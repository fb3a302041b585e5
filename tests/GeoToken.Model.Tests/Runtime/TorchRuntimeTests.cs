using TorchSharp;

namespace GeoToken.Model.Tests.Runtime;

public sealed class TorchRuntimeTests
{
    [Fact]
    public void The_libtorch_version_in_messages_is_the_one_TorchSharp_was_built_for()
    {
        // Directory.Packages.props feeds TorchRuntime's version; TorchSharp compiles in the libtorch it binds to.
        TorchRuntime.EnsureAvailable();
        Assert.Equal(torch.NormalizeNuGetVersion(torch.__version__), TorchRuntime.LibTorchVersion);
    }

    [Fact]
    public void This_platform_has_a_cpu_package_named_after_its_runtime_identifier()
    {
        // The tests run on linux-x64, win-x64 or osx-arm64, each of which has a libtorch-cpu package.
        Assert.NotNull(TorchRuntime.RuntimeIdentifier);
        Assert.Equal("libtorch-cpu-" + TorchRuntime.RuntimeIdentifier, TorchRuntime.CpuPackageId);
        Assert.Equal(typeof(torch).Assembly.GetName().Version!.ToString(3), TorchRuntime.TorchSharpVersion);
    }
}
