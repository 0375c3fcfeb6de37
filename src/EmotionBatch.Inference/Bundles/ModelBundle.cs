using System.Text.Json;
using EmotionBatch.Core;

namespace EmotionBatch.Inference.Bundles;

/// <summary>A bundle whose manifest is invalid or whose files are missing. Names the file and the field at fault.</summary>
public sealed class ModelBundleException : Exception
{
    public ModelBundleException(string file, string? field, string problem, Exception? inner = null)
        : base(field is null ? $"Model bundle file {file}: {problem}" : $"Model bundle file {file}, field '{field}': {problem}", inner)
    {
        File = file;
        Field = field;
    }

    public string File { get; }
    public string? Field { get; }
}

/// <summary>The acoustic encoder of a loaded bundle: its graph file and tensor names, all present.</summary>
public sealed record AcousticGraph(string Path, int Dim, AcousticInputs Inputs, AcousticOutputs Outputs);

/// <summary>The text encoder of a loaded bundle: built in (<see cref="Builtin"/>) or a graph file with its tokenizer file.</summary>
public sealed record TextGraph(string? Builtin, string? Path, int Dim, TextInputs Inputs, TextOutputs Outputs, TokenizerSpec Tokenizer, string? TokenizerPath);

/// <summary>The fusion head of a loaded bundle: its graph file and tensor names, all present.</summary>
public sealed record FusionGraph(string Path, FusionInputs Inputs, FusionOutputs Outputs);

/// <summary>A validated model bundle: the manifest, and what it names as non-null members with absolute paths.</summary>
public sealed class ModelBundle
{
    private ModelBundle(string directory, BundleManifest manifest, ModelBundleInfo info, AcousticGraph acoustic, TextGraph text, FusionGraph fusion)
    {
        Directory = directory;
        Manifest = manifest;
        Info = info;
        AcousticEncoder = acoustic;
        TextEncoder = text;
        FusionHead = fusion;
    }

    public string Directory { get; }
    public BundleManifest Manifest { get; }
    public ModelBundleInfo Info { get; }

    public AcousticGraph AcousticEncoder { get; }
    public TextGraph TextEncoder { get; }
    public FusionGraph FusionHead { get; }

    public string AcousticEncoderPath => AcousticEncoder.Path;
    public string FusionHeadPath => FusionHead.Path;

    /// <summary>Null when the text encoder is built in.</summary>
    public string? TextEncoderPath => TextEncoder.Path;

    public string? TokenizerPath => TextEncoder.TokenizerPath;

    public string ParityPath => Resolve(Directory, "parity.json");

    public int MaxAudioSamples => (int)Math.Round(Manifest.MaxAudioSeconds * Manifest.SampleRate);

    public string Resolve(string relative) => Resolve(Directory, relative);

    private static string Resolve(string directory, string relative) => Path.GetFullPath(Path.Combine(directory, relative));

    /// <summary>Reads and validates <c>manifest.json</c> in <paramref name="directory"/>; throws <see cref="ModelBundleException"/>.</summary>
    public static ModelBundle Load(string directory) => Read(directory).Validate();

    /// <summary>
    /// Only the text encoder of a bundle (its manifest may name nothing else): what <c>encode-text</c> needs to cache
    /// features of an operator's text encoder (e.g. DeBERTaV3 with its spm.model) before any fusion head exists.
    /// </summary>
    public static TextGraph LoadTextEncoder(string directory)
    {
        var validator = Read(directory);
        validator.ValidateHeader();
        return validator.ValidateText();
    }

    /// <summary>Only the acoustic encoder of a bundle (with the manifest's sample rate and longest input): what <c>encode-audio</c> needs.</summary>
    public static (AcousticGraph Graph, int MaxAudioSamples) LoadAcousticEncoder(string directory)
    {
        var validator = Read(directory);
        validator.ValidateHeader();
        validator.ValidateAudioHeader();
        return (validator.ValidateAcoustic(), validator.MaxAudioSamples);
    }

