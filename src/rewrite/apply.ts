import { logError } from '../util/log'
import type { FilledOp, RewritePlan } from './plan'

function classes(el: Element): string[] {
  return (el.getAttribute('class') ?? '').split(/\s+/).filter((c) => c !== '')
}

function applyOp(el: Element, op: FilledOp): void {
  switch (op.op) {
    case 'setText':
      el.setInnerContent(op.value, { html: false })
      break
    case 'setHtml':
      el.setInnerContent(op.value, { html: true })
      break
    case 'replace':
      el.replace(op.value, { html: true })
      break
    case 'before':
      el.before(op.value, { html: true })
      break
    case 'after':
      el.after(op.value, { html: true })
      break
    case 'prepend':
      el.prepend(op.value, { html: true })
      break
    case 'append':
      el.append(op.value, { html: true })
      break
    case 'remove':
      el.remove()
      break
    case 'setAttr':
      el.setAttribute(op.name, op.value)
      break
    case 'removeAttr':
      el.removeAttribute(op.name)
      break
    case 'addClass': {
      const list = classes(el)
      if (!list.includes(op.className)) el.setAttribute('class', [...list, op.className].join(' '))
      break
    }
    case 'removeClass': {
      const list = classes(el)
      if (list.includes(op.className)) el.setAttribute('class', list.filter((c) => c !== op.className).join(' '))
      break
    }
  }
}

/** Elements that cannot take content (void elements): content ops on them would throw. */
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr'])
const CONTENT_OPS = new Set(['setText', 'setHtml', 'prepend', 'append'])
/** Elements whose content runs: request data (a templated value) never goes inside them. */
const EXECUTING = new Set(['script', 'style'])

/** Markup the edge adds to a page besides the plan, e.g. the QA badge (issue 15). */
export interface RewriteExtras {
  /** HTML appended inside `<body>`, just before `</body>`. */
  bodyEnd?: string
}

/**
 * An HTMLRewriter for a plan. Each handler is synchronous and catches everything: a handler
 * that throws would otherwise cut the response body short with a 200 status (PLATFORM-NOTES).
 */
export function rewriterFor(plan: RewritePlan, extras: RewriteExtras = {}): HTMLRewriter {
  const rewriter = new HTMLRewriter()
  const bodyEnd = extras.bodyEnd
  if (bodyEnd !== undefined) {
    let done = false // a page with a stray second <body> gets one copy
    rewriter.on('body', {
      element(el) {
        try {
          if (done) return
          done = true
          el.append(bodyEnd, { html: true })
        } catch (err) {
          logError('rewrite_handler_failed', err, { selector: 'body' })
        }
      },
    })
  }
  for (const [selector, ops] of plan) {
    // The tag name is a call into the runtime: read only when a content op needs it.
    const readsTag = ops.some((op) => CONTENT_OPS.has(op.op))
    rewriter.on(selector, {
      element(el) {
        try {
          const tag = readsTag ? el.tagName : ''
          const isVoid = VOID.has(tag)
          const executes = EXECUTING.has(tag)
          for (const op of ops) {
            if (isVoid && CONTENT_OPS.has(op.op)) continue
            if (executes && CONTENT_OPS.has(op.op) && 'templated' in op && op.templated === true) continue
            applyOp(el, op)
          }
        } catch (err) {
          logError('rewrite_handler_failed', err, { selector: selector.slice(0, 100) })
        }
      },
    })
  }
  return rewriter
}
