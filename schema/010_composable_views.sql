-- 010: views that compose (docs/schema.md, "Views"). One naming rule: every
-- view is `<noun>_view`, and every results view starts with the same four
-- columns, sweep_id, device, model, batch, so that two views join on them.
-- The three views that broke the rule keep their old names as aliases with
-- their old columns (curve, accuracy_table, job_overview), so old queries run.
-- And the steps of each profiled curve are stored when its result arrives.

-- The steps of a profile's L(n), found by the coordinator when the result is
-- stored, with the same rules as the report and the schedule (analysis/
-- latency_steps.h) on the paired curve. Results stored before this migration
-- get theirs from their stored bodies in code, in this migration's
-- transaction (store.cpp, backfill_latency_steps).
CREATE TABLE latency_steps (
  id                 INTEGER PRIMARY KEY,
  result_id          INTEGER NOT NULL REFERENCES results (id),
  job_id             INTEGER NOT NULL REFERENCES jobs (id),
  device_id          INTEGER NOT NULL REFERENCES devices (id),
  model              TEXT    NOT NULL,
  mode               TEXT    NOT NULL,
  batch              INTEGER NOT NULL CHECK (batch >= 1),
  tokens_below       INTEGER NOT NULL CHECK (tokens_below >= 1),
  tokens_above       INTEGER NOT NULL CHECK (tokens_above > tokens_below),
  below_ms           REAL    NOT NULL,
  above_ms           REAL    NOT NULL,
  height_ms          REAL    NOT NULL,
  height_fraction    REAL    NOT NULL,
  saved_from_full_ms REAL    NOT NULL
) STRICT;
CREATE INDEX latency_steps_by_job ON latency_steps (job_id, batch);

CREATE VIEW curve_view AS
SELECT j.sweep_id             AS sweep_id,
       d.name                 AS device,
       c.model                AS model,
       c.batch                AS batch,
       d.simulated            AS simulated,
       c.mode                 AS mode,
       c.tokens               AS tokens,
       c.median_ms            AS median_ms,
       c.median_ci95_low_ms   AS median_ci95_low_ms,
       c.median_ci95_high_ms  AS median_ci95_high_ms,
       c.p5_ms                AS p5_ms,
       c.p25_ms               AS p25_ms,
       c.p75_ms               AS p75_ms,
       c.p95_ms               AS p95_ms,
       c.mean_ms              AS mean_ms,
       c.stddev_ms            AS stddev_ms,
       c.mad_ms               AS mad_ms,
       c.samples              AS samples,
       c.stable               AS stable,
       c.reached_precision    AS reached_precision,
       c.rounds               AS rounds,
       c.ratio                AS ratio,
       c.ratio_ci95_low       AS ratio_ci95_low,
       c.ratio_ci95_high      AS ratio_ci95_high,
       c.ratio_to_tokens      AS ratio_to_tokens,
       c.load_average         AS load_average,
       c.steal_fraction       AS steal_fraction,
       p.average_w            AS average_w,
       p.peak_w               AS peak_w,
       p.joules_per_inference AS joules_per_inference,
       p.joules_per_image     AS joules_per_image,
       p.idle_w               AS idle_w,
       p.null_reason          AS power_null_reason,
       c.job_id               AS job_id,
       c.result_id            AS result_id,
       r.received_at          AS received_at
FROM curve_points c
JOIN devices d ON d.id = c.device_id
JOIN jobs j ON j.id = c.job_id
JOIN results r ON r.id = c.result_id
LEFT JOIN power p ON p.curve_point_id = c.id;

DROP VIEW curve;
CREATE VIEW curve AS
SELECT device, simulated, model, mode, batch, tokens, median_ms, median_ci95_low_ms,
       median_ci95_high_ms, p5_ms, p25_ms, p75_ms, p95_ms, mean_ms, stddev_ms, mad_ms, samples,
       stable, reached_precision, rounds, ratio, ratio_ci95_low, ratio_ci95_high,
       ratio_to_tokens, load_average, steal_fraction, average_w, peak_w, joules_per_inference,
       joules_per_image, idle_w, power_null_reason, job_id, result_id, received_at
