/** Something with an ExecutionContext, as a Hono context is. */
interface HasExecutionCtx {
  executionCtx: { waitUntil(p: Promise<unknown>): void }
}

/**
 * `ctx.waitUntil`, safe where there is none (`app.request()` in tests, where Hono's
 * `executionCtx` throws): the promise then runs unattended, its rejection swallowed.
 */
function runner(context: () => { waitUntil(p: Promise<unknown>): void }): (p: Promise<unknown>) => void {
  return (p) => {
    try {
      context().waitUntil(p)
    } catch {
      p.catch(() => undefined)
    }
  }
}

/** The background runner of a Hono context. */
export function backgroundRunner(c: HasExecutionCtx): (p: Promise<unknown>) => void {
  return runner(() => c.executionCtx)
}

/** The background runner of a Worker's `ExecutionContext`, which may be absent. */
export function waitUntilOf(ctx: ExecutionContext | undefined): (p: Promise<unknown>) => void {
  return runner(() => {
    if (ctx === undefined) throw new Error('no execution context')
    return ctx
  })
}
