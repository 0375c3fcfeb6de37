-- Calls in which the customer's mood fell: mean valence of the customer's speech in the last third of the call below
-- that of the first third (channel_summaries; needs two-channel recordings and EmotionBatch:Decoder:ChannelRoles
-- naming a "customer" channel). Newest version of each recording only; the steepest falls first.
WITH customers AS (
    SELECT *
    FROM read_parquet('out/channel_summaries/**/*.parquet', hive_partitioning = true)
    WHERE speaker_role = 'customer'
    QUALIFY row_number() OVER (PARTITION BY recording_id ORDER BY processed_at DESC) = 1
)
SELECT
    recording_id,
    round(valence_first_third, 3)                      AS valence_first_third,
    round(valence_last_third, 3)                       AS valence_last_third,
    round(valence_last_third - valence_first_third, 3) AS valence_change,
    longest_negative_run,
    round(talk_share, 3)                               AS talk_share
FROM customers
WHERE valence_last_third < valence_first_third
ORDER BY valence_change ASC;
