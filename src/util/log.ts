/**
 * Structured, personal-data-free logging. Callers pass codes, types, lengths and hashes,
 * never cookie values, tokens, IPs or visitor ids (STYLE principle 6).
 */
export type LogFields = Record<string, string | number | boolean | undefined>

export function logWarn(code: string, fields: LogFields = {}): void {
  console.warn(JSON.stringify({ level: 'warn', source: 'veneer', code, ...fields }))
}

export function logError(code: string, err: unknown, fields: LogFields = {}): void {
  const kind = err instanceof Error ? err.name : typeof err
  // The message of a runtime error can quote input (e.g. a selector); it is ours, not a visitor's.
  const message = err instanceof Error ? err.message.slice(0, 200) : undefined
  console.error(JSON.stringify({ level: 'error', source: 'veneer', code, kind, message, ...fields }))
}
