/**
 * The "preview as" forms (dashboard, visual editor) ask for a country, not a timezone: the usual
 * zone of a few countries, so "now" means now there. Anything else is UTC unless an hour is given.
 */
export const COUNTRY_TZ: Readonly<Record<string, string>> = {
  DE: 'Europe/Berlin',
  AT: 'Europe/Vienna',
  CH: 'Europe/Zurich',
  FR: 'Europe/Paris',
  IT: 'Europe/Rome',
  ES: 'Europe/Madrid',
  NL: 'Europe/Amsterdam',
  BE: 'Europe/Brussels',
  PL: 'Europe/Warsaw',
  SE: 'Europe/Stockholm',
  GB: 'Europe/London',
  IE: 'Europe/Dublin',
  PT: 'Europe/Lisbon',
  US: 'America/New_York',
  CA: 'America/Toronto',
  BR: 'America/Sao_Paulo',
  MX: 'America/Mexico_City',
  JP: 'Asia/Tokyo',
  IN: 'Asia/Kolkata',
  CN: 'Asia/Shanghai',
  SG: 'Asia/Singapore',
  AU: 'Australia/Sydney',
}
