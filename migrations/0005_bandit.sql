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
