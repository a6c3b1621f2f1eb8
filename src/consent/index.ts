export {
  consentValue,
  optInApplies,
  parseConsentValue,
  readConsent,
  type ConsentReading,
  type ConsentSource,
  type Purpose,
} from './consent'
export { CONSENT_COOKIE, PROFILE_COOKIE, QA_COOKIE, VENEER_COOKIES, VISITOR_COOKIE } from './cookies'
export { TOKEN_TTL_SECONDS, checkFormToken, formToken } from './csrf'
