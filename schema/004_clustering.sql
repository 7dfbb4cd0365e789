-- 004: weight clustering (docs/cluster.md). An evaluation of weights
-- clustered at load (eval --clusters K, a sweep's "clustering") records K,
-- the identity of its codebooks and the tensor bytes before and after;
-- every other evaluation holds NULL in all four.
ALTER TABLE evaluations ADD COLUMN clusters INTEGER
  CHECK (clusters IS NULL OR clusters BETWEEN 2 AND 256);
ALTER TABLE evaluations ADD COLUMN clustered_weights_sha256 TEXT;
ALTER TABLE evaluations ADD COLUMN dense_tensor_bytes INTEGER
  CHECK (dense_tensor_bytes IS NULL OR dense_tensor_bytes >= 1);
ALTER TABLE evaluations ADD COLUMN clustered_tensor_bytes INTEGER
  CHECK (clustered_tensor_bytes IS NULL OR clustered_tensor_bytes >= 1);

-- The accuracy table keeps to the weights as given, so that a query pairing
-- each method with its 'none' baseline never meets a clustered 'none';
-- clustered evaluations are in clustering_view.
DROP VIEW accuracy_table;
CREATE VIEW accuracy_table AS
SELECT e.model             AS model,
       e.method            AS method,
       e.dataset           AS dataset,
       e.split             AS split,
       e.weights_sha256    AS weights_sha256,
       e.top1              AS top1,
       e.top5              AS top5,
       e.images            AS images,
       d.name              AS device,
       d.simulated         AS simulated,
       e.batch             AS batch,
       e.latency_median_ms AS latency_median_ms,
       e.job_id            AS job_id
FROM evaluations e
JOIN devices d ON d.id = e.device_id
WHERE e.clusters IS NULL;

-- One row per evaluation of clustered weights, beside the dense baseline of
-- the same model, weights file, dataset, split, image count and sweep (method
-- none, not clustered; the one on the same device when there is one).
CREATE VIEW clustering_view AS
SELECT j.sweep_id                  AS sweep_id,
       e.model                     AS model,
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
       d.name                      AS device,
       e.job_id                    AS job_id
FROM evaluations e
JOIN jobs j ON j.id = e.job_id
JOIN devices d ON d.id = e.device_id
WHERE e.clusters IS NOT NULL;
