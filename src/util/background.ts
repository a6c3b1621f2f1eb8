/** Something with an ExecutionContext, as a Hono context is. */
interface HasExecutionCtx {
  executionCtx: { waitUntil(p: Promise<unknown>): void }
}

/**
 * `ctx.waitUntil` for a Hono context, safe where there is none (`app.request()` in tests): the
 * promise then runs unattended, its rejection swallowed.
 */
export function backgroundRunner(c: HasExecutionCtx): (p: Promise<unknown>) => void {
  return (p) => {
    try {
      c.executionCtx.waitUntil(p)
    } catch {
      p.catch(() => undefined)
    }
  }
}
