-- 003: the rounds protocol (docs/profile.md, result schema 2). Each point
-- keeps how many round medians its latency comes from, its paired ratio to
-- its batch's reference point (measured in the same rounds), what the
-- machine was doing, and the round of every raw sample. Rows from schema 1
-- results (one block per point) hold NULL in all of them.
ALTER TABLE curve_points ADD COLUMN rounds INTEGER CHECK (rounds IS NULL OR rounds >= 1);
ALTER TABLE curve_points ADD COLUMN ratio REAL;            -- to the batch's largest token count
ALTER TABLE curve_points ADD COLUMN ratio_ci95_low REAL;
ALTER TABLE curve_points ADD COLUMN ratio_ci95_high REAL;
ALTER TABLE curve_points ADD COLUMN ratio_rounds INTEGER;
ALTER TABLE curve_points ADD COLUMN ratio_to_tokens INTEGER;
ALTER TABLE curve_points ADD COLUMN load_average REAL;
ALTER TABLE curve_points ADD COLUMN steal_fraction REAL;
ALTER TABLE curve_points ADD COLUMN raw_round TEXT
  CHECK (raw_round IS NULL OR (json_valid(raw_round) AND json_type(raw_round) = 'array'));

ALTER TABLE method_latency ADD COLUMN rounds INTEGER CHECK (rounds IS NULL OR rounds >= 1);
ALTER TABLE method_latency ADD COLUMN ratio REAL;          -- to the batch's "none"
ALTER TABLE method_latency ADD COLUMN ratio_ci95_low REAL;
ALTER TABLE method_latency ADD COLUMN ratio_ci95_high REAL;
ALTER TABLE method_latency ADD COLUMN ratio_rounds INTEGER;
ALTER TABLE method_latency ADD COLUMN ratio_to_method TEXT;
ALTER TABLE method_latency ADD COLUMN load_average REAL;
ALTER TABLE method_latency ADD COLUMN steal_fraction REAL;
ALTER TABLE method_latency ADD COLUMN raw_round TEXT
  CHECK (raw_round IS NULL OR (json_valid(raw_round) AND json_type(raw_round) = 'array'));

-- How each profile or latency result was measured: one row per result.
CREATE TABLE measurement_runs (
  result_id               INTEGER PRIMARY KEY REFERENCES results (id),
  job_id                  INTEGER NOT NULL REFERENCES jobs (id),
  device_id               INTEGER NOT NULL REFERENCES devices (id),
  schema_version          INTEGER NOT NULL CHECK (schema_version >= 1),
  protocol                TEXT,     -- the agent's own words
  precision               REAL,
  rounds                  INTEGER,  -- NULL: not measured in rounds
  sentinel_batch          INTEGER,
  sentinel_tokens         INTEGER,
  sentinel_method         TEXT,
  drift                   REAL,     -- the sentinel's largest round median over its smallest
  drift_exceeds_precision INTEGER CHECK (drift_exceeds_precision IN (0, 1)),
  max_load_average        REAL,
  load_above_threads      INTEGER CHECK (load_above_threads IN (0, 1))
) STRICT;
CREATE INDEX measurement_runs_by_job ON measurement_runs (job_id);

-- Each round of a rounds measurement: the sentinel's median in it and the
-- machine's load, so a run's drift can be plotted round by round.
CREATE TABLE measurement_rounds (
  result_id          INTEGER NOT NULL REFERENCES results (id),
  round              INTEGER NOT NULL CHECK (round >= 0),
  points_visited     INTEGER NOT NULL,
  sentinel_median_ms REAL,
  load_average       REAL,
  steal_fraction     REAL,
  PRIMARY KEY (result_id, round)
) STRICT;

-- The runs with their device and job, newest first.
CREATE VIEW measurement_view AS
SELECT m.result_id,
       m.job_id,
       j.kind       AS job_kind,
       j.sweep_id,
       d.name       AS device,
       d.simulated,
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

-- method_latency_view again, with the paired ratio.
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
JOIN jobs j ON j.id = m.job_id;

-- curve again, with the paired ratio and the machine's load.
DROP VIEW curve;
CREATE VIEW curve AS
SELECT d.name                 AS device,
       d.simulated            AS simulated,
       c.model                AS model,
       c.mode                 AS mode,
       c.batch                AS batch,
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
JOIN results r ON r.id = c.result_id
LEFT JOIN power p ON p.curve_point_id = c.id;

-- POMT's schedule in two variants (analysis/pomt_schedule.h): 'reference',
-- as POMT's code computes it (R leaves n* + 2 tokens), and 'aligned', the
-- same n* landing at or below the step that n* + 2 would cross. Each
-- variant is a row; step_below/step_above name the step an aligned row
-- moved below (NULL: none was near, the reference's rule stands).
ALTER TABLE schedules ADD COLUMN variant TEXT NOT NULL DEFAULT 'reference'
  CHECK (variant IN ('reference', 'aligned'));
ALTER TABLE schedules ADD COLUMN tokens_after_pruning INTEGER;
ALTER TABLE schedules ADD COLUMN step_below INTEGER;
ALTER TABLE schedules ADD COLUMN step_above INTEGER;

DROP VIEW schedule_view;
CREATE VIEW schedule_view AS
SELECT s.id                   AS schedule_id,
       d.name                 AS device,
       d.simulated            AS simulated,
       s.model                AS model,
       s.batch                AS batch,
       s.method               AS method,
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
       s.sweep_id             AS sweep_id,
       s.created_at           AS created_at
FROM schedules s
JOIN devices d ON d.id = s.device_id;
