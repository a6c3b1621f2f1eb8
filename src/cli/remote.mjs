// The admin API client: `--url` (or VENEER_URL) and the bearer token from VENEER_ADMIN_TOKEN.
import { CliError, EXIT, readDevVars } from './env.mjs'

const DEFAULT_URL = 'http://localhost:8787'

/** The Worker's base URL and admin token; a local URL may fall back to `.dev.vars` ADMIN_TOKEN. */
export function remoteTarget(flags) {
  const raw = flags.url ?? process.env.VENEER_URL ?? DEFAULT_URL
  let url
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

function issuesText(details) {
  if (!Array.isArray(details)) return typeof details === 'string' ? `  ${details}` : `  ${JSON.stringify(details)}`
  return details.map((i) => `  ${i.path === '' || i.path === undefined ? '(root)' : i.path}: ${i.message}`).join('\n')
}

/**
 * Calls the admin API; returns the parsed JSON (or text) of a 2xx answer. Errors: 400/404/413/422
 * are the user's input (exit 1, with every issue and its path); 401, 5xx and network faults exit 2.
 */
export async function callApi(target, method, path, body, { raw = false, headers = {} } = {}) {
  let res
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
    throw new CliError(EXIT.REMOTE, `cannot reach ${target.base}: ${err.cause?.code ?? err.message}`)
  }
  const text = await res.text()
  if (res.ok) {
    if (raw) return text
    try {
      return JSON.parse(text)
    } catch {
      throw new CliError(EXIT.REMOTE, `${target.base} answered ${res.status} with something that is not JSON`)
    }
  }
  let err
  try {
    err = JSON.parse(text)
  } catch {
    err = { error: `http_${res.status}`, details: text.slice(0, 200) }
  }
  if (res.status === 401) throw new CliError(EXIT.REMOTE, `the admin token was refused (401): check VENEER_ADMIN_TOKEN`)
  if (res.status === 503 && err.error === 'admin_disabled')
    throw new CliError(EXIT.REMOTE, 'the admin API is off on this Worker: ADMIN_TOKEN is not set there')
  const code = [400, 404, 405, 409, 413, 422].includes(res.status) ? EXIT.INVALID : EXIT.REMOTE
  throw new CliError(code, `${method} ${path} failed: ${res.status} ${err.error ?? ''}\n${issuesText(err.details)}`)
}
