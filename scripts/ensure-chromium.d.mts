export function chromiumPath(): string
export function ensureChromium(options?: {
  log?: (s: string) => void
  path?: string
  aptGet?: string
  root?: boolean
  custom?: boolean
}): { ok: true; path: string; installed: boolean } | { ok: false; path: string; message: string }
