import type { HeaderReader } from '../http/request-view'
import type { DeviceContext } from './types'

// Self-declared crawlers and link previewers. Command-line tools (curl) and headless browsers
// are not bots here: they are how people test the site, and they should see what visitors see.
const BOT_RE =
  /bot\b|bot\/|crawler|spider|crawling|slurp|bingpreview|facebookexternalhit|embedly|quora link preview|whatsapp|lighthouse|pingdom|uptimerobot/i

/** Strips the quotes of a structured-field string (`"Android"` → `Android`); tolerant of junk. */
function sfString(v: string | null): string | undefined {
  if (v === null) return undefined
  const s = v.trim().replace(/^"|"$/g, '').slice(0, 40)
  return s === '' ? undefined : s
}

const CH_PLATFORMS: Record<string, string> = {
  android: 'android',
  ios: 'ios',
  windows: 'windows',
  macos: 'macos',
  linux: 'linux',
  'chrome os': 'chromeos',
  chromeos: 'chromeos',
}

/** Browser from `Sec-CH-UA` brands, skipping GREASE brands ("Not A;Brand") and engine names. */
function browserFromBrands(header: string | null): string | undefined {
  if (header === null) return undefined
  const brands = header
    .slice(0, 500)
    .split(',')
    .map((part) => /^\s*"([^"]*)"/.exec(part)?.[1]?.toLowerCase())
    .filter((b): b is string => b !== undefined && !/not.?a.?brand/.test(b) && b !== 'chromium')
  const b = brands[0]
  if (b === undefined) return header.toLowerCase().includes('chromium') ? 'chrome' : undefined
  if (b.includes('edge')) return 'edge'
  if (b.includes('opera')) return 'opera'
  if (b.includes('chrome')) return 'chrome'
  return b.replace(/\s+/g, '-')
}

function osFromUa(ua: string): string | undefined {
  if (/iphone|ipad|ipod/i.test(ua)) return 'ios'
  if (/android/i.test(ua)) return 'android'
  if (/windows/i.test(ua)) return 'windows'
  if (/cros/i.test(ua)) return 'chromeos'
  if (/mac os x|macintosh/i.test(ua)) return 'macos'
  if (/linux/i.test(ua)) return 'linux'
  return undefined
}

function browserFromUa(ua: string): string | undefined {
  if (/edg(e|a|ios)?\//i.test(ua)) return 'edge'
  if (/opr\/|opera/i.test(ua)) return 'opera'
  if (/samsungbrowser/i.test(ua)) return 'samsung'
  if (/firefox|fxios/i.test(ua)) return 'firefox'
  if (/chrome|crios|chromium/i.test(ua)) return 'chrome'
  if (/safari/i.test(ua)) return 'safari'
  return undefined
}

function typeFromUa(ua: string): DeviceContext['type'] {
  if (/ipad|tablet|kindle|silk|playbook/i.test(ua) || (/android/i.test(ua) && !/mobile/i.test(ua))) return 'tablet'
  if (/mobi|iphone|ipod|android|blackberry|iemobile|opera mini/i.test(ua)) return 'mobile'
  return 'desktop'
}

/**
 * Device attributes: User-Agent Client Hints first (`Sec-CH-UA-Mobile`, `Sec-CH-UA-Platform`,
 * `Sec-CH-UA`), then the User-Agent string. Hints cannot tell a tablet from a desktop, so a
 * `?0` mobile hint still lets the User-Agent say "tablet".
 */
export function deviceFromHeaders(headers: HeaderReader): DeviceContext {
  const ua = (headers.get('user-agent') ?? '').slice(0, 1000)
  const chMobile = headers.get('sec-ch-ua-mobile')
  const chPlatform = headers.get('sec-ch-ua-platform')
  const chBrands = headers.get('sec-ch-ua')
  // Most visitors share a few hundred browsers: the regular expressions run once per browser.
  const key = `${ua}\n${chMobile ?? ''}\n${chPlatform ?? ''}\n${chBrands ?? ''}`
  const known = devices.get(key)
  if (known !== undefined) return { ...known } // a copy: callers may adjust their context
  const device = parseDevice(ua, chMobile, chPlatform, chBrands)
  if (devices.size >= MAX_DEVICES) devices.clear()
  if (key.length <= 2000) devices.set(key, device)
  return { ...device }
}

/** Parsed devices by their headers, per isolate; cleared when full (the common ones return). */
const devices = new Map<string, DeviceContext>()
const MAX_DEVICES = 512

function parseDevice(
  ua: string,
  chMobileHeader: string | null,
  chPlatformHeader: string | null,
  chBrands: string | null,
): DeviceContext {
  if (BOT_RE.test(ua)) {
    return { type: 'bot', isBot: true, os: osFromUa(ua), browser: browserFromUa(ua) }
  }
  const chMobile = chMobileHeader?.trim()
  const chPlatform = sfString(chPlatformHeader)?.toLowerCase()
  const uaType = typeFromUa(ua)
  let type: DeviceContext['type'] = uaType
  if (chMobile === '?1') type = 'mobile'
  else if (chMobile === '?0') type = uaType === 'tablet' ? 'tablet' : 'desktop'
  const os = (chPlatform !== undefined ? CH_PLATFORMS[chPlatform] : undefined) ?? osFromUa(ua)
  const browser = browserFromBrands(chBrands) ?? browserFromUa(ua)
  return { type, os, browser, isBot: false }
}
