import { EU_COUNTRIES } from '../context/geo'
import type { ContextualContext, VisitorState } from '../context/types'
import type { Decision } from '../decide/types'
import type { Env } from '../env'
import type { SettingsDoc } from '../rules/schema'

/**
 * SEAM (issue 3, consent and identity): what Veneer may know about this visitor, read from
 * `veneer_consent`, `veneer_visitor` and `veneer_profile`. Until that layer lands every visitor
 * is treated as having no Veneer cookies: consent comes from the settings' default alone.
 */
export async function readVisitorState(
  _request: Request,
  _env: Env,
  settings: SettingsDoc,
  contextual: ContextualContext,
): Promise<VisitorState> {
  const country = contextual.geo.country
  const optInHere =
    country !== undefined &&
    settings.consent.optInCountries.some((c) => c === country || (c === 'EU' && EU_COUNTRIES.has(country)))
  const granted = settings.consent.default === 'opt-out' && !optInHere
  return { consent: { personalization: granted, analytics: granted, gpc: false } }
}

/**
 * SEAM (issue 3): the `Set-Cookie` values Veneer adds to a page response after the decision
 * (the refreshed `veneer_visitor`), only as consent allows. None until that layer lands.
 */
export async function visitorCookies(
  _request: Request,
  _env: Env,
  _settings: SettingsDoc,
  _state: VisitorState,
  _decision: Decision | undefined,
): Promise<string[]> {
  return []
}