FROM curve_view;

CREATE VIEW step_view AS
SELECT j.sweep_id                            AS sweep_id,
       d.name                                AS device,
       s.model                               AS model,
       s.batch                               AS batch,
       d.simulated                           AS simulated,
       s.mode                                AS mode,
       s.tokens_below                        AS tokens_below,
       s.tokens_above                        AS tokens_above,
       s.below_ms                            AS below_ms,
       s.above_ms                            AS above_ms,
       s.height_ms                           AS height_ms,
       100 * s.height_fraction               AS height_percent,
       s.saved_from_full_ms                  AS saved_from_full_ms,
       s.job_id                              AS job_id,
       s.result_id                           AS result_id
FROM latency_steps s
JOIN devices d ON d.id = s.device_id
JOIN jobs j ON j.id = s.job_id;

-- POMT's method as the other views name it (pomt:R, or pomt:R@L off the
-- default layer 3, common/model/method_spec.cpp), and its top-1 where the
-- same sweep evaluated it.
DROP VIEW schedule_view;
CREATE VIEW schedule_view AS
SELECT s.sweep_id             AS sweep_id,
       d.name                 AS device,
       s.model                AS model,
       s.batch                AS batch,
       d.simulated            AS simulated,
       CASE s.layer WHEN 3 THEN 'pomt:' || s.r ELSE 'pomt:' || s.r || '@' || s.layer END
                              AS method,
       s.variant              AS variant,
       s.alpha                AS alpha,
       s.tokens_total         AS tokens_total,
       s.n_star               AS n_star,
       s.r                    AS r,
       s.layer                AS layer,
       s.tokens_after_pruning AS tokens_after_pruning,
       s.step_below           AS step_below,
       s.step_above           AS step_above,
       s.latency_at_n_star_ms AS latency_at_n_star_ms,
       s.baseline_latency_ms  AS baseline_latency_ms,
       CASE WHEN s.baseline_latency_ms > 0
            THEN s.latency_at_n_star_ms / s.baseline_latency_ms END AS latency_ratio,
       (SELECT e.top1 FROM evaluations e JOIN jobs ej ON ej.id = e.job_id
        WHERE ej.sweep_id = s.sweep_id AND e.model = s.model AND e.clusters IS NULL
          AND e.method = CASE s.layer WHEN 3 THEN 'pomt:' || s.r
                                      ELSE 'pomt:' || s.r || '@' || s.layer END
        ORDER BY e.id LIMIT 1) AS top1,
       s.method               AS schedule_method,
       s.id                   AS schedule_id,
       s.job_id               AS job_id,
       s.created_at           AS created_at
FROM schedules s
JOIN devices d ON d.id = s.device_id;

