import { Hono } from 'hono'
import type { Env } from '../env'

/**
 * The browser side of Veneer (SPEC 7), kept tiny (< 2 KB gzipped, a test measures it):
 * - `veneer.track(type, extra?)` posts `{ type, ...extra }` to /__veneer/events with a keepalive
 *   `fetch` (so the refreshed cookie lands; falls back to `navigator.sendBeacon`), and returns a
 *   promise of whether the event was accepted;
 * - `data-veneer-track="<type>"` on a clickable element tracks clicks; on a `<form>` it tracks the
 *   submit, then submits (at most 1 s later), so the counter is saved before the next page;
 * - `veneer.decisions()` resolves to the variants this visitor gets on this page
 *   (`{ placements: { id: variant }, experiments: { id: variant } }`, from /__veneer/decisions);
 * - calls queued before the script loaded (`window.veneer = [['track', 'cart_add']]`) are replayed.
 * Consent is enforced by the server: the script itself stores nothing.
 */
export const CLIENT_JS = `(function(w,d){
var U='/__veneer/events',q=w.veneer;
function track(t,x){
var e={type:t},k;if(x)for(k in x)e[k]=x[k];
var b=JSON.stringify(e);
try{if(w.fetch)return fetch(U,{method:'POST',body:b,keepalive:true,credentials:'same-origin',headers:{'content-type':'text/plain'}}).then(function(r){return r.ok},function(){return false})}catch(_){}
return Promise.resolve(!!(navigator.sendBeacon&&navigator.sendBeacon(U,b)))}
function decisions(){return fetch('/__veneer/decisions?path='+encodeURIComponent(location.pathname),{credentials:'same-origin'}).then(function(r){return r.ok?r.json():{}},function(){return{}})}
w.veneer={track:track,decisions:decisions,preferences:'/__veneer/preferences'};
if(q&&q.forEach)q.forEach(function(c){if(c&&c[0]=='track')track(c[1],c[2])});
d.addEventListener('click',function(ev){var el=ev.target&&ev.target.closest&&ev.target.closest('[data-veneer-track]');if(el&&el.tagName!='FORM')track(el.getAttribute('data-veneer-track'))});
d.addEventListener('submit',function(ev){var f=ev.target,t=f&&f.getAttribute&&f.getAttribute('data-veneer-track'),done;if(!t||f.__veneer)return;
ev.preventDefault();f.__veneer=1;function go(){if(!done){done=1;f.submit()}}
track(t).then(go,go);setTimeout(go,1000)})
})(window,document);
`

/** `GET /__veneer/client.js`: the same script for every visitor, so shared caches may keep it. */
export const client = new Hono<{ Bindings: Env }>().get('/client.js', (c) =>
  c.body(CLIENT_JS, 200, {
    'content-type': 'text/javascript; charset=utf-8',
    'cache-control': 'public, max-age=300',
    'x-content-type-options': 'nosniff',
  }),
)
