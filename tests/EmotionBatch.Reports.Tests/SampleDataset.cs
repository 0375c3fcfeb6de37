using EmotionBatch.Core;

namespace EmotionBatch.Reports.Tests;

/// <summary>
/// A made-up but realistic output: the four sample recordings and a three-minute support call whose mood turns from
/// calm to angry and back to relieved. Deterministic, so pictures and query results are the same on every run.
/// </summary>
internal static class SampleDataset
{
    public const string ModelName = "emotionbatch-default";
    public const string ModelVersion = "1.0.0";
    public const string LongCallId = "calls/2026-11-03/call-0142.wav";
    public static readonly DateTime ProcessedAt = new(2026, 11, 24, 2, 15, 0, DateTimeKind.Utc);

    private static readonly (string Emotion, float Valence, float Arousal, string Text)[] LongCallScript =
    [
        ("neutral", 0.05f, -0.10f, "Thank you for calling Northwind support, my name is Dana. How can I help?"),
        ("neutral", 0.00f, 0.05f, "Hi, I'm calling about an order I placed three weeks ago."),
        ("neutral", 0.10f, -0.05f, "Of course. Could you give me the order number, please?"),
        ("neutral", -0.05f, 0.00f, "It's four four seven one nine two."),
        ("neutral", 0.05f, -0.15f, "Thank you, one moment while I pull that up."),
        ("sad", -0.35f, -0.30f, "I was really hoping to have it before my daughter's birthday."),
        ("neutral", 0.00f, -0.10f, "I see the order here. It shows as shipped on the fourth."),
        ("angry", -0.45f, 0.50f, "Shipped? Nobody told me that, and the tracking link doesn't work."),
        ("neutral", -0.05f, 0.05f, "I'm sorry about that. Let me check with the carrier."),
        ("angry", -0.60f, 0.65f, "This is the third time I've called about this."),
        ("angry", -0.70f, 0.80f, "Every time someone says they'll check, and then nothing happens!"),
        ("neutral", 0.00f, 0.00f, "I completely understand. I can see the earlier notes on your account."),
        ("angry", -0.55f, 0.60f, "Then you can see I've been waiting for weeks."),
        ("sad", -0.40f, -0.20f, "Honestly I'm just tired of chasing this."),
        ("neutral", 0.10f, -0.05f, "The carrier says the parcel was returned to our warehouse."),
        ("angry", -0.50f, 0.55f, "Returned? Why would it be returned?"),
        ("neutral", 0.05f, 0.00f, "The address label was damaged in transit. That's on us, not you."),
        ("neutral", -0.10f, -0.05f, "Okay. So what happens now?"),
        ("happy", 0.45f, 0.25f, "I can send a replacement today with express delivery, at no cost."),
        ("neutral", 0.05f, 0.05f, "Will it arrive before Saturday?"),
        ("happy", 0.40f, 0.20f, "Yes, express arrives within two working days, so Thursday."),
        ("happy", 0.60f, 0.35f, "Oh, that would be great. Thank you."),
        ("happy", 0.35f, 0.15f, "I've also added a refund of the original shipping cost."),
        ("happy", 0.70f, 0.45f, "That's really kind, I appreciate it."),
        ("neutral", 0.15f, -0.10f, "You'll get a confirmation email within the hour."),
        ("happy", 0.55f, 0.30f, "Perfect. Sorry I was short with you earlier."),
        ("happy", 0.50f, 0.10f, "No need to apologise at all. Is there anything else I can help with?"),
        ("neutral", 0.30f, -0.20f, "No, that's everything. Thanks again, bye."),
    ];

