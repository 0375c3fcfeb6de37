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

/// <summary>A validated model bundle: the manifest plus absolute paths of the files it names.</summary>
public sealed class ModelBundle
{
    private ModelBundle(string directory, BundleManifest manifest)
    {
        Directory = directory;
        Manifest = manifest;
        Info = new ModelBundleInfo(manifest.Name!, manifest.Version!, manifest.Trained);
    }

    public string Directory { get; }
    public BundleManifest Manifest { get; }
    public ModelBundleInfo Info { get; }

    public AcousticEncoderSpec AcousticEncoder => Manifest.AcousticEncoder!;
    public TextEncoderSpec TextEncoder => Manifest.TextEncoder!;
    public FusionHeadSpec FusionHead => Manifest.FusionHead!;

    public string AcousticEncoderPath => Resolve(AcousticEncoder.File!);
    public string FusionHeadPath => Resolve(FusionHead.File!);

    /// <summary>Null when the text encoder is built in.</summary>
    public string? TextEncoderPath => TextEncoder.Builtin is null ? Resolve(TextEncoder.File!) : null;

    public string? TokenizerPath => TextEncoder.Builtin is null ? Resolve(TextEncoder.Tokenizer!.File!) : null;

    public string ParityPath => Resolve("parity.json");

    public int MaxAudioSamples => (int)Math.Round(Manifest.MaxAudioSeconds * Manifest.SampleRate);

    public string Resolve(string relative) => Path.GetFullPath(Path.Combine(Directory, relative));

    /// <summary>Reads and validates <c>manifest.json</c> in <paramref name="directory"/>; throws <see cref="ModelBundleException"/>.</summary>
    public static ModelBundle Load(string directory)
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

        var bundle = new ModelBundle(root, manifest);
        new Validator(bundle, manifestPath).Validate();
        return bundle;
    }

    private sealed class Validator(ModelBundle bundle, string manifestPath)
    {
        private BundleManifest M => bundle.Manifest;

        public void Validate()
        {
            if (M.FormatVersion != 1)
            {
                Fail("format_version", $"expected 1, found {M.FormatVersion}.");
            }
            Required(M.Name, "name");
            Required(M.Version, "version");
            if (M.Labels is null || !M.Labels.SequenceEqual(EmotionLabels.All, StringComparer.Ordinal))
            {
                var found = M.Labels is null ? "nothing" : "[" + string.Join(", ", M.Labels) + "]";
                Fail("labels", $"must be [{string.Join(", ", EmotionLabels.All)}] in this order; found {found}.");
            }
            if (M.SampleRate != Core.IAudioDecoder.SampleRate)
            {
                Fail("sample_rate", $"must be {Core.IAudioDecoder.SampleRate} (the decoder's rate); found {M.SampleRate}.");
            }
            if (!(M.MaxAudioSeconds > 0) || double.IsInfinity(M.MaxAudioSeconds))
            {
                Fail("max_audio_seconds", $"must be a positive number of seconds; found {M.MaxAudioSeconds}.");
            }

            var acoustic = M.AcousticEncoder ?? Fail<AcousticEncoderSpec>("acoustic_encoder", "missing.");
            acoustic.Inputs ??= new AcousticInputs();
            acoustic.Outputs ??= new AcousticOutputs();
            FileInBundle(acoustic.File, "acoustic_encoder.file");
            Positive(acoustic.Dim, "acoustic_encoder.dim");
            Required(acoustic.Inputs.Waveform, "acoustic_encoder.inputs.waveform");
            Required(acoustic.Inputs.Lengths, "acoustic_encoder.inputs.lengths");
            Required(acoustic.Outputs.Features, "acoustic_encoder.outputs.features");
            Required(acoustic.Outputs.Mask, "acoustic_encoder.outputs.mask");

            var text = M.TextEncoder ?? Fail<TextEncoderSpec>("text_encoder", "missing.");
            text.Inputs ??= new TextInputs();
            text.Outputs ??= new TextOutputs();
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
                FileInBundle(text.File, "text_encoder.file");
                if (tokenizer.Type is not (TokenizerSpec.WordPiece or TokenizerSpec.SentencePiece))
                {
                    Fail("text_encoder.tokenizer.type", $"must be '{TokenizerSpec.WordPiece}' or '{TokenizerSpec.SentencePiece}'; found '{tokenizer.Type}'.");
                }
                FileInBundle(tokenizer.File, "text_encoder.tokenizer.file");
            }
            Required(text.Inputs.InputIds, "text_encoder.inputs.input_ids");
            Required(text.Inputs.AttentionMask, "text_encoder.inputs.attention_mask");
            Required(text.Outputs.Features, "text_encoder.outputs.features");

            var fusion = M.FusionHead ?? Fail<FusionHeadSpec>("fusion_head", "missing.");
            fusion.Inputs ??= new FusionInputs();
            fusion.Outputs ??= new FusionOutputs();
            FileInBundle(fusion.File, "fusion_head.file");
            Required(fusion.Inputs.AcousticFeatures, "fusion_head.inputs.acoustic_features");
            Required(fusion.Inputs.AcousticMask, "fusion_head.inputs.acoustic_mask");
            Required(fusion.Inputs.TextFeatures, "fusion_head.inputs.text_features");
            Required(fusion.Inputs.TextMask, "fusion_head.inputs.text_mask");
            Required(fusion.Outputs.Logits, "fusion_head.outputs.logits");
            Required(fusion.Outputs.Valence, "fusion_head.outputs.valence");
            Required(fusion.Outputs.Arousal, "fusion_head.outputs.arousal");
        }

        private void FileInBundle(string? relative, string field)
        {
            Required(relative, field);
            var full = bundle.Resolve(relative!);
            var rootWithSeparator = bundle.Directory.EndsWith(Path.DirectorySeparatorChar) ? bundle.Directory : bundle.Directory + Path.DirectorySeparatorChar;
            if (!full.StartsWith(rootWithSeparator, StringComparison.Ordinal))
            {
                Fail(field, $"'{relative}' points outside the bundle directory.");
            }
            if (!System.IO.File.Exists(full))
            {
                Fail(field, $"names '{relative}', which does not exist ({full}).");
            }
        }

        private void Required(string? value, string field)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                Fail(field, "missing or empty.");
            }
        }

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
