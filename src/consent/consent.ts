import type { HeaderReader } from '../http/request-view'
import { EU_COUNTRIES } from '../context/geo'
import type { ConsentContext } from '../context/types'
import type { SettingsDoc } from '../rules/schema'
import { readCookie } from '../http/cookies'
import { CONSENT_COOKIE } from './cookies'

export type Purpose = 'personalization' | 'analytics'

/** Where a visitor's consent came from, for the preference center. */
export type ConsentSource =
  | 'cookie' // an explicit choice in `veneer_consent` (the site's CMP or the preference center)
  | 'gpc' // no explicit choice and `Sec-GPC: 1`: refused
  | 'opt-in' // no explicit choice, opt-in applies here: nothing granted
  | 'opt-out' // no explicit choice, opt-out applies here: granted

export interface ConsentReading extends ConsentContext {
  source: ConsentSource
  /** The opt-in regime applies to this visitor (settings default or `optInCountries`). */
  optInHere: boolean
}

/**
 * Parses a `veneer_consent` value: `personalization`, `analytics` or both, comma-separated,
 * or `none`. Unknown words are ignored; a value with no known word is no choice at all
 * (undefined), so a mangled cookie never counts as a grant or a refusal.
 */
export function parseConsentValue(value: string | undefined): Set<Purpose> | undefined {
  if (value === undefined) return undefined
  const granted = new Set<Purpose>()
  let known = false
  for (const word of value.split(',')) {
    const w = word.trim().toLowerCase()
    if (w === 'none') known = true
    else if (w === 'personalization' || w === 'analytics') {
      known = true
      granted.add(w)
    }
  }
  return known ? granted : undefined
}

/** The `veneer_consent` value for a set of granted purposes (`none` when empty). */
export function consentValue(granted: { personalization: boolean; analytics: boolean }): string {
  const words = [granted.personalization ? 'personalization' : '', granted.analytics ? 'analytics' : ''].filter((w) => w !== '')
  return words.length === 0 ? 'none' : words.join(',')
}

/** Whether opt-in applies in `country` under these settings (`EU` = every EU member state). */
export function optInApplies(settings: SettingsDoc, country: string | undefined): boolean {
  if (settings.consent.default === 'opt-in') return true
  if (country === undefined) return false
  return settings.consent.optInCountries.some((c) => c === country || (c === 'EU' && EU_COUNTRIES.has(country)))
}

/**
 * The visitor's consent (SPEC 5): an explicit `veneer_consent` choice wins; without one,
 * `Sec-GPC: 1` refuses both purposes, opt-in grants nothing and opt-out grants both.
 */
export function readConsent(headers: HeaderReader, settings: SettingsDoc, country: string | undefined): ConsentReading {
  const gpc = headers.get('sec-gpc')?.trim() === '1' // other values mean no signal
  const optInHere = optInApplies(settings, country)
  const explicit = parseConsentValue(readCookie(headers.get('cookie'), CONSENT_COOKIE))
  if (explicit !== undefined) {
    return {
      personalization: explicit.has('personalization'),
      analytics: explicit.has('analytics'),
      gpc,
      source: 'cookie',
      optInHere,
    }
  }
  if (gpc) return { personalization: false, analytics: false, gpc, source: 'gpc', optInHere }
  const granted = !optInHere
  return { personalization: granted, analytics: granted, gpc, source: optInHere ? 'opt-in' : 'opt-out', optInHere }
}
