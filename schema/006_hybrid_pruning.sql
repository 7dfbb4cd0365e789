-- 006: Hybrid Dynamic Pruning of attention (docs/hdp.md). An evaluation or a
-- latency point of a method with HDP (hdp:..., pomt:R+hdp:...) records what
-- it pruned, summed over its images (a latency point: over one untimed pass
-- of its batch on the timing input): (image, head) pairs seen and pruned,
-- 2x2 attention blocks of the kept heads seen and pruned, the attention
-- multiply-accumulates (Q.K^T and P.V) at the tokens each block saw and those
-- pruning skipped, and the frac x frac products the approximation dropped.
-- Every other row holds NULL in all seven. The per-block counts stay in
-- results.body (json_extract(body, '$.hdp.per_block')).
ALTER TABLE evaluations ADD COLUMN hdp_heads INTEGER CHECK (hdp_heads IS NULL OR hdp_heads >= 0);
ALTER TABLE evaluations ADD COLUMN hdp_heads_pruned INTEGER
  CHECK (hdp_heads_pruned IS NULL OR hdp_heads_pruned BETWEEN 0 AND hdp_heads);
ALTER TABLE evaluations ADD COLUMN hdp_blocks INTEGER CHECK (hdp_blocks IS NULL OR hdp_blocks >= 0);
ALTER TABLE evaluations ADD COLUMN hdp_blocks_pruned INTEGER
  CHECK (hdp_blocks_pruned IS NULL OR hdp_blocks_pruned BETWEEN 0 AND hdp_blocks);
ALTER TABLE evaluations ADD COLUMN hdp_attention_macs INTEGER
  CHECK (hdp_attention_macs IS NULL OR hdp_attention_macs >= 0);
ALTER TABLE evaluations ADD COLUMN hdp_attention_macs_skipped INTEGER
  CHECK (hdp_attention_macs_skipped IS NULL
         OR hdp_attention_macs_skipped BETWEEN 0 AND hdp_attention_macs);
ALTER TABLE evaluations ADD COLUMN hdp_frac_macs_dropped INTEGER
  CHECK (hdp_frac_macs_dropped IS NULL OR hdp_frac_macs_dropped >= 0);

ALTER TABLE method_latency ADD COLUMN hdp_heads INTEGER CHECK (hdp_heads IS NULL OR hdp_heads >= 0);
ALTER TABLE method_latency ADD COLUMN hdp_heads_pruned INTEGER
  CHECK (hdp_heads_pruned IS NULL OR hdp_heads_pruned BETWEEN 0 AND hdp_heads);
ALTER TABLE method_latency ADD COLUMN hdp_blocks INTEGER
  CHECK (hdp_blocks IS NULL OR hdp_blocks >= 0);
ALTER TABLE method_latency ADD COLUMN hdp_blocks_pruned INTEGER
  CHECK (hdp_blocks_pruned IS NULL OR hdp_blocks_pruned BETWEEN 0 AND hdp_blocks);
ALTER TABLE method_latency ADD COLUMN hdp_attention_macs INTEGER
  CHECK (hdp_attention_macs IS NULL OR hdp_attention_macs >= 0);
ALTER TABLE method_latency ADD COLUMN hdp_attention_macs_skipped INTEGER
  CHECK (hdp_attention_macs_skipped IS NULL
         OR hdp_attention_macs_skipped BETWEEN 0 AND hdp_attention_macs);
ALTER TABLE method_latency ADD COLUMN hdp_frac_macs_dropped INTEGER
  CHECK (hdp_frac_macs_dropped IS NULL OR hdp_frac_macs_dropped >= 0);

-- One row per evaluation of a method with HDP, beside the unpruned baseline
-- of the same sweep, model, weights, dataset, split and image count (method
-- none on the weights as given; the one on the same device when there is
-- one). The shares are of what HDP saw: for pomt:R+hdp:..., attention_macs
-- already counts POMT's fewer tokens.
CREATE VIEW hdp_view AS
SELECT j.sweep_id                                    AS sweep_id,
       e.model                                       AS model,
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
       d.name                                        AS device,
       e.job_id                                      AS job_id
FROM evaluations e
JOIN jobs j ON j.id = e.job_id
JOIN devices d ON d.id = e.device_id
WHERE e.hdp_heads IS NOT NULL;

-- One row per latency point of a method with HDP: its paired change against
-- the job's "none" of the batch (ratio), and what HDP pruned on the timing
-- input in one untimed pass (which is not the evaluation's images: compare
-- heads_pruned_share with hdp_view's).
CREATE VIEW hdp_latency_view AS
SELECT j.sweep_id                                    AS sweep_id,
       m.job_id                                      AS job_id,
       d.name                                        AS device,
       d.kind                                        AS device_kind,
       d.simulated                                   AS simulated,
       m.model                                       AS model,
       m.batch                                       AS batch,
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
                                                     AS attention_macs_skipped_share
FROM method_latency m
JOIN devices d ON d.id = m.device_id
JOIN jobs j ON j.id = m.job_id
WHERE m.hdp_heads IS NOT NULL AND m.clusters IS NULL;
