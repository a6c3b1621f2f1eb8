/**
 * The names of Veneer's cookies (SPEC 5). Reading and writing them is src/http/cookies.ts.
 */
export const CONSENT_COOKIE = 'veneer_consent'
export const VISITOR_COOKIE = 'veneer_visitor'
export const PROFILE_COOKIE = 'veneer_profile'
export const QA_COOKIE = 'veneer_qa'

/** Every cookie Veneer reads; "forget me" clears them all. */
export const VENEER_COOKIES = [CONSENT_COOKIE, VISITOR_COOKIE, PROFILE_COOKIE, QA_COOKIE] as const
