using System.Globalization;
using System.Text.Json;

namespace EmotionBatch.Benchmarking;

/// <summary>
/// Where a graph spends its time, from an ONNX Runtime profile (the JSON trace a session with profiling writes):
/// kernel time summed by operator type and by the first part of the node name (the exported module, e.g.
/// <c>/embedding_frontend/...</c>), as shares of all kernel time. The warm-up run is counted like the others.
/// </summary>
public sealed record OrtProfile(IReadOnlyList<(string Name, double Share)> ByOperator, IReadOnlyList<(string Name, double Share)> ByModule, double KernelSeconds)
{
    private const string KernelSuffix = "_kernel_time";

    public static OrtProfile Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var trace = JsonDocument.Parse(stream);
        var byOperator = new Dictionary<string, double>(StringComparer.Ordinal);
        var byModule = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var e in trace.RootElement.EnumerateArray())
        {
            if (!e.TryGetProperty("cat", out var cat) || cat.GetString() != "Node" || e.GetProperty("name").GetString() is not { } name
                || !name.EndsWith(KernelSuffix, StringComparison.Ordinal))
            {
                continue;
            }
            var micros = e.GetProperty("dur").GetDouble();
            var op = e.GetProperty("args").GetProperty("op_name").GetString() ?? "?";
            byOperator[op] = byOperator.GetValueOrDefault(op) + micros;
            var module = Module(name[..^KernelSuffix.Length]);
            byModule[module] = byModule.GetValueOrDefault(module) + micros;
        }
        var total = byOperator.Values.Sum();
        if (total <= 0)
        {
            throw new InvalidDataException($"{path} holds no kernel timings: is it an ONNX Runtime profile?");
        }
        static List<(string, double)> Shares(Dictionary<string, double> times, double total) =>
            times.OrderByDescending(p => p.Value).Select(p => (p.Key, p.Value / total)).ToList();
        return new OrtProfile(Shares(byOperator, total), Shares(byModule, total), total / 1e6);
    }

    /// <summary>"/embedding_frontend/Conv_1" -> "/embedding_frontend"; "/Mul_4" -> top level; nodes without a path
    /// were added by ONNX Runtime's optimiser (layout reorders, for one).</summary>
    private static string Module(string node) =>
        !node.StartsWith('/') ? "(added by ONNX Runtime)"
        : node.IndexOf('/', 1) is var slash and > 0 ? node[..slash]
        : "(top level)";

    public void Write(TextWriter output, int top = 12)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"profile: {KernelSeconds:0.000} s of kernel time"));
        foreach (var (title, rows) in new[] { ("by operator", ByOperator), ("by module", ByModule) })
        {
            output.WriteLine($"  {title}:");
            foreach (var (name, share) in rows.Take(top))
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {name,-40} {share * 100,5:0.0} %"));
            }
        }
    }
}
