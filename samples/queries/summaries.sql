-- One line per recording from the summaries dataset (written at commit time, or rebuilt by `emotionbatch summarize`):
-- the quickest answer to "which calls went badly?". Newest version of each recording only.
SELECT
    recording_id,
    round(duration_seconds, 1)   AS duration_seconds,
    round(speech_share, 3)       AS speech_share,
    utterances,
    dominant_emotion,
    round(share_angry, 3)        AS share_angry,
    round(share_happy, 3)        AS share_happy,
    round(share_sad, 3)          AS share_sad,
    round(share_neutral, 3)      AS share_neutral,
    round(mean_valence, 3)       AS mean_valence,
    round(mean_arousal, 3)       AS mean_arousal,
    model_name,
    model_version,
    processed_at
FROM read_parquet('out/summaries/**/*.parquet', hive_partitioning = true)
QUALIFY row_number() OVER (PARTITION BY recording_id ORDER BY processed_at DESC) = 1
ORDER BY mean_valence ASC NULLS LAST;
