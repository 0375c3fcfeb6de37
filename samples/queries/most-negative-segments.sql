-- What was being said in the most negative moments?
-- The 20 utterances with the lowest valence (ties: the more aroused first), with their transcripts and where they
-- sit in the recording, to listen to. Utterances under one second are left out: too short to judge.
SELECT
    recording_id,
    utterance_index,
    printf('%d:%02d', floor(start_seconds / 60)::INTEGER, floor(start_seconds % 60)::INTEGER) AS at,
    round(start_seconds, 2)                          AS start_seconds,
    round(end_seconds, 2)                            AS end_seconds,
    emotion,
    round(valence, 2)                                AS valence,
    round(arousal, 2)                                AS arousal,
    round(greatest(p_angry, p_sad), 2)               AS p_negative,
    coalesce(transcript, '(no transcript)')          AS transcript
FROM read_parquet('out/utterances/**/*.parquet', hive_partitioning = true)
WHERE end_seconds - start_seconds >= 1.0
ORDER BY valence ASC, arousal DESC
LIMIT 20;
