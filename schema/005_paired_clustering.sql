-- 005: weight clustering's latency (docs/cluster.md). A latency job with
-- paired clusters times every method on the weights as given and on those
-- weights clustered at load to each K, in the same rounds; its rows on a
-- clustered model carry K. Every row of a job whose agent reports its
-- models also carries the kernel it ran and the weight bytes one forward
-- pass reads; rows from older agents hold NULL there. power_null_reason
-- says why a row has no energy (as power.null_reason does for curves).
ALTER TABLE method_latency ADD COLUMN clusters INTEGER
  CHECK (clusters IS NULL OR clusters BETWEEN 2 AND 256);
ALTER TABLE method_latency ADD COLUMN weight_kernel TEXT
  CHECK (weight_kernel IS NULL OR weight_kernel IN ('dense', 'lookup'));
ALTER TABLE method_latency ADD COLUMN clustered_weights_sha256 TEXT;
ALTER TABLE method_latency ADD COLUMN weight_bytes_per_forward INTEGER
  CHECK (weight_bytes_per_forward IS NULL OR weight_bytes_per_forward >= 1);
ALTER TABLE method_latency ADD COLUMN power_null_reason TEXT;

-- The method latencies of the weights as given, as before: a query pairing
-- a method with its "none" never meets a clustered model's row.
DROP VIEW method_latency_view;
CREATE VIEW method_latency_view AS
SELECT m.job_id,
       j.sweep_id,
       d.name      AS device,
       d.kind      AS device_kind,
       d.simulated,
       m.model,
       m.batch,
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
       m.joules_per_image
FROM method_latency m
JOIN devices d ON d.id = m.device_id
JOIN jobs j ON j.id = m.job_id
WHERE m.clusters IS NULL;

-- One row per method timed on a clustered model, beside the same method on
-- the weights as given in the same job (same device, batch and rounds).
-- ratio is the paired ratio to the job's dense "none" of that batch; for
-- method none it is the latency change clustering alone brings.
CREATE VIEW clustering_latency_view AS
SELECT j.sweep_id                    AS sweep_id,
       m.job_id                      AS job_id,
       d.name                        AS device,
       d.kind                        AS device_kind,
       d.simulated                   AS simulated,
       m.model                       AS model,
       m.batch                       AS batch,
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
       m.power_null_reason           AS power_null_reason
FROM method_latency m
JOIN devices d ON d.id = m.device_id
JOIN jobs j ON j.id = m.job_id
LEFT JOIN method_latency b
  ON b.job_id = m.job_id AND b.batch = m.batch AND b.method = m.method AND b.clusters IS NULL
WHERE m.clusters IS NOT NULL;
