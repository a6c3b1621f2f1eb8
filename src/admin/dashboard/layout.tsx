/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import { raw } from 'hono/html'
import type { Child } from 'hono/jsx'

// Mobile first: one column, full-width controls; two columns from 900px. No scripts at all.
const CSS = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c1c1c;background:#f4f5f7}
header.top{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;padding:.75rem 1rem;background:#14213d;color:#fff}
header.top h1{font-size:1.1rem;margin:0}
header.top .ver{font-family:ui-monospace,monospace;font-size:.85rem;background:#fca311;color:#14213d;padding:.1rem .45rem;border-radius:4px}
main{max-width:1200px;margin:0 auto;padding:.75rem}
.grid{display:grid;gap:.75rem}
@media(min-width:900px){.grid{grid-template-columns:1fr 1fr}.wide{grid-column:1/-1}}
.card{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:.75rem 1rem;min-width:0}
.card h2{font-size:1.05rem;margin:.1rem 0 .6rem}
h3{font-size:.98rem;margin:.8rem 0 .3rem}
h4{font-size:.9rem;margin:.8rem 0 .3rem}
label{display:block;font-size:.85rem;font-weight:600;margin:.5rem 0 .2rem}
input,select,textarea,button{font:inherit;max-width:100%}
input[type=text],input[type=number],input[type=password],select,textarea{width:100%;padding:.5rem;border:1px solid #b8bec6;border-radius:6px;background:#fff}
textarea{font-family:ui-monospace,Menlo,monospace;font-size:13px}
textarea.doc{min-height:18rem}
.row{display:grid;grid-template-columns:repeat(auto-fit,minmax(8.5rem,1fr));gap:0 .6rem}
button{padding:.5rem .9rem;border-radius:6px;border:1px solid #14213d;background:#14213d;color:#fff;cursor:pointer;min-height:2.5rem}
button.secondary{background:#fff;color:#14213d}
button.small{min-height:2rem;padding:.2rem .6rem;font-size:.85rem}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.6rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.88rem}
th,td{text-align:left;padding:.35rem .45rem;border-bottom:1px solid #e6e8eb;vertical-align:top}
code,.mono{font-family:ui-monospace,Menlo,monospace;font-size:.85em;word-break:break-word}
.chip{display:inline-block;padding:.05rem .45rem;margin:.1rem .15rem .1rem 0;border-radius:999px;background:#e8eefc;font-size:.8rem}
.chip.on{background:#1f6feb;color:#fff}
.muted{color:#66707a;font-size:.88rem}
.error{color:#a8071a;background:#fff1f0;border:1px solid #ffccc7;border-radius:6px;padding:.5rem .7rem}
.ok{color:#135200;background:#f6ffed;border:1px solid #b7eb8f;border-radius:6px;padding:.5rem .7rem}
.warn{color:#874d00;background:#fffbe6;border:1px solid #ffe58f;border-radius:6px;padding:.5rem .7rem}
ul.issues{margin:.3rem 0;padding-left:1.2rem}
details{margin:.35rem 0}
summary{cursor:pointer;font-weight:600}
.chart{width:100%;height:auto;max-width:640px;display:block}
.legend span{margin-right:.8rem;font-size:.85rem}
.legend i{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.3rem;vertical-align:-1px}
.login{max-width:26rem;margin:12vh auto}
`

/** Standards mode in every browser: JSX cannot write a doctype, so every page shell starts with this. */
export const DOCTYPE = raw('<!doctype html>')

/** The HTML shell of every dashboard page. */
export function Layout({ title, children }: { title: string; children: Child }) {
  return (
    <>
      {DOCTYPE}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="robots" content="noindex" />
          <title>{title}</title>
          <style>{raw(CSS)}</style>
        </head>
        <body>{children}</body>
      </html>
    </>
  )
}

/** The login form: the admin token, posted to the same origin. */
export function LoginPage({ error }: { error?: string }) {
  return (
    <Layout title="Veneer admin: log in">
      <main>
        <form class="card login" method="post" action="/__veneer/admin/login">
          <h2>Veneer admin</h2>
          <p class="muted">Log in with the Worker's ADMIN_TOKEN. The session lasts 8 hours.</p>
          {error === undefined ? null : (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <label for="token">Admin token</label>
          <input id="token" name="token" type="password" autocomplete="current-password" required />
          <div class="actions">
            <button type="submit">Log in</button>
          </div>
        </form>
      </main>
    </Layout>
  )
}

/** A whole page for a state without a dashboard (admin off, bad request). */
export function MessagePage({ title, message }: { title: string; message: string }) {
  return (
    <Layout title={title}>
      <main>
        <div class="card login">
          <h2>{title}</h2>
          <p>{message}</p>
        </div>
      </main>
    </Layout>
  )
}
