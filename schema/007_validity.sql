-- 007: what a schedule and a match were computed from (docs/sweeps.md,
-- "What schedules and matches trust"). A schedule uses every point of its
-- curve, and says how many did not reach their precision or were unstable,
-- and whether the point at n* reached it; a match says whether POMT's and
-- the chosen method's latencies reached theirs. Rows from before hold NULL.
ALTER TABLE schedules ADD COLUMN curve_points INTEGER
  CHECK (curve_points IS NULL OR curve_points >= 0);
ALTER TABLE schedules ADD COLUMN curve_points_below_precision INTEGER
  CHECK (curve_points_below_precision IS NULL
         OR curve_points_below_precision BETWEEN 0 AND curve_points);
ALTER TABLE schedules ADD COLUMN curve_points_unstable INTEGER
  CHECK (curve_points_unstable IS NULL OR curve_points_unstable BETWEEN 0 AND curve_points);
ALTER TABLE schedules ADD COLUMN n_star_reached_precision INTEGER
  CHECK (n_star_reached_precision IS NULL OR n_star_reached_precision IN (0, 1));

ALTER TABLE matched_baselines ADD COLUMN target_reached_precision INTEGER
  CHECK (target_reached_precision IS NULL OR target_reached_precision IN (0, 1));
ALTER TABLE matched_baselines ADD COLUMN reached_precision INTEGER
  CHECK (reached_precision IS NULL OR reached_precision IN (0, 1));
