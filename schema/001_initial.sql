-- 001_initial.sql: the first schema of the results database.
-- Times are unix seconds (REAL). JSON columns hold text that json_valid()
-- accepts. Tables are STRICT, so a value of the wrong type is an error instead
-- of being stored as something else. See docs/schema.md.

-- A device: one machine (or one simulated GPU) that agents run on.
CREATE TABLE devices (
  id         INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL UNIQUE CHECK (length(name) > 0),
  kind       TEXT    NOT NULL CHECK (kind IN ('cpu', 'cuda', 'jetson', 'sim')),
  simulated  INTEGER NOT NULL CHECK (simulated IN (0, 1)),
  tags       TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(tags) AND json_type(tags) = 'array'),
  facts      TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(facts) AND json_type(facts) = 'object'),
  first_seen REAL    NOT NULL,
  last_seen  REAL    NOT NULL,
  -- A simulated device is always labelled so, and only simulated ones are 'sim'.
  CHECK ((kind = 'sim') = (simulated = 1))
) STRICT;

-- An agent process registered for a device. Only the SHA-256 of its token is
-- kept, so a copy of the database gives no way to act as an agent.
CREATE TABLE agents (
  id            INTEGER PRIMARY KEY,
  device_id     INTEGER NOT NULL REFERENCES devices (id),
  token_hash    TEXT    NOT NULL UNIQUE
                CHECK (length(token_hash) = 64 AND token_hash NOT GLOB '*[^0-9a-f]*'),
  version       TEXT    NOT NULL,
  git_sha       TEXT    NOT NULL,
  registered_at REAL    NOT NULL,
  last_seen     REAL    NOT NULL
) STRICT;
CREATE INDEX agents_by_device ON agents (device_id);

CREATE TABLE sweeps (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL,
  spec        TEXT    NOT NULL CHECK (json_valid(spec)),
  state       TEXT    NOT NULL DEFAULT 'running'
              CHECK (state IN ('running', 'done', 'failed', 'cancelled')),
  created_at  REAL    NOT NULL,
  finished_at REAL,
  CHECK ((state = 'running') = (finished_at IS NULL))
) STRICT;

-- A unit of work. 'waiting': some dependency is not done yet; 'queued': ready;
-- 'leased': an agent holds it until lease_expires_at. device_id NULL means any
-- real (non-simulated) device. A higher priority is served first, then the
-- lower id. The kind is checked by the coordinator, not here, so that a new
-- kind needs no table rebuild.
CREATE TABLE jobs (
  id               INTEGER PRIMARY KEY,
  sweep_id         INTEGER REFERENCES sweeps (id),
  kind             TEXT    NOT NULL CHECK (length(kind) > 0),
  runner           TEXT    NOT NULL CHECK (runner IN ('agent', 'coordinator')),
  device_id        INTEGER REFERENCES devices (id),
  spec             TEXT    NOT NULL CHECK (json_valid(spec)),
  state            TEXT    NOT NULL
                   CHECK (state IN ('waiting', 'queued', 'leased', 'done', 'failed', 'cancelled')),
  priority         INTEGER NOT NULL DEFAULT 0,
  attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts     INTEGER NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
  lease_id         TEXT,
  lease_agent_id   INTEGER REFERENCES agents (id),
  lease_expires_at REAL,
  last_error       TEXT,
  created_at       REAL    NOT NULL,
  updated_at       REAL    NOT NULL,
  CHECK ((state = 'leased') = (lease_expires_at IS NOT NULL)),
  CHECK (state <> 'leased' OR (lease_id IS NOT NULL AND lease_agent_id IS NOT NULL)),
  CHECK (state <> 'leased' OR runner = 'agent')
) STRICT;
-- The lease claim: one index seek per (device, priority) for the agents' hot path.
CREATE INDEX jobs_queued_for_agents ON jobs (device_id, priority DESC, id)
  WHERE state = 'queued' AND runner = 'agent';
CREATE INDEX jobs_queued_for_coordinator ON jobs (priority DESC, id)
  WHERE state = 'queued' AND runner = 'coordinator';
-- Finding expired leases without scanning every job.
CREATE INDEX jobs_leased_by_expiry ON jobs (lease_expires_at) WHERE state = 'leased';
CREATE INDEX jobs_by_sweep ON jobs (sweep_id, state);
CREATE INDEX jobs_by_state ON jobs (state);

