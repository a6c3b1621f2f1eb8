/** Resolves `undefined` after `ms`; the timer is cleared by the returned `cancel`. */
export function timeout(ms: number): { promise: Promise<undefined>; cancel: () => void } {
  let id: ReturnType<typeof setTimeout> | null = null
  const promise = new Promise<undefined>((resolve) => {
    id = setTimeout(() => resolve(undefined), ms)
  })
  return {
    promise,
    cancel: () => {
      if (id !== null) clearTimeout(id)
    },
  }
}

/** Milliseconds with sub-ms precision where the runtime gives it (workerd coarsens it). */
export function now(): number {
  return performance.now()
}
