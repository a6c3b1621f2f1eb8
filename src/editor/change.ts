import { selectorProblem } from '../rules/selector'

/** The operations the editor offers (SPEC 4.3), each with what it needs. */
export const EDITOR_OPS = {
  setText: 'value',
  setHtml: 'value',
  setAttr: 'name+value',
  removeAttr: 'name',
  addClass: 'value',
  removeClass: 'value',
  remove: 'nothing',
  before: 'value',
  after: 'value',
  replace: 'value',
  prepend: 'value',
  append: 'value',
} as const
export type EditorOp = keyof typeof EDITOR_OPS

/** The value meaning "a new placement" in the editor's placement choice. */
export const NEW_PLACEMENT = '__new'
const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/

/** One change made in the editor: an operation on an element, saved as a variant of a placement. */
export interface EditorChange {
  /** The page the element was picked on; a new placement covers this path. */
  path: string
  selector: string
  op: EditorOp
  name?: string
  value?: string
  /** An existing placement id, or a new one. */
  placement: { existing: string } | { create: string }
  variant: string
  /** Who gets the variant: everyone, or the visitors of a segment. */
  audience: { everyone: true } | { segment: string }
  /** When set, the variant is tested against control, 50/50, in an experiment of this id. */
  experiment?: string
}

function text(form: Record<string, unknown>, name: string, max: number): string {
  const v = form[name]
  return typeof v === 'string' ? v.slice(0, max) : ''
}

/**
 * Reads the editor's save form. Every problem is reported, in words a user can act on.
 */
export function parseChangeForm(
  form: Record<string, unknown>,
): { ok: true; change: EditorChange } | { ok: false; errors: string[] } {
  const errors: string[] = []
  const path = text(form, 'path', 1000).trim()
  if (!path.startsWith('/') || path.startsWith('//')) errors.push('The page path must start with "/".')
  const selector = text(form, 'selector', 600).trim()
  const problem = selector === '' ? 'pick an element in the page first' : selectorProblem(selector)
  if (problem !== undefined) errors.push(`Selector: ${problem}.`)
  const opName = text(form, 'op', 20)
  const op = Object.hasOwn(EDITOR_OPS, opName) ? (opName as EditorOp) : undefined
  if (op === undefined) errors.push('Choose an operation.')
  const needs = op === undefined ? 'nothing' : EDITOR_OPS[op]
  const name = text(form, 'name', 200).trim()
  const value = text(form, 'value', 100_000)
  if (needs.includes('name') && !/^[A-Za-z_:][A-Za-z0-9_.:-]*$/.test(name)) errors.push('Give a valid attribute name.')
  if ((op === 'addClass' || op === 'removeClass') && !/^[^\s"'<>]+$/.test(value.trim()))
    errors.push('Give one class name, without spaces.')
  const placementField = text(form, 'placement', 200)
  const created = text(form, 'newPlacement', 200).trim()
  const placement: EditorChange['placement'] | undefined =
    placementField === NEW_PLACEMENT ? { create: created } : placementField === '' ? undefined : { existing: placementField }
  if (placement === undefined) errors.push('Choose a placement, or a new one.')
  else if ('create' in placement && !ID.test(placement.create))
    errors.push('Name the new placement: letters, digits, "-", "_", "." or ":".')
  const variant = text(form, 'variant', 200).trim()
  if (!ID.test(variant) || variant === 'control')
    errors.push('Name the variant: letters, digits, "-", "_", "." or ":" ("control" is reserved).')
  const audienceField = text(form, 'audience', 200)
  const audience = audienceField.startsWith('segment:')
    ? { segment: audienceField.slice('segment:'.length) }
    : audienceField === 'everyone'
      ? ({ everyone: true } as const)
      : undefined
  if (audience === undefined) errors.push('Choose who sees the variant.')
  const experiment = text(form, 'experiment', 200).trim()
  if (form.asExperiment !== undefined && form.asExperiment !== '' && !ID.test(experiment))
    errors.push('Name the experiment: letters, digits, "-", "_", "." or ":".')
  if (errors.length > 0 || op === undefined || placement === undefined || audience === undefined) return { ok: false, errors }
  const change: EditorChange = { path, selector, op, placement, variant, audience }
  if (needs.includes('name')) change.name = name
  if (needs.includes('value')) change.value = op === 'addClass' || op === 'removeClass' ? value.trim() : value
  if (form.asExperiment !== undefined && form.asExperiment !== '') change.experiment = experiment
  return { ok: true, change }
}

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Adds the change to a ruleset document (a copy; the input is not touched). The variant is added
 * to the placement (or replaces the ops of the variant of that id there), and a rule for it is
 * put first, so it wins over the placement's other rules for its audience; an "everyone" rule
 * without an experiment goes last instead, so it only catches who no other rule matched. The
 * operation names its own selector when it is not the placement's. Returns the new document and
 * a one-line summary, or the reasons it cannot be applied. The caller validates the result.
 */
export function applyChange(
  doc: Json,
  change: EditorChange,
): { ok: true; doc: Json; summary: string } | { ok: false; errors: string[] } {
  const next = structuredClone(doc)
  const placements = Array.isArray(next.placements) ? (next.placements as unknown[]) : (next.placements = [])
  const segments = Array.isArray(next.segments) ? (next.segments as unknown[]) : []
  if ('segment' in change.audience) {
    const id = change.audience.segment
    if (!segments.some((s) => isObject(s) && s.id === id)) return { ok: false, errors: [`There is no segment "${id}".`] }
  }
  let placement: Json
  if ('create' in change.placement) {
    const id = change.placement.create
    if (placements.some((p) => isObject(p) && p.id === id))
      return { ok: false, errors: [`A placement "${id}" exists already; choose it instead, or another name.`] }
    placement = { id, paths: [change.path], selector: change.selector, variants: [], rules: [] }
    placements.push(placement)
  } else {
    const id = change.placement.existing
    const found = placements.find((p): p is Json => isObject(p) && p.id === id)
    if (found === undefined) return { ok: false, errors: [`There is no placement "${id}".`] }
    placement = found
  }
  const op: Json = { op: change.op }
  if (change.name !== undefined) op.name = change.name
  if (change.value !== undefined) op.value = change.value
  if (placement.selector !== change.selector) op.selector = change.selector

  const variants = Array.isArray(placement.variants) ? (placement.variants as unknown[]) : (placement.variants = [])
  const existing = variants.find((v): v is Json => isObject(v) && v.id === change.variant)
  if (existing !== undefined) existing.ops = [op]
  else variants.push({ id: change.variant, ops: [op] })

  const rules = Array.isArray(placement.rules) ? (placement.rules as unknown[]) : (placement.rules = [])
  const rule: Json = 'segment' in change.audience ? { segment: change.audience.segment } : {}
  if (change.experiment !== undefined) rule.experiment = { id: change.experiment, split: { control: 50, [change.variant]: 50 } }
  else rule.variant = change.variant
  const same = (r: unknown) => JSON.stringify(r) === JSON.stringify(rule)
  if (!rules.some(same)) {
    if ('everyone' in change.audience && change.experiment === undefined) rules.push(rule)
    else rules.unshift(rule)
  }
  const who = 'segment' in change.audience ? `segment ${change.audience.segment}` : 'everyone'
  const how = change.experiment === undefined ? '' : ` in experiment ${change.experiment} (50/50 with control)`
  const summary = `${String(placement.id)}: ${existing === undefined ? 'new' : 'changed'} variant ${change.variant} (${change.op} on ${change.selector}) for ${who}${how}`
  return { ok: true, doc: next, summary }
}