CREATE TABLE job_dependencies (
  job_id            INTEGER NOT NULL REFERENCES jobs (id),
  depends_on_job_id INTEGER NOT NULL REFERENCES jobs (id),
  PRIMARY KEY (job_id, depends_on_job_id),
  CHECK (job_id <> depends_on_job_id)
) WITHOUT ROWID, STRICT;
CREATE INDEX job_dependencies_by_dependency ON job_dependencies (depends_on_job_id);

-- One accepted result per job, with its provenance. lease_id and agent_id are
-- NULL for the jobs the coordinator runs itself (schedules).
CREATE TABLE results (
  id            INTEGER PRIMARY KEY,
  job_id        INTEGER NOT NULL UNIQUE REFERENCES jobs (id),
  lease_id      TEXT,
  agent_id      INTEGER REFERENCES agents (id),
  device_id     INTEGER REFERENCES devices (id),
  received_at   REAL    NOT NULL,
  agent_version TEXT,
  git_sha       TEXT,
  device_facts  TEXT    CHECK (device_facts IS NULL OR json_valid(device_facts)),
  body          TEXT    NOT NULL CHECK (json_valid(body)),
  body_sha256   TEXT    NOT NULL CHECK (length(body_sha256) = 64)
) STRICT;

-- One point of a latency curve L(n), from a profile result.
CREATE TABLE curve_points (
  id                  INTEGER PRIMARY KEY,
  result_id           INTEGER NOT NULL REFERENCES results (id),
  job_id              INTEGER NOT NULL REFERENCES jobs (id),
  device_id           INTEGER NOT NULL REFERENCES devices (id),
  model               TEXT    NOT NULL,
  mode                TEXT    NOT NULL CHECK (mode IN ('model', 'block')),
  batch               INTEGER NOT NULL CHECK (batch >= 1),
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
  raw_ms              TEXT    NOT NULL CHECK (json_valid(raw_ms) AND json_type(raw_ms) = 'array')
) STRICT;
CREATE INDEX curve_points_by_curve ON curve_points (device_id, model, mode, batch, tokens);
CREATE INDEX curve_points_by_result ON curve_points (result_id);

-- Power over a curve point's timed window. Every curve point has a row; when
-- nothing was measured the figures are NULL and null_reason says why.
CREATE TABLE power (
  curve_point_id       INTEGER PRIMARY KEY REFERENCES curve_points (id),
  average_w            REAL,
  peak_w               REAL,
  joules_per_inference REAL,  -- per forward pass (one batch)
  joules_per_image     REAL,
  idle_w               REAL,
  sensor               TEXT,
  null_reason          TEXT,
  CHECK (average_w IS NOT NULL OR null_reason IS NOT NULL)
) STRICT;

-- Accuracy (and optionally latency) of one model + method on a dataset split.
-- top1 and top5 are fractions in [0, 1].
CREATE TABLE evaluations (
  id                INTEGER PRIMARY KEY,
  result_id         INTEGER NOT NULL REFERENCES results (id),
  job_id            INTEGER NOT NULL REFERENCES jobs (id),
  device_id         INTEGER NOT NULL REFERENCES devices (id),
  model             TEXT    NOT NULL,
  weights_sha256    TEXT,
  dataset           TEXT    NOT NULL,
  split             TEXT    NOT NULL,
  images            INTEGER NOT NULL CHECK (images >= 1),
  method            TEXT    NOT NULL,
  batch             INTEGER NOT NULL CHECK (batch >= 1),
  top1              REAL    NOT NULL CHECK (top1 BETWEEN 0 AND 1),
  top5              REAL    NOT NULL CHECK (top5 BETWEEN 0 AND 1),
  latency_median_ms REAL
) STRICT;
CREATE INDEX evaluations_by_model ON evaluations (model, method, dataset);

-- One point of an accuracy curve A(n): accuracy with n tokens kept.
CREATE TABLE accuracy_points (
  id             INTEGER PRIMARY KEY,
  result_id      INTEGER NOT NULL REFERENCES results (id),
  job_id         INTEGER NOT NULL REFERENCES jobs (id),
  model          TEXT    NOT NULL,
  weights_sha256 TEXT,
  dataset        TEXT    NOT NULL,
  split          TEXT    NOT NULL,
  method         TEXT    NOT NULL,
  tokens         INTEGER NOT NULL CHECK (tokens >= 1),
  top1           REAL    NOT NULL CHECK (top1 BETWEEN 0 AND 1),
  top5           REAL    NOT NULL CHECK (top5 BETWEEN 0 AND 1),
  images         INTEGER NOT NULL CHECK (images >= 1)
) STRICT;
CREATE INDEX accuracy_points_by_curve ON accuracy_points (model, weights_sha256, dataset, method, tokens);

