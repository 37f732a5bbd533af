/** The hosted pages' only stylesheet, served from /assets so the CSP needs no 'unsafe-inline'. */
export const STYLESHEET = `
:root { color-scheme: light dark; --accent: #3b5bdb; --danger: #c92a2a; --muted: #868e96; }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; padding: 1rem;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: Canvas; color: CanvasText; }
.card { width: 100%; max-width: 28rem; padding: 2rem; border: 1px solid color-mix(in srgb, CanvasText 15%, transparent);
  border-radius: 12px; box-shadow: 0 8px 24px rgb(0 0 0 / 8%); }
.card.wide { max-width: 48rem; }
.brand { margin: 0 0 1rem; font-weight: 700; letter-spacing: .08em; text-transform: uppercase; color: var(--accent); }
h1 { font-size: 1.4rem; margin: 0 0 1rem; }
label { display: block; margin: 1rem 0 .25rem; font-weight: 600; }
input[type=text], input[type=password] { width: 100%; padding: .65rem .75rem; font: inherit; border-radius: 8px;
  border: 1px solid color-mix(in srgb, CanvasText 30%, transparent); background: Field; color: FieldText; }
input:focus-visible, button:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
button { margin-top: 1.25rem; padding: .65rem 1.1rem; font: inherit; font-weight: 600; border: 0; border-radius: 8px;
  background: var(--accent); color: white; cursor: pointer; min-height: 44px; }
button.secondary { background: transparent; color: CanvasText; border: 1px solid color-mix(in srgb, CanvasText 30%, transparent); }
button.danger { background: var(--danger); }
.row { display: flex; gap: .75rem; flex-wrap: wrap; }
.error { padding: .75rem 1rem; border-radius: 8px; background: color-mix(in srgb, var(--danger) 15%, transparent); color: var(--danger); }
.muted { color: var(--muted); font-size: .9rem; }
ul.scopes { padding-left: 1.2rem; }
table { width: 100%; border-collapse: collapse; font-size: .95rem; }
th, td { text-align: left; padding: .5rem .4rem; border-bottom: 1px solid color-mix(in srgb, CanvasText 12%, transparent); vertical-align: top; }
td form button { margin: 0; padding: .35rem .7rem; min-height: 36px; }
@media (max-width: 40rem) { thead { display: none; } tr, td { display: block; } td { border: 0; padding: .2rem 0; } tr { padding: .6rem 0; border-bottom: 1px solid color-mix(in srgb, CanvasText 12%, transparent); } }
`
