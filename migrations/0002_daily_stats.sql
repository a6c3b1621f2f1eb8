-- Measurement at scale (SPEC 12, docs/measurement.md "Storage"): sufficient statistics per day,
-- not one row per visitor. The edge counts each visitor once (veneer_visitor remembers it),
-- aggregates in memory and adds whole batches here with one UPSERT per touched row.

-- One row per UTC day × experiment × arm × goal × segment.
--   goal = ''   the exposure row: visitors first exposed that day, and Σx, Σx² of their
--               pre-exposure covariate x (page views before exposure).
--   goal = <id> the goal's row: visitors who first reached the goal that day (conversions),
--               Σvalue and Σvalue² of the per-visitor value total (added incrementally:
--               a visitor's total going from T to T+v adds v and 2Tv+v²), Σx·y with y the
--               0/1 conversion, and Σx·value.
--   segment = '*' all visitors; otherwise one ruleset segment the visitor matched at exposure.
-- Cumulative sums over days up to d are exactly the per-visitor statistics as of the end of d.
CREATE TABLE stats_daily (
  day         TEXT    NOT NULL,
  experiment  TEXT    NOT NULL,
  arm         TEXT    NOT NULL,
  goal        TEXT    NOT NULL,
  segment     TEXT    NOT NULL DEFAULT '*',
  visitors    INTEGER NOT NULL DEFAULT 0,
  conversions INTEGER NOT NULL DEFAULT 0,
  sum_value   REAL    NOT NULL DEFAULT 0,
  sum_value2  REAL    NOT NULL DEFAULT 0,
  sum_x       REAL    NOT NULL DEFAULT 0,
  sum_x2      REAL    NOT NULL DEFAULT 0,
  sum_xy      REAL    NOT NULL DEFAULT 0,
  sum_xv      REAL    NOT NULL DEFAULT 0,
  PRIMARY KEY (experiment, segment, goal, arm, day)
);
CREATE INDEX stats_daily_by_day ON stats_daily (day);

-- Existing per-visitor rows become daily sums (segment '*'). Their covariate is unknown, so
-- x = 0 for them: CUPED then reports no variance reduction for that period, never a wrong one.
INSERT INTO stats_daily (day, experiment, arm, goal, segment, visitors)
  SELECT strftime('%Y-%m-%d', exposed_at / 1000, 'unixepoch'), experiment, variant, '', '*', COUNT(*)
  FROM exposures GROUP BY 1, 2, 3;

INSERT INTO stats_daily (day, experiment, arm, goal, segment, conversions, sum_value, sum_value2)
  SELECT strftime('%Y-%m-%d', converted_at / 1000, 'unixepoch'), experiment, variant, goal, '*', COUNT(*),
         COALESCE(SUM(value), 0), COALESCE(SUM(value * value), 0)
  FROM conversions GROUP BY 1, 2, 3, 4;

-- The served counters were already daily sums (table `served`, migration 0001) and stay as
-- they are; the aggregator now adds to them in batches. The raw tables `exposures` and
-- `conversions` stay for audits: they are written only with settings.measurement.rawEvents and
-- emptied by retention after settings.retentionDays.
