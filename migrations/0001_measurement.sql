-- Measurement store (SPEC 9, docs/measurement.md). Visitor ids are stored only as a keyed
-- hash (HMAC-SHA-256 with VISITOR_SECRET, hex). Times are milliseconds since the Unix epoch, UTC.

-- One row per visitor and experiment: the first variant a consenting visitor was shown.
-- `__holdout__` is the pseudo-experiment of the global holdout (variants holdout / personalized).
CREATE TABLE exposures (
  visitor    TEXT    NOT NULL,
  experiment TEXT    NOT NULL,
  variant    TEXT    NOT NULL,
  placement  TEXT    NOT NULL,
  exposed_at INTEGER NOT NULL,
  UNIQUE (experiment, visitor)
);
-- Attribution looks exposures up by visitor; results count them by experiment and variant.
CREATE INDEX exposures_by_visitor ON exposures (visitor, exposed_at);
CREATE INDEX exposures_by_arm ON exposures (experiment, variant, exposed_at);
CREATE INDEX exposures_by_time ON exposures (exposed_at);

-- One row per visitor, goal and experiment: the first time the visitor reached the goal after
-- being exposed to the experiment. `variant` is copied from the exposure.
CREATE TABLE conversions (
  visitor      TEXT    NOT NULL,
  experiment   TEXT    NOT NULL,
  variant      TEXT    NOT NULL,
  goal         TEXT    NOT NULL,
  converted_at INTEGER NOT NULL,
  value        REAL,
  UNIQUE (experiment, goal, visitor)
);
CREATE INDEX conversions_by_arm ON conversions (experiment, variant, goal);
CREATE INDEX conversions_by_time ON conversions (converted_at);

-- How often each variant of each placement was served to consenting visitors, per UTC day.
-- No visitor data: aggregated counters. `source` is the decision reason (rule, default,
-- experiment, experiment-skipped, holdout).
CREATE TABLE served (
  day       TEXT    NOT NULL,
  placement TEXT    NOT NULL,
  variant   TEXT    NOT NULL,
  source    TEXT    NOT NULL,
  count     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, placement, variant, source)
);
