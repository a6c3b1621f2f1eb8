-- Segment discovery sample (SPEC 15, docs/segments.md): per UTC day at most a fixed number of
-- feature vectors of consenting visitors, with no id. `row` is a JSON object of attribute → value
-- (numbers, and `device.type` / `geo.continent` strings). Deleted after settings.retentionDays.
CREATE TABLE segment_sample (
  day  TEXT    NOT NULL,
  slot INTEGER NOT NULL,
  row  TEXT    NOT NULL,
  PRIMARY KEY (day, slot)
);

-- How many visitors were offered to the sample per day: the reservoir's stream position.
CREATE TABLE segment_sample_days (
  day     TEXT    PRIMARY KEY,
  offered INTEGER NOT NULL DEFAULT 0
);
