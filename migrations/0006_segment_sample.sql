-- Segment discovery sample (SPEC 15, docs/segments.md): per UTC day at most a fixed number of
-- slots, each holding the feature vector of one consenting visitor, with no id. Each offered
-- visitor draws a random slot and a random priority; a slot keeps the lowest priority, so every
-- visitor of the day has the same chance to be kept. `row` is a JSON object of attribute → value
-- (numbers, and `device.type` / `geo.continent` strings). Deleted after settings.retentionDays.
CREATE TABLE segment_sample (
  day      TEXT    NOT NULL,
  slot     INTEGER NOT NULL,
  priority REAL    NOT NULL,
  row      TEXT    NOT NULL,
  PRIMARY KEY (day, slot)
);
