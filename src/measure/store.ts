/** `YYYY-MM-DD` of a millisecond timestamp, in UTC: the day measurement rows are kept by. */
export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10)
}
