/** A URL's path, percent-decoded (`/caf%C3%A9` → `/café`); malformed escapes keep the raw path. */
export function decodedPath(url: string | URL): string {
  const pathname = typeof url === 'string' ? new URL(url).pathname : url.pathname
  try {
    return decodeURIComponent(pathname)
  } catch {
    return pathname
  }
}
