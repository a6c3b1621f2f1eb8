-- Recommendations counters (SPEC 13, docs/recommendations.md). No visitor data: per UTC day,
-- how often an item was viewed (`kind` = 'view') or added to a cart / bought ('buy'), with
-- `b` = '', and how often two items were seen by the same visitor (`a` < `b`). Written by the
-- in-isolate aggregator, one upsert per touched row per flush; read by the scheduled model build.
CREATE TABLE recs_counts (
  day   TEXT    NOT NULL,
  kind  TEXT    NOT NULL,
  a     TEXT    NOT NULL,
  b     TEXT    NOT NULL DEFAULT '',
  count INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, kind, a, b)
);

-- Recommendation slots shown to consenting visitors, per UTC day, placement and strategy:
-- `slot` = 'top' (the strategy's ranking) or 'explore' (drawn from outside it), so the cost and
-- value of exploration can be read next to the views and cart adds it leads to.
CREATE TABLE recs_served (
  day       TEXT    NOT NULL,
  placement TEXT    NOT NULL,
  strategy  TEXT    NOT NULL,
  slot      TEXT    NOT NULL,
  count     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, placement, strategy, slot)
);
