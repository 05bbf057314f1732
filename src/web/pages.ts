/** The two HTML pages the server renders; everything dynamic in them is escaped. */

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export function dashboardHtml(jsName: string, cssName: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Inbox · Live chat</title><meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/admin/${cssName}">
<script src="/admin/${jsName}" defer></script>
</head><body><div id="app"></div></body></html>`
}

export function demoHtml(apiKey: string | undefined, origin: string): string {
  const widget = apiKey
    ? `<script src="/widget.js" data-api-key="${escapeHtml(apiKey)}" data-title="Northwind Coffee" async></script>`
    : ''
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Live chat demo</title>
<style>
body{margin:0;font:17px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2937;background:#faf7f2}
main{max-width:760px;margin:0 auto;padding:64px 24px}
h1{font-size:44px;line-height:1.1;letter-spacing:-.02em;margin:0 0 16px}
.tag{display:inline-block;background:#efe6d8;color:#7c4a1e;border-radius:99px;padding:4px 12px;font-size:14px;font-weight:600}
.card{background:#fff;border-radius:16px;padding:24px;box-shadow:0 1px 3px rgba(0,0,0,.06);margin-top:32px}
a{color:#4f46e5}
code{background:#f3f4f6;padding:2px 6px;border-radius:6px;font-size:14px;word-break:break-all}
</style>
${widget}
</head><body><main>
<span class="tag">Demo page</span>
<h1>Northwind Coffee</h1>
<p>This page embeds the chat widget with one script tag. Press the round button in the corner and write something,
then answer it from the <a href="/admin">dashboard</a>.</p>
<div class="card">
<p><strong>Dashboard:</strong> <a href="/admin">/admin</a>. The admin email and password were printed in the server console
when it started for the first time.</p>
${apiKey
    ? `<p><strong>Embed on any site:</strong><br><code>&lt;script src="${escapeHtml(origin)}/widget.js" data-api-key="${escapeHtml(apiKey)}" async&gt;&lt;/script&gt;</code></p>`
    : '<p>No site exists yet: create one in the dashboard.</p>'}
</div>
</main></body></html>`
}
