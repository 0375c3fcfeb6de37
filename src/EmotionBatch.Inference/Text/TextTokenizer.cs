using EmotionBatch.Inference.Bundles;
using Microsoft.ML.Tokenizers;

namespace EmotionBatch.Inference.Text;

/// <summary>
/// Turns a transcript into the ids a text encoder expects: [CLS] tokens [SEP] (or the SentencePiece
/// begin/end ids), truncated to <see cref="MaxLength"/> in total, as Hugging Face does for one sequence.
/// </summary>
public sealed class TextTokenizer
{
    private readonly Func<string, int, IReadOnlyList<int>> _encodeBody;
    private readonly int _beginId;
    private readonly int _endId;

    private TextTokenizer(Func<string, int, IReadOnlyList<int>> encodeBody, string type, bool lowercase, int maxLength, int beginId, int endId)
    {
        _encodeBody = encodeBody;
        Type = type;
        Lowercase = lowercase;
        MaxLength = maxLength;
        _beginId = beginId;
        _endId = endId;
    }

    public string Type { get; }
    public bool Lowercase { get; }
    public int MaxLength { get; }

    public static TextTokenizer CreateWordPiece(Stream vocab, bool lowercase, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        var bert = BertTokenizer.Create(vocab, new BertOptions { LowerCaseBeforeTokenization = lowercase });
        // Special tokens are added by Encode so truncation keeps room for them.
        return new TextTokenizer(
            (text, max) => bert.EncodeToIds(text, max, addSpecialTokens: false, out _, out _),
            TokenizerSpec.WordPiece, lowercase, maxLength, bert.ClassificationTokenId, bert.SeparatorTokenId);
    }

    /// <summary>
    /// SentencePiece model (DeBERTaV3's spm.model): its begin/end-of-sentence pieces are [CLS]/[SEP].
    /// Lower-casing, if asked for, happens before encoding because the model itself is cased.
    /// </summary>
    public static TextTokenizer CreateSentencePiece(Stream model, bool lowercase, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        SentencePieceTokenizer spm;
        try
        {
            spm = SentencePieceTokenizer.Create(model, addBeginningOfSentence: false, addEndOfSentence: false);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException or InvalidDataException)
        {
            throw new NotSupportedException(
                "Microsoft.ML.Tokenizers could not load this SentencePiece model (it supports BPE and Unigram models): " + e.Message, e);
        }
        var unknown = spm.UnknownId;
        return new TextTokenizer(
            (text, max) => EncodeLikeSentencePiece(spm, unknown, text, max),
            TokenizerSpec.SentencePiece, lowercase, maxLength, spm.BeginningOfSentenceId, spm.EndOfSentenceId);
    }

    /// <summary>
    /// As Python's sentencepiece (the reference text encoders are trained with) returns them: a run of unknown
    /// characters is one unknown piece (Microsoft.ML.Tokenizers gives one per character), then the first
    /// <paramref name="max"/> ids. Known differences that remain are in docs/model-bundle.md.
    /// </summary>
    private static List<int> EncodeLikeSentencePiece(SentencePieceTokenizer spm, int unknown, string text, int max)
    {
        var ids = spm.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false);
        var merged = new List<int>(Math.Min(ids.Count, max));
        foreach (var id in ids)
        {
            if (id == unknown && merged.Count > 0 && merged[^1] == unknown)
            {
                continue;
            }
            if (merged.Count == max)
            {
                break;
            }
            merged.Add(id);
        }
        return merged;
    }

    public static TextTokenizer Create(TokenizerSpec spec, string tokenizerPath)
    {
        using var stream = File.OpenRead(tokenizerPath);
        return spec.Type switch
        {
            TokenizerSpec.WordPiece => CreateWordPiece(stream, spec.Lowercase, spec.MaxLength),
            TokenizerSpec.SentencePiece => CreateSentencePiece(stream, spec.Lowercase, spec.MaxLength),
            _ => throw new NotSupportedException($"Tokenizer type '{spec.Type}' is not supported; use wordpiece or sentencepiece."),
        };
    }

    /// <summary>Ids including the special tokens; never longer than <see cref="MaxLength"/>.</summary>
    public int[] Encode(string text)
    {
        if (Lowercase && Type == TokenizerSpec.SentencePiece)
        {
            text = text.ToLowerInvariant();
        }
        var body = _encodeBody(text, MaxLength - 2);
        var ids = new int[body.Count + 2];
        ids[0] = _beginId;
        for (var i = 0; i < body.Count; i++)
        {
            ids[i + 1] = body[i];
        }
        ids[^1] = _endId;
        return ids;
    }
}
