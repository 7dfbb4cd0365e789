-- 002: the latency of whole configurations on each device, and the
-- matched-latency baselines chosen from them (docs/schema.md).

-- One (device, model, batch, method) timed on the full input by a 'latency'
-- job: what the paper table shows per device, and what POMT's latency is
-- matched against. The statistics are those of curve_points.
CREATE TABLE method_latency (
  id                  INTEGER PRIMARY KEY,
  result_id           INTEGER NOT NULL REFERENCES results (id),
  job_id              INTEGER NOT NULL REFERENCES jobs (id),
  device_id           INTEGER NOT NULL REFERENCES devices (id),
  model               TEXT    NOT NULL,
  batch               INTEGER NOT NULL CHECK (batch >= 1),
  method              TEXT    NOT NULL CHECK (length(method) > 0),
  tokens              INTEGER NOT NULL CHECK (tokens >= 1),
  median_ms           REAL    NOT NULL,
  median_ci95_low_ms  REAL,
  median_ci95_high_ms REAL,
  p5_ms               REAL    NOT NULL,
  p25_ms              REAL    NOT NULL,
  p75_ms              REAL    NOT NULL,
  p95_ms              REAL    NOT NULL,
  mean_ms             REAL    NOT NULL,
  stddev_ms           REAL    NOT NULL,
  mad_ms              REAL    NOT NULL,
  samples             INTEGER NOT NULL CHECK (samples >= 1),
  stable              INTEGER NOT NULL CHECK (stable IN (0, 1)),
  reached_precision   INTEGER NOT NULL CHECK (reached_precision IN (0, 1)),
  average_w           REAL,  -- NULL without a power sensor (curve_points' power says why)
  joules_per_image    REAL,
  raw_ms              TEXT    NOT NULL CHECK (json_valid(raw_ms) AND json_type(raw_ms) = 'array')
) STRICT;
CREATE INDEX method_latency_by_target ON method_latency (device_id, model, batch, method);
CREATE INDEX method_latency_by_job ON method_latency (job_id);

-- For one (device, model, batch): the baseline of a family (topk, tome) whose
-- measured latency is closest to POMT's, measured in the same latency job.
CREATE TABLE matched_baselines (
  id                INTEGER PRIMARY KEY,
  sweep_id          INTEGER REFERENCES sweeps (id),
  job_id            INTEGER REFERENCES jobs (id),      -- the 'match' job
  latency_job_id    INTEGER NOT NULL REFERENCES jobs (id),
  device_id         INTEGER NOT NULL REFERENCES devices (id),
  model             TEXT    NOT NULL,
  batch             INTEGER NOT NULL CHECK (batch >= 1),
  target_method     TEXT    NOT NULL,                  -- canonical: pomt:R, or pomt:R@L off layer 3
  target_latency_ms REAL    NOT NULL,
  family            TEXT    NOT NULL CHECK (family IN ('topk', 'tome')),
  method            TEXT    NOT NULL,                  -- the chosen topk:r / tome:r
  latency_ms        REAL    NOT NULL,
  relative_gap      REAL    NOT NULL,                  -- (latency - target) / target
  within_tolerance  INTEGER NOT NULL CHECK (within_tolerance IN (0, 1)),
  tolerance         REAL    NOT NULL CHECK (tolerance > 0),
  candidates        INTEGER NOT NULL CHECK (candidates >= 1),
  created_at        REAL    NOT NULL
) STRICT;
CREATE INDEX matched_baselines_by_target ON matched_baselines (device_id, model, batch);

-- Method latencies with their device, one row per measured configuration.
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
       m.samples,
       m.reached_precision,
       m.average_w,
       m.joules_per_image
FROM method_latency m
JOIN devices d ON d.id = m.device_id
JOIN jobs j ON j.id = m.job_id;

-- Matched-latency baselines with their device.
CREATE VIEW matched_view AS
SELECT b.sweep_id,
       d.name AS device,
       d.simulated,
       b.model,
       b.batch,
       b.target_method,
       round(b.target_latency_ms, 3) AS target_ms,
       b.family,
       b.method,
       round(b.latency_ms, 3) AS latency_ms,
       round(100 * b.relative_gap, 2) AS gap_percent,
       b.within_tolerance
FROM matched_baselines b
JOIN devices d ON d.id = b.device_id;