-- A token-pruning schedule for one (device, model, batch): keep n_star tokens,
-- prune r = tokens_total - 1 - (n_star + 1) in block `layer`.
CREATE TABLE schedules (
  id                   INTEGER PRIMARY KEY,
  sweep_id             INTEGER REFERENCES sweeps (id),
  job_id               INTEGER REFERENCES jobs (id),
  device_id            INTEGER NOT NULL REFERENCES devices (id),
  model                TEXT    NOT NULL,
  batch                INTEGER NOT NULL CHECK (batch >= 1),
  method               TEXT    NOT NULL DEFAULT 'pomt' CHECK (method IN ('pomt')),
  alpha                REAL    NOT NULL CHECK (alpha BETWEEN 0 AND 1),
  tokens_total         INTEGER NOT NULL CHECK (tokens_total >= 2),
  n_star               INTEGER NOT NULL CHECK (n_star BETWEEN 1 AND tokens_total),
  r                    INTEGER NOT NULL CHECK (r >= 0),
  layer                INTEGER NOT NULL CHECK (layer >= 0),
  latency_at_n_star_ms REAL,
  baseline_latency_ms  REAL,
  source_job_ids       TEXT    NOT NULL CHECK (json_valid(source_job_ids)),
  created_at           REAL    NOT NULL
) STRICT;
CREATE INDEX schedules_by_target ON schedules (device_id, model, batch);

-- Every failed attempt, kept as a row: an agent's error or an expired lease.
CREATE TABLE failures (
  id       INTEGER PRIMARY KEY,
  job_id   INTEGER NOT NULL REFERENCES jobs (id),
  agent_id INTEGER REFERENCES agents (id),
  attempt  INTEGER NOT NULL,
  error    TEXT    NOT NULL,
  at       REAL    NOT NULL
) STRICT;
CREATE INDEX failures_by_job ON failures (job_id);

-- ---- Views: the common questions, answerable from `sqlite3 results.db`. ----

-- Latency curves with their spread and power, one row per measured point.
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

CREATE VIEW schedule_view AS
SELECT s.id                   AS schedule_id,
       d.name                 AS device,
       d.simulated            AS simulated,
       s.model                AS model,
       s.batch                AS batch,
       s.method               AS method,
       s.alpha                AS alpha,
       s.tokens_total         AS tokens_total,
       s.n_star               AS n_star,
       s.r                    AS r,
       s.layer                AS layer,
       s.latency_at_n_star_ms AS latency_at_n_star_ms,
       s.baseline_latency_ms  AS baseline_latency_ms,
       CASE WHEN s.baseline_latency_ms > 0
            THEN s.latency_at_n_star_ms / s.baseline_latency_ms END AS latency_ratio,
       s.sweep_id             AS sweep_id,
       s.created_at           AS created_at
FROM schedules s
JOIN devices d ON d.id = s.device_id;

-- The accuracy table: one row per evaluation, with the device it ran on.
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
JOIN devices d ON d.id = e.device_id;

CREATE VIEW job_overview AS
SELECT j.id               AS job_id,
       j.sweep_id         AS sweep_id,
       s.name             AS sweep,
       j.kind             AS kind,
       j.runner           AS runner,
       CASE WHEN d.name IS NOT NULL THEN d.name
            WHEN j.runner = 'coordinator' THEN '(coordinator)'
            ELSE '(any real device)' END AS device,
       j.state            AS state,
       j.priority         AS priority,
       j.attempts         AS attempts,
       j.max_attempts     AS max_attempts,
       j.last_error       AS last_error,
       j.lease_agent_id   AS lease_agent_id,
       j.lease_expires_at AS lease_expires_at,
       j.created_at       AS created_at,
       j.updated_at       AS updated_at
FROM jobs j
LEFT JOIN sweeps s ON s.id = j.sweep_id
LEFT JOIN devices d ON d.id = j.device_id;
