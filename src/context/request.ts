import type { HeaderReader } from '../http/request-view'
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

/**
 * Request attributes: path (decoded), host, query, language, referrer and UTM tags. Query,
 * language and referrer are read on first use (getters in the literal, memoised): most
 * rulesets look at few of them, and every page view would otherwise pay for all. There are no
 * setters (each accessor costs ~0.3 µs to build): whoever adjusts a request context (the QA
 * simulation, `explain`) adjusts a plain copy, `{ ...ctx.request }`.
 */
export function requestContext(url: URL, headers: HeaderReader, path: string = decodedPath(url)): RequestContext {
  let query: Record<string, string> | undefined
  let utm: RequestContext['utm'] | undefined
  let language: { value: string | undefined } | undefined
  let referrer: { value: string | undefined; host: string | undefined } | undefined
  const queryOf = () => {
    query ??= queryParams(url)
    return query
  }
  const referrerOf = () => {
    referrer ??= referrerParts(headers.get('referer') ?? undefined)
    return referrer
  }
  return {
    path,
    host: url.hostname,
    get query() {
      return queryOf()
    },
    get language() {
      language ??= { value: primaryLanguage(headers.get('accept-language')) }
      return language.value
    },
    get referrer() {
      return referrerOf().value
    },
    get referrerHost() {
      return referrerOf().host
    },
    get utm() {
      if (utm === undefined) {
        const q = queryOf()
        utm = { source: q.utm_source, medium: q.utm_medium, campaign: q.utm_campaign, term: q.utm_term, content: q.utm_content }
      }
      return utm
    },
  }
}

function queryParams(url: URL): Record<string, string> {
  const query: Record<string, string> = {}
  if (url.search === '') return query
  let n = 0
  for (const [k, v] of url.searchParams) {
    if (n++ >= MAX_QUERY_PARAMS) break
    if (!(k in query)) query[k] = v.slice(0, MAX_VALUE)
  }
  return query
}

function referrerParts(referrer: string | undefined): { value: string | undefined; host: string | undefined } {
  let host: string | undefined
  if (referrer !== undefined) {
    try {
      host = new URL(referrer).hostname || undefined
    } catch {
      host = undefined
    }
  }
  return { value: referrer?.slice(0, 1000), host }
}
