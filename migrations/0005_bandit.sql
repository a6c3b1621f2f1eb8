-- Adaptive allocation (SPEC 14, docs/experiments.md "Bandits"): every set of weights a bandit
-- experiment put in force, from when. Results weight each period and check the sample ratio
-- against these; KV (`bandit:<experimentId>`) only keeps the last few for the Worker.
-- `period_from` is ms since the Unix epoch (a multiple of the experiment's `every` minutes);
-- `weights` is JSON, arm → percent of new visitors.
CREATE TABLE bandit_periods (
  experiment  TEXT    NOT NULL,
  period_from INTEGER NOT NULL,
  weights     TEXT    NOT NULL,
  phase       TEXT    NOT NULL,
  version     INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (experiment, period_from)
);

-- Bandit counts by exposure cohort: per experiment, bucket of `every` minutes in which the
-- visitors were first exposed (ms since the epoch), arm and goal (`''` = the exposure row:
-- visitors; a goal id: those visitors who reached it). A conversion counts in its visitor's
-- exposure bucket, not in the bucket it happened in, so each period's rate is the rate of the
-- visitors that period's weights assigned. Aggregated at the edge like `stats_daily` (kind `bandit`).
CREATE TABLE bandit_counts (
  experiment  TEXT    NOT NULL,
  bucket      INTEGER NOT NULL,
  arm         TEXT    NOT NULL,
  goal        TEXT    NOT NULL,
  visitors    INTEGER NOT NULL DEFAULT 0,
  conversions INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (experiment, goal, arm, bucket)
);