    public static IReadOnlyList<UtteranceRow> All()
    {
        var rows = new List<UtteranceRow>();
        rows.AddRange(LongCall());
        rows.AddRange(Scripted("support-call.wav", "c0ffee01", 14.2,
        [
            ("neutral", 0.10f, -0.10f, "Thank you for calling. How can I help you today?"),
            ("sad", -0.45f, 0.20f, "I have been waiting for two weeks and my order still has not arrived."),
            ("neutral", 0.15f, -0.05f, "I am sorry to hear that. Let me check the status for you right away."),
        ]));
        rows.AddRange(Scripted("complaint.mp3", "c0ffee02", 11.8,
        [
            ("angry", -0.70f, 0.75f, "This is absolutely unacceptable. I am furious."),
            ("angry", -0.80f, 0.85f, "You promised me a refund three times and nothing happened!"),
            ("angry", -0.55f, 0.60f, "I want to speak to your manager now."),
        ]));
        rows.AddRange(Scripted("good-news.ogg", "c0ffee03", 10.4,
        [
            ("happy", 0.80f, 0.55f, "Oh, that is wonderful news, thank you so much!"),
            ("happy", 0.70f, 0.40f, "I am really happy with how everything turned out."),
            ("happy", 0.65f, 0.30f, "You made my day."),
        ]));
        rows.AddRange(Scripted("bad-news.m4a", "c0ffee04", 16.9,
        [
            ("sad", -0.50f, -0.40f, "I am afraid the results were not what we hoped for."),
            ("sad", -0.60f, -0.45f, "It has been a very difficult year for all of us."),
            ("sad", -0.75f, -0.55f, "I miss him every single day."),
        ]));
        return rows;
    }

    public static IReadOnlyList<UtteranceRow> LongCall(string modelName = ModelName) =>
        Scripted(LongCallId, "0x8DE1A2B3C4D5E6F", 181.0, LongCallScript, modelName);

    public static IReadOnlyList<FailureRow> Failures() =>
    [
        new("corrupt/truncated.mp3", "file:///data/recordings/corrupt/truncated.mp3", "d00d0001", "decode",
            "ffmpeg: Invalid data found when processing input", 3, false, ProcessedAt.AddMinutes(3)),
        new("calls/2026-11-03/call-0150.wav", "file:///data/recordings/calls/2026-11-03/call-0150.wav", "d00d0002", "fetch",
            "blob download timed out", 1, true, ProcessedAt.AddMinutes(7)),
    ];

    /// <summary>Rows for a script: utterances spread over the duration with pauses, durations following sentence length.</summary>
    private static List<UtteranceRow> Scripted(
        string id, string etag, double duration, (string Emotion, float Valence, float Arousal, string Text)[] script,
        string modelName = ModelName)
    {
        var random = new Random(id.Length * 7919 + script.Length);
        var speechWeights = script.Select(line => 0.4 + line.Text.Length / 14.0).ToArray();
        var pauses = script.Length + 1;
        var scale = (duration * 0.86) / speechWeights.Sum();
        var pause = duration * 0.14 / pauses;
        var rows = new List<UtteranceRow>();
        var t = pause;
        for (var i = 0; i < script.Length; i++)
        {
            var (emotion, valence, arousal, text) = script[i];
            var length = speechWeights[i] * scale;
            var start = Math.Round(t, 2);
            var end = Math.Round(t + length, 2);
            var probabilities = Probabilities(emotion, random);
            rows.Add(new UtteranceRow(
                id, $"file:///data/recordings/{id}", etag, i, start, end, text, "en", emotion,
                probabilities[0], probabilities[1], probabilities[2], probabilities[3],
                valence, arousal, TextUsed: true, modelName, ModelVersion, ProcessedAt.AddSeconds(id.Length)));
            t += length + pause * (0.6 + random.NextDouble() * 0.8);
        }
        return rows;
    }

    private static float[] Probabilities(string emotion, Random random)
    {
        var index = EmotionLabels.All.ToList().IndexOf(emotion);
        var top = 0.55f + (float)random.NextDouble() * 0.35f;
        var rest = new float[3];
        for (var i = 0; i < 3; i++)
        {
            rest[i] = 0.2f + (float)random.NextDouble();
        }
        var restSum = rest.Sum();
        var result = new float[4];
        for (int i = 0, r = 0; i < 4; i++)
        {
            result[i] = i == index ? top : (1 - top) * rest[r++] / restSum;
        }
        return result;
    }
}
