-- How does the mood of the archive change from day to day?
-- Duration-weighted mean valence and arousal per processing day (the date= partition), with the share of speech
-- that was negative (valence below -0.3). For a single recording minute by minute, see the second query.
WITH utterances AS (
    SELECT *, end_seconds - start_seconds AS seconds
    FROM read_parquet('out/utterances/**/*.parquet', hive_partitioning = true)
)
SELECT
    "date",
    count(DISTINCT recording_id)                                            AS recordings,
    count(*)                                                                AS utterances,
    round(sum(seconds) / 60, 1)                                             AS speech_minutes,
    round(sum(valence * seconds) / sum(seconds), 3)                         AS mean_valence,
    round(sum(arousal * seconds) / sum(seconds), 3)                         AS mean_arousal,
    round(coalesce(sum(seconds) FILTER (WHERE valence < -0.3), 0) / sum(seconds), 3) AS share_negative
FROM utterances
GROUP BY "date"
ORDER BY "date";

-- Within one recording, minute by minute (replace the id):
-- SELECT floor(start_seconds / 60)::INTEGER AS minute,
--        round(sum(valence * (end_seconds - start_seconds)) / sum(end_seconds - start_seconds), 3) AS mean_valence,
--        round(sum(arousal * (end_seconds - start_seconds)) / sum(end_seconds - start_seconds), 3) AS mean_arousal
-- FROM read_parquet('out/utterances/**/*.parquet', hive_partitioning = true)
-- WHERE recording_id = 'calls/2026-11-03/call-0142.wav'
-- GROUP BY minute ORDER BY minute;
