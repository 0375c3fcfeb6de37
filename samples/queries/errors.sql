-- Which recordings failed, at which stage, and will the worker try again?
-- One row per recording version: its latest failure, how many attempts were made, and whether a retry is due.
-- Permanent failures (will_retry = false) need a person: a corrupt or too long file stays failed until it changes.
SELECT
    recording_id,
    etag,
    arg_max(stage, failed_at)      AS stage,
    arg_max(reason, failed_at)     AS reason,
    max(attempt)                   AS attempts,
    arg_max(will_retry, failed_at) AS will_retry,
    max(failed_at)                 AS last_failed_at
FROM read_parquet('out/errors/**/*.parquet', hive_partitioning = true)
GROUP BY recording_id, etag
ORDER BY will_retry ASC, last_failed_at DESC;