-- Every evaluation of the weights as given, beside the unpruned run's top-1
-- on the same images in the same sweep (the same device's when it has one).
CREATE VIEW accuracy_view AS
SELECT e.sweep_id          AS sweep_id,
       d.name              AS device,
       e.model             AS model,
       e.batch             AS batch,
       d.simulated         AS simulated,
       e.method            AS method,
       e.dataset           AS dataset,
       e.split             AS split,
       e.images            AS images,
       e.top1              AS top1,
       e.top5              AS top5,
       b.top1              AS baseline_top1,
       100 * (e.top1 - b.top1) AS top1_change_points,
       e.latency_median_ms AS latency_median_ms,
       e.weights_sha256    AS weights_sha256,
       e.images_sha256     AS images_sha256,
       e.job_id            AS job_id
FROM (SELECT ev.*, j.sweep_id AS sweep_id,
             COALESCE(
               (SELECT x.id FROM evaluations x JOIN jobs xj ON xj.id = x.job_id
                WHERE xj.sweep_id = j.sweep_id AND x.model = ev.model AND x.dataset = ev.dataset
                  AND x.split = ev.split AND x.images = ev.images AND x.method = 'none'
                  AND x.clusters IS NULL AND x.weights_sha256 IS ev.weights_sha256
                  AND x.images_sha256 IS ev.images_sha256 AND x.device_id = ev.device_id
                ORDER BY x.id LIMIT 1),
               (SELECT x.id FROM evaluations x JOIN jobs xj ON xj.id = x.job_id
                WHERE xj.sweep_id = j.sweep_id AND x.model = ev.model AND x.dataset = ev.dataset
                  AND x.split = ev.split AND x.images = ev.images AND x.method = 'none'
                  AND x.clusters IS NULL AND x.weights_sha256 IS ev.weights_sha256
                  AND x.images_sha256 IS ev.images_sha256
                ORDER BY x.id LIMIT 1)) AS baseline_id
      FROM evaluations ev JOIN jobs j ON j.id = ev.job_id
      WHERE ev.clusters IS NULL) e
JOIN devices d ON d.id = e.device_id
LEFT JOIN evaluations b ON b.id = e.baseline_id;

DROP VIEW accuracy_table;
CREATE VIEW accuracy_table AS
SELECT model, method, dataset, split, weights_sha256, top1, top5, images, device, simulated,
       batch, latency_median_ms, job_id
FROM accuracy_view;

CREATE VIEW job_view AS
SELECT j.sweep_id                           AS sweep_id,
       CASE WHEN d.name IS NOT NULL THEN d.name
            WHEN j.runner = 'coordinator' THEN '(coordinator)'
            ELSE '(any real device)' END    AS device,
       json_extract(j.spec, '$.model')      AS model,
       json_extract(j.spec, '$.batch')      AS batch,
       j.id                                 AS job_id,
       s.name                               AS sweep,
       j.kind                               AS kind,
       j.runner                             AS runner,
       j.state                              AS state,
       j.priority                           AS priority,
       j.attempts                           AS attempts,
       j.max_attempts                       AS max_attempts,
       j.last_error                         AS last_error,
       j.lease_agent_id                     AS lease_agent_id,
       j.lease_expires_at                   AS lease_expires_at,
       j.created_at                         AS created_at,
       j.updated_at                         AS updated_at
FROM jobs j
LEFT JOIN sweeps s ON s.id = j.sweep_id
LEFT JOIN devices d ON d.id = j.device_id;

DROP VIEW job_overview;
CREATE VIEW job_overview AS
SELECT job_id, sweep_id, sweep, kind, runner, device, state, priority, attempts, max_attempts,
       last_error, lease_agent_id, lease_expires_at, created_at, updated_at
FROM job_view;

-- The views that had the name already, with the four columns first.
DROP VIEW measurement_view;
CREATE VIEW measurement_view AS
SELECT j.sweep_id                      AS sweep_id,
       d.name                          AS device,
       json_extract(j.spec, '$.model') AS model,
       m.sentinel_batch                AS batch,
       d.simulated                     AS simulated,
       m.result_id,
       m.job_id,
       j.kind                          AS job_kind,
       m.schema_version,
       m.protocol,
       m.precision,
       m.rounds,
       m.sentinel_batch,
       m.sentinel_tokens,
       m.sentinel_method,
       m.drift,
       m.drift_exceeds_precision,
       m.max_load_average,
       m.load_above_threads
FROM measurement_runs m
JOIN devices d ON d.id = m.device_id
JOIN jobs j ON j.id = m.job_id
ORDER BY m.result_id DESC;

DROP VIEW matched_view;
CREATE VIEW matched_view AS
SELECT b.sweep_id,
       d.name AS device,
       b.model,
       b.batch,
       d.simulated,
       b.target_method,
       round(b.target_latency_ms, 3) AS target_ms,
       b.family,
       b.method,
       round(b.latency_ms, 3) AS latency_ms,
       round(100 * b.relative_gap, 2) AS gap_percent,
       b.within_tolerance
FROM matched_baselines b
JOIN devices d ON d.id = b.device_id;

DROP VIEW method_latency_view;
CREATE VIEW method_latency_view AS
SELECT j.sweep_id,
       d.name      AS device,
       m.model,
       m.batch,
       d.simulated,
       d.kind      AS device_kind,
       m.method,
       m.median_ms,
       m.median_ci95_low_ms,
       m.median_ci95_high_ms,
       m.ratio,
       m.ratio_ci95_low,
       m.ratio_ci95_high,
       m.ratio_to_method,
       m.rounds,
       m.samples,
       m.reached_precision,
       m.load_average,
       m.steal_fraction,
       m.average_w,
       m.joules_per_image,
       m.job_id
FROM method_latency m
JOIN devices d ON d.id = m.device_id
JOIN jobs j ON j.id = m.job_id
WHERE m.clusters IS NULL;

DROP VIEW clustering_view;
CREATE VIEW clustering_view AS
SELECT j.sweep_id                  AS sweep_id,
       d.name                      AS device,
       e.model                     AS model,
       e.batch                     AS batch,
       d.simulated                 AS simulated,
       e.dataset                   AS dataset,
       e.split                     AS split,
       e.clusters                  AS clusters,
       e.top1                      AS top1,
       COALESCE(
         (SELECT b.top1 FROM evaluations b JOIN jobs bj ON bj.id = b.job_id
          WHERE bj.sweep_id = j.sweep_id AND b.model = e.model AND b.dataset = e.dataset
            AND b.split = e.split AND b.method = 'none' AND b.clusters IS NULL
            AND b.weights_sha256 IS e.weights_sha256 AND b.images = e.images
            AND b.device_id = e.device_id
          ORDER BY b.id LIMIT 1),
         (SELECT b.top1 FROM evaluations b JOIN jobs bj ON bj.id = b.job_id
          WHERE bj.sweep_id = j.sweep_id AND b.model = e.model AND b.dataset = e.dataset
            AND b.split = e.split AND b.method = 'none' AND b.clusters IS NULL
            AND b.weights_sha256 IS e.weights_sha256 AND b.images = e.images
          ORDER BY b.id LIMIT 1)) AS dense_top1,
       e.images                    AS images,
       e.dense_tensor_bytes        AS dense_tensor_bytes,
       e.clustered_tensor_bytes    AS clustered_tensor_bytes,
       e.clustered_weights_sha256  AS clustered_weights_sha256,
       e.job_id                    AS job_id
FROM evaluations e
JOIN jobs j ON j.id = e.job_id
JOIN devices d ON d.id = e.device_id
WHERE e.clusters IS NOT NULL;

DROP VIEW clustering_latency_view;
CREATE VIEW clustering_latency_view AS
SELECT j.sweep_id                    AS sweep_id,
       d.name                        AS device,
       m.model                       AS model,
       m.batch                       AS batch,
       d.simulated                   AS simulated,
       d.kind                        AS device_kind,
       m.method                      AS method,
       m.clusters                    AS clusters,
       m.weight_kernel               AS weight_kernel,
       m.median_ms                   AS median_ms,
       b.median_ms                   AS dense_median_ms,
       m.ratio                       AS ratio,
       m.ratio_ci95_low              AS ratio_ci95_low,
       m.ratio_ci95_high             AS ratio_ci95_high,
       m.ratio_to_method             AS ratio_to_method,
       m.reached_precision           AS reached_precision,
       m.weight_bytes_per_forward    AS weight_bytes_per_forward,
       b.weight_bytes_per_forward    AS dense_weight_bytes_per_forward,
       m.clustered_weights_sha256    AS clustered_weights_sha256,
       m.joules_per_image            AS joules_per_image,
       b.joules_per_image            AS dense_joules_per_image,
       m.average_w                   AS average_w,
       m.power_null_reason           AS power_null_reason,
       m.job_id                      AS job_id
FROM method_latency m
JOIN devices d ON d.id = m.device_id
JOIN jobs j ON j.id = m.job_id
LEFT JOIN method_latency b
  ON b.job_id = m.job_id AND b.batch = m.batch AND b.method = m.method AND b.clusters IS NULL
WHERE m.clusters IS NOT NULL;

DROP VIEW hdp_view;
CREATE VIEW hdp_view AS
SELECT j.sweep_id                                    AS sweep_id,
       d.name                                        AS device,
       e.model                                       AS model,
       e.batch                                       AS batch,
       d.simulated                                   AS simulated,
       e.dataset                                     AS dataset,
       e.split                                       AS split,
       e.method                                      AS method,
       e.top1                                        AS top1,
       COALESCE(
         (SELECT b.top1 FROM evaluations b JOIN jobs bj ON bj.id = b.job_id
          WHERE bj.sweep_id = j.sweep_id AND b.model = e.model AND b.dataset = e.dataset
            AND b.split = e.split AND b.method = 'none' AND b.clusters IS NULL
            AND b.weights_sha256 IS e.weights_sha256 AND b.images = e.images
            AND b.device_id = e.device_id
          ORDER BY b.id LIMIT 1),
         (SELECT b.top1 FROM evaluations b JOIN jobs bj ON bj.id = b.job_id
          WHERE bj.sweep_id = j.sweep_id AND b.model = e.model AND b.dataset = e.dataset
            AND b.split = e.split AND b.method = 'none' AND b.clusters IS NULL
            AND b.weights_sha256 IS e.weights_sha256 AND b.images = e.images
          ORDER BY b.id LIMIT 1))                    AS baseline_top1,
       e.images                                      AS images,
       e.hdp_heads                                   AS heads,
       e.hdp_heads_pruned                            AS heads_pruned,
       CAST(e.hdp_heads_pruned AS REAL) / NULLIF(e.hdp_heads, 0)   AS heads_pruned_share,
       e.hdp_blocks                                  AS blocks,
       e.hdp_blocks_pruned                           AS blocks_pruned,
       CAST(e.hdp_blocks_pruned AS REAL) / NULLIF(e.hdp_blocks, 0) AS blocks_pruned_share,
       e.hdp_attention_macs                          AS attention_macs,
       e.hdp_attention_macs_skipped                  AS attention_macs_skipped,
       CAST(e.hdp_attention_macs_skipped AS REAL) / NULLIF(e.hdp_attention_macs, 0)
                                                     AS attention_macs_skipped_share,
       e.hdp_frac_macs_dropped                       AS frac_macs_dropped,
       e.job_id                                      AS job_id
FROM evaluations e
JOIN jobs j ON j.id = e.job_id
JOIN devices d ON d.id = e.device_id
WHERE e.hdp_heads IS NOT NULL;

DROP VIEW hdp_latency_view;
CREATE VIEW hdp_latency_view AS
SELECT j.sweep_id                                    AS sweep_id,
       d.name                                        AS device,
       m.model                                       AS model,
       m.batch                                       AS batch,
       d.simulated                                   AS simulated,
       d.kind                                        AS device_kind,
       m.method                                      AS method,
       m.median_ms                                   AS median_ms,
       m.ratio                                       AS ratio,
       m.ratio_ci95_low                              AS ratio_ci95_low,
       m.ratio_ci95_high                             AS ratio_ci95_high,
       m.ratio_to_method                             AS ratio_to_method,
       m.reached_precision                           AS reached_precision,
       CAST(m.hdp_heads_pruned AS REAL) / NULLIF(m.hdp_heads, 0)   AS heads_pruned_share,
       CAST(m.hdp_blocks_pruned AS REAL) / NULLIF(m.hdp_blocks, 0) AS blocks_pruned_share,
       CAST(m.hdp_attention_macs_skipped AS REAL) / NULLIF(m.hdp_attention_macs, 0)
                                                     AS attention_macs_skipped_share,
       m.job_id                                      AS job_id
FROM method_latency m
JOIN devices d ON d.id = m.device_id
JOIN jobs j ON j.id = m.job_id
WHERE m.hdp_heads IS NOT NULL AND m.clusters IS NULL;
