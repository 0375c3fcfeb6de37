-- Which recordings are mostly angry, happy, sad or neutral?
-- Share of each recording's speech time per predicted emotion (a long calm passage outweighs a short outburst),
-- plus duration-weighted mean valence and arousal. Run from the folder that holds out/:
--   duckdb -c ".read samples/queries/emotion-share-per-recording.sql"
WITH utterances AS (
    SELECT * FROM read_parquet('out/utterances/**/*.parquet', hive_partitioning = true)
),
-- A recording processed again after its content changed has rows for two etags: keep the newest version,
-- and one row per utterance if a rerun left the same rows in two date partitions.
latest AS (
    SELECT recording_id, arg_max(etag, processed_at) AS etag
    FROM utterances
    GROUP BY recording_id
),
current AS (
    SELECT DISTINCT ON (u.recording_id, u.utterance_index) u.*, u.end_seconds - u.start_seconds AS seconds
    FROM utterances u
    JOIN latest USING (recording_id, etag)
    ORDER BY u.recording_id, u.utterance_index, u.processed_at DESC
)
SELECT
    recording_id,
    count(*)                                                                    AS utterances,
    round(sum(seconds), 1)                                                      AS speech_seconds,
    round(coalesce(sum(seconds) FILTER (WHERE emotion = 'angry'), 0) / sum(seconds), 3)   AS share_angry,
    round(coalesce(sum(seconds) FILTER (WHERE emotion = 'happy'), 0) / sum(seconds), 3)   AS share_happy,
    round(coalesce(sum(seconds) FILTER (WHERE emotion = 'sad'), 0) / sum(seconds), 3)     AS share_sad,
    round(coalesce(sum(seconds) FILTER (WHERE emotion = 'neutral'), 0) / sum(seconds), 3) AS share_neutral,
    round(sum(valence * seconds) / sum(seconds), 3)                             AS mean_valence,
    round(sum(arousal * seconds) / sum(seconds), 3)                             AS mean_arousal,
    any_value(model_name || ' ' || model_version)                               AS model
FROM current
GROUP BY recording_id
ORDER BY share_angry DESC, mean_valence ASC;
