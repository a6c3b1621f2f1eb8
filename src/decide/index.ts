export { decide, matchSegments } from './decide'
export type * from './types'
