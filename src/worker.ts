import { createApp } from './app'
import type { Env } from './env'

const app = createApp()

/** The Worker entry: a thin shell around the app (SPEC 1). */
export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>
