import type { Env } from './env'
import { veneer } from './veneer'

/**
 * The Worker entry: Veneer in front of `ORIGIN_URL` (or the bundled demo shop), with the `EVENTS`
 * queue consumer and the scheduled jobs (src/jobs.ts). Embedders write the same line.
 */
export default veneer() satisfies ExportedHandler<Env>
