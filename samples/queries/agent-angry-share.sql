-- How much of the agents' speech sounds angry? Share of the agent channel's speech time classified angry, per call
-- and over all calls (weighted by speech time), from channel_summaries (needs EmotionBatch:Decoder:ChannelRoles
-- naming an "agent" channel). Newest version of each recording only.
WITH agents AS (
    SELECT *
    FROM read_parquet('out/channel_summaries/**/*.parquet', hive_partitioning = true)
    WHERE speaker_role = 'agent'
    QUALIFY row_number() OVER (PARTITION BY recording_id ORDER BY processed_at DESC) = 1
)
SELECT recording_id, round(speech_seconds, 1) AS speech_seconds, round(share_angry, 3) AS share_angry
FROM (
    SELECT recording_id, speech_seconds, share_angry, 0 AS total_last FROM agents
    UNION ALL
    SELECT '(all calls)', sum(speech_seconds), sum(share_angry * speech_seconds) / nullif(sum(speech_seconds), 0), 1 FROM agents
)
ORDER BY total_last, share_angry DESC, recording_id;