    private static Validator Read(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var root = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(root))
        {
            throw new ModelBundleException(root, null, "the bundle directory does not exist.");
        }
        var manifestPath = Path.Combine(root, BundleManifest.FileName);
        if (!System.IO.File.Exists(manifestPath))
        {
            throw new ModelBundleException(manifestPath, null, "the manifest does not exist.");
        }

        BundleManifest? manifest;
        try
        {
            using var stream = System.IO.File.OpenRead(manifestPath);
            manifest = JsonSerializer.Deserialize(stream, BundleJsonContext.Default.BundleManifest);
        }
        catch (JsonException e)
        {
            throw new ModelBundleException(manifestPath, e.Path, $"not valid manifest JSON (line {e.LineNumber + 1}): {e.Message}", e);
        }
        if (manifest is null)
        {
            throw new ModelBundleException(manifestPath, null, "the manifest is empty (null).");
        }

        return new Validator(root, manifest, manifestPath);
    }

    /// <summary>Checks the manifest field by field and builds the bundle from the checked values.</summary>
    private sealed class Validator(string root, BundleManifest manifest, string manifestPath)
    {
        private BundleManifest M => manifest;

        public int MaxAudioSamples => (int)Math.Round(M.MaxAudioSeconds * M.SampleRate);

        public ModelBundle Validate()
        {
            var (name, version) = ValidateHeader();
            if (M.Labels is null || !M.Labels.SequenceEqual(EmotionLabels.All, StringComparer.Ordinal))
            {
                var found = M.Labels is null ? "nothing" : "[" + string.Join(", ", M.Labels) + "]";
                Fail("labels", $"must be [{string.Join(", ", EmotionLabels.All)}] in this order; found {found}.");
            }
            ValidateAudioHeader();
            var acoustic = ValidateAcoustic();
            var text = ValidateText();
            var fusion = ValidateFusion();
            return new ModelBundle(root, manifest, new ModelBundleInfo(name, version, M.Trained), acoustic, text, fusion);
        }

        /// <summary>Format version, name and version: every load checks them first, once.</summary>
        public (string Name, string Version) ValidateHeader()
        {
            if (M.FormatVersion != 1)
            {
                Fail("format_version", $"expected 1, found {M.FormatVersion}.");
            }
            return (Required(M.Name, "name"), Required(M.Version, "version"));
        }

        /// <summary>Sample rate and longest input: what the acoustic encoder's caller needs.</summary>
        public void ValidateAudioHeader()
        {
            if (M.SampleRate != Core.IAudioDecoder.SampleRate)
            {
                Fail("sample_rate", $"must be {Core.IAudioDecoder.SampleRate} (the decoder's rate); found {M.SampleRate}.");
            }
            if (!(M.MaxAudioSeconds > 0) || double.IsInfinity(M.MaxAudioSeconds))
            {
                Fail("max_audio_seconds", $"must be a positive number of seconds; found {M.MaxAudioSeconds}.");
            }
        }

        public AcousticGraph ValidateAcoustic()
        {
            var acoustic = M.AcousticEncoder ?? Fail<AcousticEncoderSpec>("acoustic_encoder", "missing.");
            var acousticInputs = acoustic.Inputs ??= new AcousticInputs();
            var acousticOutputs = acoustic.Outputs ??= new AcousticOutputs();
            var acousticPath = FileInBundle(acoustic.File, "acoustic_encoder.file");
            Positive(acoustic.Dim, "acoustic_encoder.dim");
            Required(acousticInputs.Waveform, "acoustic_encoder.inputs.waveform");
            Required(acousticInputs.Lengths, "acoustic_encoder.inputs.lengths");
            Required(acousticOutputs.Features, "acoustic_encoder.outputs.features");
            Required(acousticOutputs.Mask, "acoustic_encoder.outputs.mask");
            return new AcousticGraph(acousticPath, acoustic.Dim, acousticInputs, acousticOutputs);
        }

        public TextGraph ValidateText()
        {
            var text = M.TextEncoder ?? Fail<TextEncoderSpec>("text_encoder", "missing.");
            var textInputs = text.Inputs ??= new TextInputs();
            var textOutputs = text.Outputs ??= new TextOutputs();
            string? textPath = null, tokenizerPath = null;
            var tokenizer = text.Tokenizer ?? Fail<TokenizerSpec>("text_encoder.tokenizer", "missing.");
            Positive(text.Dim, "text_encoder.dim");
            if (tokenizer.MaxLength < 2)
            {
                Fail("text_encoder.tokenizer.max_length", $"must be at least 2 (room for the special tokens); found {tokenizer.MaxLength}.");
            }
            if (text.Builtin is not null)
            {
                if (!BuiltinTextEncoders.TryGetDim(text.Builtin, out var builtinDim))
                {
                    Fail("text_encoder.builtin", $"unknown built-in text encoder '{text.Builtin}'; known: {string.Join(", ", BuiltinTextEncoders.Names)}.");
                }
                if (text.Dim != builtinDim)
                {
                    Fail("text_encoder.dim", $"built-in '{text.Builtin}' has dim {builtinDim}; found {text.Dim}.");
                }
            }
            else
            {
                textPath = FileInBundle(text.File, "text_encoder.file");
                if (tokenizer.Type is not (TokenizerSpec.WordPiece or TokenizerSpec.SentencePiece))
                {
                    Fail("text_encoder.tokenizer.type", $"must be '{TokenizerSpec.WordPiece}' or '{TokenizerSpec.SentencePiece}'; found '{tokenizer.Type}'.");
                }
                tokenizerPath = FileInBundle(tokenizer.File, "text_encoder.tokenizer.file");
            }
            Required(textInputs.InputIds, "text_encoder.inputs.input_ids");
            Required(textInputs.AttentionMask, "text_encoder.inputs.attention_mask");
            Required(textOutputs.Features, "text_encoder.outputs.features");
            return new TextGraph(text.Builtin, textPath, text.Dim, textInputs, textOutputs, tokenizer, tokenizerPath);
        }

        private FusionGraph ValidateFusion()
        {
            var fusion = M.FusionHead ?? Fail<FusionHeadSpec>("fusion_head", "missing.");
            var fusionInputs = fusion.Inputs ??= new FusionInputs();
            var fusionOutputs = fusion.Outputs ??= new FusionOutputs();
            var fusionPath = FileInBundle(fusion.File, "fusion_head.file");
            Required(fusionInputs.AcousticFeatures, "fusion_head.inputs.acoustic_features");
            Required(fusionInputs.AcousticMask, "fusion_head.inputs.acoustic_mask");
            Required(fusionInputs.TextFeatures, "fusion_head.inputs.text_features");
            Required(fusionInputs.TextMask, "fusion_head.inputs.text_mask");
            Required(fusionOutputs.Logits, "fusion_head.outputs.logits");
            Required(fusionOutputs.Valence, "fusion_head.outputs.valence");
            Required(fusionOutputs.Arousal, "fusion_head.outputs.arousal");
            return new FusionGraph(fusionPath, fusionInputs, fusionOutputs);
        }

        /// <returns>The file's absolute path.</returns>
        private string FileInBundle(string? relative, string field)
        {
            var full = Resolve(root, Required(relative, field));
            var rootWithSeparator = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
            if (!full.StartsWith(rootWithSeparator, StringComparison.Ordinal))
            {
                Fail(field, $"'{relative}' points outside the bundle directory.");
            }
            if (!System.IO.File.Exists(full))
            {
                Fail(field, $"names '{relative}', which does not exist ({full}).");
            }
            return full;
        }

        private string Required(string? value, string field) =>
            string.IsNullOrWhiteSpace(value) ? Fail<string>(field, "missing or empty.") : value;

        private void Positive(int value, string field)
        {
            if (value <= 0)
            {
                Fail(field, $"must be a positive integer; found {value}.");
            }
        }

        private void Fail(string field, string problem) => throw new ModelBundleException(manifestPath, field, problem);

        private T Fail<T>(string field, string problem) => throw new ModelBundleException(manifestPath, field, problem);
    }
}
