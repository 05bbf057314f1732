// requires: chromium
import t from 'tap'
import { launchBrowser, listeningApp, signInDashboard } from '../helpers/browser.js'
import { bearer, makeSession, makeSite, makeStaff, sendRequest } from '../helpers/fixtures.js'
import * as files from '../helpers/files.js'
import { visitorUpload } from '../helpers/uploads.js'

const browser = await launchBrowser(t)
const { app, origin } = await listeningApp(t)

// every field a visitor (or a Telegram manager, or an admin) writes that the dashboard shows
const RUN = (n: number) => `<img src=x onerror="window.__pwned=${n}">`

t.test("markup and script URLs in a visitor's name, page, email, messages, file names and notes show as text and run nothing", async (t) => {
  const site = await makeSite(app)
  const admin = await makeStaff(app, 'admin', 'Olena')
  const s = await makeSession(app, site, {
    name: `${RUN(1)}\u202eevil`,
    email: 'a@example.com',
    pageUrl: 'javascript:window.__pwned=2//https://x.example',
    firstMessage: `<script>window.__pwned=3</script> javascript:window.__pwned=4 https://x.example/"><svg onload=window.__pwned=5>`,
  })
  const file = await visitorUpload(app, s, files.text('hello'), `${RUN(6)}.txt`)
  t.equal((await app.inject(sendRequest(s, { text: RUN(7), attachments: [file.id] }))).statusCode, 201)
  const note = await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/notes`, headers: bearer(admin), payload: { text: RUN(8) } })
  t.equal(note.statusCode, 201)

  const context = await browser.newContext()
  t.teardown(() => context.close())
  const dash = await context.newPage()
  const dialogs: string[] = []
  dash.on('dialog', (d) => {
    dialogs.push(d.message())
    void d.dismiss()
  })
  await signInDashboard(dash, origin, admin.token, `#/inbox/${s.id}`)
  await dash.getByRole('heading', { name: RUN(1), exact: false }).waitFor()
  await dash.getByRole('log').getByText(RUN(7), { exact: true }).waitFor()
  await dash.getByText(RUN(8), { exact: true }).waitFor()
  const found = await dash.evaluate(() => ({
    pwned: (window as unknown as { __pwned?: number }).__pwned,
    // the only images a conversation may hold are attachments served by this server
    images: [...document.querySelectorAll('img')].map((i) => i.getAttribute('src')).filter((src) => !src?.startsWith(`${location.origin}/api/files/`) && !src?.startsWith('data:')),
    svgWithHandlers: document.querySelectorAll('svg[onload], [onerror], [onload]').length,
    scripts: [...document.querySelectorAll('script')].filter((s) => !s.src).length,
    hrefs: [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href') ?? ''),
  }))
  t.equal(found.pwned, undefined, 'no handler ran')
  t.same(found.images, [], 'no image element from visitor markup')
  t.equal(found.svgWithHandlers, 0, 'no element carries an event handler attribute')
  t.equal(found.scripts, 0, 'no inline script')
  t.same(found.hrefs.filter((h) => !/^(#|https?:|mailto:|tel:)/.test(h)), [], 'every link is a page of the dashboard, http(s), mailto: or tel:')
  t.ok(found.hrefs.includes('https://x.example/'), 'the http link in the message is a link, cut before the quote')
  t.notOk(found.hrefs.some((h) => h.includes('javascript:')), 'no javascript: link, from the page or the text')
  await dash.getByText('javascript:window.__pwned=2//https://x.example').waitFor()
  t.same(dialogs, [], 'no dialog opened')
})
