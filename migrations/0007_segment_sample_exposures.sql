-- Segment discovery sample (SPEC 15, docs/segments.md "Proposed segments"): each sampled visitor's
-- running experiments, `[[experiment, arm, [goal converted on…]]…]` (at most 8; no ids, no values,
-- no times), copied from the measurement memory of `veneer_visitor`, so that a proposed segment's
-- per-arm results can be estimated on the sample before it is published. Deleted with its row.
ALTER TABLE segment_sample ADD COLUMN exposures TEXT NOT NULL DEFAULT '[]';
