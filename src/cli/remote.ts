// The admin API client: `--url` (or VENEER_URL) and the bearer token from VENEER_ADMIN_TOKEN.
import { CliError, EXIT, type Flags, readDevVars, str } from './io'

const DEFAULT_URL = 'http://localhost:8787'

export interface RemoteTarget {
  base: string
  token: string
}

/** The Worker's base URL and admin token; a local URL may fall back to `.dev.vars` ADMIN_TOKEN. */
export function remoteTarget(flags: Flags): RemoteTarget {
  const raw = str(flags, 'url') ?? process.env.VENEER_URL ?? DEFAULT_URL
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new CliError(EXIT.USAGE, `--url is not a URL: ${raw}`)
  }
  let token = process.env.VENEER_ADMIN_TOKEN
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)
  if ((token === undefined || token === '') && local) token = readDevVars().ADMIN_TOKEN
  if (token === undefined || token === '') {
    throw new CliError(
      EXIT.USAGE,
      "set VENEER_ADMIN_TOKEN to the Worker's ADMIN_TOKEN (for a local Worker, .dev.vars is read too)",
    )
  }
  return { base: url.origin + url.pathname.replace(/\/+$/, ''), token }
}

function issuesText(details: unknown): string {
  if (!Array.isArray(details)) return typeof details === 'string' ? `  ${details}` : `  ${JSON.stringify(details)}`
  return details
    .map((i: unknown) => {
      const { path, message } = (typeof i === 'object' && i !== null ? i : {}) as { path?: unknown; message?: unknown }
      return `  ${path === '' || typeof path !== 'string' ? '(root)' : path}: ${String(message)}`
    })
    .join('\n')
}

interface CallOptions {
  raw?: boolean
  headers?: Record<string, string>
}

function causeCode(err: unknown): string {
  const cause = err instanceof Error ? (err as { cause?: unknown }).cause : undefined
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err)
}

/**
 * Calls the admin API; returns the parsed JSON (or, with `raw`, the text) of a 2xx answer. Errors:
 * 400/404/405/409/413/422 are the user's input (exit 1, with every issue and its path); 401, 5xx
 * and network faults exit 2.
 */
export async function callApi(
  target: RemoteTarget,
  method: string,
  path: string,
  body?: unknown,
  { raw = false, headers = {} }: CallOptions = {},
): Promise<unknown> {
  let res: Response
  try {
    res = await fetch(`${target.base}/__veneer/api${path}`, {
      method,
      headers: {
        authorization: `Bearer ${target.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    })
  } catch (err) {
    throw new CliError(EXIT.REMOTE, `cannot reach ${target.base}: ${causeCode(err)}`)
  }
  const text = await res.text()
  if (res.ok) {
    if (raw) return text
    try {
      return JSON.parse(text) as unknown
    } catch {
      throw new CliError(EXIT.REMOTE, `${target.base} answered ${res.status} with something that is not JSON`)
    }
  }
  let err: { error?: unknown; details?: unknown }
  try {
    const parsed: unknown = JSON.parse(text)
    err = typeof parsed === 'object' && parsed !== null ? parsed : { details: parsed }
  } catch {
    err = { error: `http_${res.status}`, details: text.slice(0, 200) }
  }
  if (res.status === 401) throw new CliError(EXIT.REMOTE, 'the admin token was refused (401): check VENEER_ADMIN_TOKEN')
  if (res.status === 503 && err.error === 'admin_disabled')
    throw new CliError(EXIT.REMOTE, 'the admin API is off on this Worker: ADMIN_TOKEN is not set there')
  const code = [400, 404, 405, 409, 413, 422].includes(res.status) ? EXIT.INVALID : EXIT.REMOTE
  throw new CliError(
    code,
    `${method} ${path} failed: ${res.status} ${typeof err.error === 'string' ? err.error : ''}\n${issuesText(err.details)}`,
  )
}

/** A field of an API answer, when it is a string. */
export function field(obj: unknown, name: string): string | undefined {
  const v = typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[name] : undefined
  return typeof v === 'string' ? v : undefined
}
