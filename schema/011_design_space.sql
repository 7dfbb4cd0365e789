-- 011: design-space profiling (EdgeTran / ProTran, docs/design_space.md).
-- An 'architecture' job times one architecture of a design space with
-- random weights at each of its batch sizes, on the full sequence. The
-- architecture is stored once under its id (the SHA-256 of its canonical
-- JSON, common/design/architecture.h), the measurement once per (job, batch).
CREATE TABLE architectures (
  id               TEXT    PRIMARY KEY CHECK (id GLOB 'arch-[0-9a-f]*' AND length(id) = 21),
  input            TEXT    NOT NULL CHECK (input IN ('tokens', 'patches')),
  sequence_length  INTEGER NOT NULL CHECK (sequence_length >= 1),
  layers           INTEGER NOT NULL CHECK (layers >= 1),
  parameters       REAL    NOT NULL CHECK (parameters > 0),
  flops_per_input  REAL    NOT NULL CHECK (flops_per_input > 0),
  architecture     TEXT    NOT NULL CHECK (json_valid(architecture))
) STRICT;

-- One row per batch of an architecture job's result. Energy per input is
-- the sensor's over the timed windows, idle included (idle_w says how much
-- of it the device draws at rest: (average_w - idle_w) * median_ms / 1000 /
-- batch is the inference's own share). NULL energy has its reason.
CREATE TABLE architecture_measurements (
  id                  INTEGER PRIMARY KEY,
  result_id           INTEGER NOT NULL REFERENCES results (id),
  job_id              INTEGER NOT NULL REFERENCES jobs (id),
  device_id           INTEGER NOT NULL REFERENCES devices (id),
  architecture_id     TEXT    NOT NULL REFERENCES architectures (id),
  batch               INTEGER NOT NULL CHECK (batch >= 1),
  median_ms           REAL    NOT NULL CHECK (median_ms > 0),
  median_ci95_low_ms  REAL,
  median_ci95_high_ms REAL,
  samples             INTEGER NOT NULL CHECK (samples >= 1),
  rounds              INTEGER,
  reached_precision   INTEGER NOT NULL CHECK (reached_precision IN (0, 1)),
  average_w           REAL,
  peak_w              REAL,
  joules_per_input    REAL,
  idle_w              REAL,
  power_null_reason   TEXT,
  UNIQUE (job_id, batch),
  CHECK ((joules_per_input IS NULL) = (power_null_reason IS NOT NULL))
) STRICT;
CREATE INDEX architecture_measurements_by_architecture
  ON architecture_measurements (architecture_id, device_id);

-- Each measured architecture on each device, with what it costs: latency
-- per input, energy per input (total and above idle), peak power. Its
-- "model" is the architecture's id, as in every view's first four columns.
CREATE VIEW architecture_view AS
SELECT j.sweep_id                                    AS sweep_id,
       d.name                                        AS device,
       m.architecture_id                             AS model,
       m.batch                                       AS batch,
       d.kind                                        AS device_kind,
       d.simulated                                   AS simulated,
       a.input                                       AS input,
       a.layers                                      AS layers,
       a.parameters                                  AS parameters,
       a.flops_per_input                             AS flops_per_input,
       m.median_ms                                   AS median_ms,
       m.median_ci95_low_ms                          AS median_ci95_low_ms,
       m.median_ci95_high_ms                         AS median_ci95_high_ms,
       m.median_ms / m.batch                         AS ms_per_input,
       m.reached_precision                           AS reached_precision,
       m.joules_per_input                            AS joules_per_input,
       CASE WHEN m.average_w IS NOT NULL AND m.idle_w IS NOT NULL
            THEN MAX(m.average_w - m.idle_w, 0) * m.median_ms / 1000.0 / m.batch
       END                                           AS joules_per_input_above_idle,
       m.average_w                                   AS average_w,
       m.peak_w                                      AS peak_w,
       m.idle_w                                      AS idle_w,
       m.power_null_reason                           AS power_null_reason,
       m.job_id                                      AS job_id
FROM architecture_measurements m
JOIN architectures a ON a.id = m.architecture_id
JOIN devices d ON d.id = m.device_id
JOIN jobs j ON j.id = m.job_id;

-- The active-learning loop's surrogates (docs/design_space.md): per
-- 'design_step' job (a step of one device's loop) and target, the held-out
-- error of a surrogate fitted on four fifths of what the device had
-- measured, normalised by twice the largest measured value (ProTran's
-- rule), and whether the last `patience` steps all stayed under the limit.
-- A target without data (energy on a device without a sensor) has a NULL
-- error and its reason.
CREATE TABLE surrogate_fits (
  id          INTEGER PRIMARY KEY,
  sweep_id    INTEGER REFERENCES sweeps (id),
  job_id      INTEGER NOT NULL REFERENCES jobs (id),
  device_id   INTEGER NOT NULL REFERENCES devices (id),
  step        INTEGER NOT NULL CHECK (step >= 1),
  batch       INTEGER NOT NULL CHECK (batch >= 1),
  target      TEXT    NOT NULL CHECK (target IN ('latency', 'energy', 'peak_power')),
  selection   TEXT    NOT NULL CHECK (selection IN ('uncertainty', 'random')),
  samples     INTEGER NOT NULL CHECK (samples >= 0),
  train       INTEGER,
  test        INTEGER,
  nmse        REAL    CHECK (nmse IS NULL OR nmse >= 0),
  scale       REAL,
  converged   INTEGER NOT NULL CHECK (converged IN (0, 1)),
  null_reason TEXT,
  UNIQUE (job_id, target),
  CHECK ((nmse IS NULL) = (null_reason IS NOT NULL))
) STRICT;

-- The convergence curve: each step's held-out error against the samples
-- it was fitted on. "model" is the loop's selection rule (uncertainty or
-- random), so that the two compare in one query.
CREATE VIEW surrogate_fit_view AS
SELECT f.sweep_id                                    AS sweep_id,
       d.name                                        AS device,
       f.selection                                   AS model,
       f.batch                                       AS batch,
       d.simulated                                   AS simulated,
       f.target                                      AS target,
       f.step                                        AS step,
       f.samples                                     AS samples,
       f.nmse                                        AS nmse,
       f.converged                                   AS converged,
       f.null_reason                                 AS null_reason,
       f.job_id                                      AS job_id
FROM surrogate_fits f
JOIN devices d ON d.id = f.device_id;
