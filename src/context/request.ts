import type { RequestContext } from './types'
import { decodedPath } from '../util/path'

const MAX_QUERY_PARAMS = 50
const MAX_VALUE = 500

/** First language tag of `Accept-Language` by quality, lower-cased (`de-DE,de;q=0.9` → `de-de`). */
export function primaryLanguage(header: string | null): string | undefined {
  if (header === null) return undefined
  let best: string | undefined
  let bestQ = -1
  for (const part of header.slice(0, 500).split(',')) {
    const [tag, ...params] = part.trim().split(';')
    if (tag === undefined || !/^[a-z]{1,8}(-[a-z0-9]{1,8})*$/i.test(tag)) continue
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((x) => x !== undefined)
    const qv = q === undefined ? 1 : Number(q)
    if (qv > bestQ) {
      best = tag.toLowerCase()
      bestQ = qv
    }
  }
  return best
}

/** Request attributes: path (decoded), host, query, language, referrer and UTM tags. */
export function requestContext(url: URL, headers: Headers, path: string = decodedPath(url)): RequestContext {
  const query: Record<string, string> = {}
  let n = 0
  for (const [k, v] of url.searchParams) {
    if (n++ >= MAX_QUERY_PARAMS) break
    if (!(k in query)) query[k] = v.slice(0, MAX_VALUE)
  }
  const referrer = headers.get('referer') ?? undefined
  let referrerHost: string | undefined
  if (referrer !== undefined) {
    try {
      referrerHost = new URL(referrer).hostname || undefined
    } catch {
      referrerHost = undefined
    }
  }
  return {
    path,
    host: url.hostname,
    query,
    language: primaryLanguage(headers.get('accept-language')),
    referrer: referrer?.slice(0, 1000),
    referrerHost,
    utm: {
      source: query.utm_source,
      medium: query.utm_medium,
      campaign: query.utm_campaign,
      term: query.utm_term,
      content: query.utm_content,
    },
  }
}
