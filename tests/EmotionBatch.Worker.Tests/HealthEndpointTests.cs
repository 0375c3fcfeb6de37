using System.ComponentModel.DataAnnotations;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EmotionBatch.Storage;
using EmotionBatch.Worker.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit;

namespace EmotionBatch.Worker.Tests;

[Trait("Category", "Fast")]
public sealed class HealthEndpointTests
{
    [Fact]
    public async Task Probes_that_hang_up_mid_request_do_not_stop_the_endpoint_and_it_listens_on_loopback_by_default()
    {
        var options = new TelemetryOptions { HealthPort = FreePort() };
        Assert.Equal("127.0.0.1", options.HealthAddress);
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var telemetry = new PipelineTelemetry(services.GetRequiredService<IMeterFactory>());
        telemetry.PassFinished(DateTimeOffset.UtcNow, error: null);
        using var endpoint = new HealthEndpoint(telemetry, Options.Create(new SourceOptions()), Options.Create(options), TimeProvider.System,
            NullLogger<HealthEndpoint>.Instance);
        await endpoint.StartAsync(CancellationToken.None);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var url = $"http://127.0.0.1:{options.HealthPort}";
            // ExecuteAsync starts on the thread pool: wait for the listener.
            Assert.Equal("ok", (await GetWhenListeningAsync(http, url + "/healthz")).Trim());

            // Probes that reset the connection at every moment around the answer: before it, while it is written, after.
            for (var i = 0; i < 300; i++)
            {
                using var rude = new TcpClient();
                await rude.ConnectAsync(IPAddress.Loopback, options.HealthPort);
                await rude.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:{options.HealthPort}\r\n\r\n"));
                if (i % 3 == 1)
                {
                    await Task.Yield();
                }
                else if (i % 3 == 2)
                {
                    Thread.SpinWait(i * 50);
                }
                rude.Client.LingerState = new LingerOption(true, 0); // RST instead of FIN: the answer has nowhere to go
                rude.Close();
            }

            Assert.Equal("ready", (await http.GetStringAsync(url + "/readyz")).Trim());
            // Probes that name the host localhost are answered too.
            Assert.Equal("ok", (await http.GetStringAsync($"http://localhost:{options.HealthPort}/healthz")).Trim());
            Assert.False(endpoint.ExecuteTask!.IsCompleted);
        }
        finally
        {
            await endpoint.StopAsync(CancellationToken.None);
        }
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("::1", true)]
    [InlineData("example.com", false)]
    [InlineData("http://+:80/", false)]
    public void The_bind_address_is_an_address(string address, bool valid)
    {
        var options = new TelemetryOptions { HealthAddress = address };
        var results = new List<ValidationResult>();
        Assert.Equal(valid, Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
    }

    private static async Task<string> GetWhenListeningAsync(HttpClient http, string url)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await http.GetStringAsync(url);
            }
            catch (HttpRequestException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
