using System.Text.Json;
using System.Text.Json.Serialization;

namespace EmotionBatch.Inference.Bundles;

/// <summary>manifest.json of a model bundle, as specified in docs/model-bundle.md.</summary>
public sealed class BundleManifest
{
    public const string FileName = "manifest.json";

    public int FormatVersion { get; set; }
    public string? Name { get; set; }
    public string? Version { get; set; }
    public bool Trained { get; set; }
    public string? Description { get; set; }
    public List<string>? Labels { get; set; }
    public int SampleRate { get; set; }
    public double MaxAudioSeconds { get; set; }
    public ValenceArousalScale? ValenceArousal { get; set; }
    public AcousticEncoderSpec? AcousticEncoder { get; set; }
    public TextEncoderSpec? TextEncoder { get; set; }
    public FusionHeadSpec? FusionHead { get; set; }

    /// <summary>Free-form provenance; kept as raw JSON because the worker only copies it.</summary>
    public JsonElement? Training { get; set; }

    public JsonElement? Metrics { get; set; }

    /// <summary>Source-generated, so bundles load in trimmed and AOT-compiled hosts too.</summary>
    public static JsonSerializerOptions SerializerOptions => BundleJsonContext.Default.Options;
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    WriteIndented = true)]
[JsonSerializable(typeof(BundleManifest))]
internal sealed partial class BundleJsonContext : JsonSerializerContext;

public sealed class ValenceArousalScale
{
    public double Min { get; set; }
    public double Max { get; set; }
    public double Neutral { get; set; }
    public string? Definition { get; set; }
}

public sealed class AcousticEncoderSpec
{
    public string? File { get; set; }
    public AcousticInputs? Inputs { get; set; }
    public AcousticOutputs? Outputs { get; set; }
    public int Dim { get; set; }
}

public sealed class AcousticInputs
{
    public string Waveform { get; set; } = "waveform";
    public string Lengths { get; set; } = "waveform_lengths";
}

public sealed class AcousticOutputs
{
    public string Features { get; set; } = "acoustic_features";
    public string Mask { get; set; } = "acoustic_mask";
}

public sealed class TextEncoderSpec
{
    /// <summary>A text encoder shipped with the worker (see <see cref="BuiltinTextEncoders"/>); null for a bundle file.</summary>
    public string? Builtin { get; set; }
    public string? File { get; set; }
    public TextInputs? Inputs { get; set; }
    public TextOutputs? Outputs { get; set; }
    public int Dim { get; set; }
    public TokenizerSpec? Tokenizer { get; set; }
}

public sealed class TextInputs
{
    public string InputIds { get; set; } = "input_ids";
    public string AttentionMask { get; set; } = "attention_mask";
    public string TokenTypeIds { get; set; } = "token_type_ids";
}

public sealed class TextOutputs
{
    public string Features { get; set; } = "last_hidden_state";
}

public sealed class TokenizerSpec
{
    public const string WordPiece = "wordpiece";
    public const string SentencePiece = "sentencepiece";

    public string? Type { get; set; }
    public string? File { get; set; }
    public bool Lowercase { get; set; }
    public int MaxLength { get; set; }
}

public sealed class FusionHeadSpec
{
    public string? File { get; set; }
    public FusionInputs? Inputs { get; set; }
    public FusionOutputs? Outputs { get; set; }
}

public sealed class FusionInputs
{
    public string AcousticFeatures { get; set; } = "acoustic_features";
    public string AcousticMask { get; set; } = "acoustic_mask";
    public string TextFeatures { get; set; } = "text_features";
    public string TextMask { get; set; } = "text_mask";
}

public sealed class FusionOutputs
{
    public string Logits { get; set; } = "logits";
    public string Valence { get; set; } = "valence";
    public string Arousal { get; set; } = "arousal";
}
