/**
 * The aggregate kinds this Worker produces and consumes (src/measure/aggregate.ts). Importing
 * this module registers them; add a kind with one line.
 */
import { coocKind, recsServedKind } from '../recs/counts'
import { banditKind } from '../bandit/row'
import { registerKind } from './aggregate'
import { rawKind } from './raw-row'
import { servedKind } from './served-row'
import { statsKind } from './stats-row'
import { sampleKind } from '../segments/sample'

registerKind(statsKind)
registerKind(servedKind)
registerKind(rawKind)
registerKind(coocKind)
registerKind(recsServedKind)
registerKind(banditKind)
registerKind(sampleKind)
