/**
 * The visitor context rules are evaluated against (SPEC 4.2). Attribute paths in conditions
 * (`geo.country`, `behavior.views.product`, `request.query.ref`) walk this object.
 * Missing data is `undefined`, never a guessed default, so the missing-attribute rule holds.
 */
export interface GeoContext {
  country?: string
  region?: string
  regionCode?: string
  city?: string
  continent?: string
  postalCode?: string
  timezone?: string
  isEU?: boolean
  latitude?: number
  longitude?: number
}

export type DeviceType = 'mobile' | 'tablet' | 'desktop' | 'bot'

export interface DeviceContext {
  type: DeviceType
  os?: string
  browser?: string
  isBot: boolean
}

export interface TimeContext {
  hour: number
  minute: number
  dayOfWeek: 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun'
  date: string
  iso: string
}

export interface RequestContext {
  path: string
  host: string
  query: Record<string, string>
  language?: string
  referrer?: string
  referrerHost?: string
  utm: { source?: string; medium?: string; campaign?: string; term?: string; content?: string }
}

export interface ConsentContext {
  personalization: boolean
  analytics: boolean
  gpc: boolean
}

export interface VisitorContext {
  /** Never rendered into a page: placeholders refuse `visitor.id`. */
  id: string
  isNew: boolean
  sessions: number
  firstSeen: string
}

export interface BehaviorContext {
  pageViews: number
  views: Record<string, number>
  cartAdds: number
  purchases: number
  lastEvent?: string
}

export interface VisitorState {
  consent: ConsentContext
  visitor?: VisitorContext
  behavior?: BehaviorContext
  profile?: Record<string, unknown>
  /**
   * Sticky experiment assignments (experiment id → variant id) kept in `veneer_visitor`.
   * Not a context attribute: rules cannot see it, `decide` reads it through its hooks.
   */
  assignments?: Record<string, string>
  /** Recent and purchased item ids from `veneer_visitor`, most recent last (SPEC 13). */
  items?: { recent: string[]; purchased: string[]; shown?: [string, 0 | 1][] }
}

export interface Context extends VisitorState {
  geo: GeoContext
  device: DeviceContext
  time: TimeContext
  request: RequestContext
  /** Ids of the segments matched so far, in document order; filled by `decide`. */
  segments: string[]
}

/** The parts of a Context that come from the request alone (no cookies, no consent). */
export type ContextualContext = Pick<Context, 'geo' | 'device' | 'time' | 'request'>
