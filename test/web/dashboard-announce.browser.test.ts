// requires: chromium
import t from 'tap'
import { expectAccessible } from '../helpers/axe.js'
import { launchBrowser, listeningApp, signInDashboard } from '../helpers/browser.js'
import { bearer, makeSession, makeSite, makeStaff, replyRequest, sendRequest } from '../helpers/fixtures.js'

/**
 * The conversation in the dashboard is a live region (role log, polite): a screen reader reads
 * out whatever is put into it. A new message must put only itself there, not the whole
 * conversation again.
 */

t.test('a new message, reply or note adds only itself to the live conversation log; earlier messages stay put', async (t) => {
  const browser = await launchBrowser(t)
  const { app, origin } = await listeningApp(t)
  const site = await makeSite(app)
  const agent = await makeStaff(app, 'agent', 'Olena')
  const colleague = await makeStaff(app, 'admin', 'Boss')
  const s = await makeSession(app, site, { name: 'Marta', firstMessage: 'Where is my order #1042?' })
  await app.inject(sendRequest(s, { text: 'It was due on Monday' }))

  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } })
  t.teardown(() => context.close())
  const dash = await context.newPage()
  await signInDashboard(dash, origin, agent.token, `#/inbox/${s.id}`)
  const log = dash.getByRole('log', { name: /Marta/ })
  await log.getByText('It was due on Monday').waitFor()

  // from now on, record the text of every node put into the log (what a screen reader would announce)
  await log.evaluate((el) => {
    const added: string[] = []
    ;(window as unknown as { added: string[] }).added = added
    new MutationObserver((records) => {
      for (const r of records) for (const n of r.addedNodes) added.push(n.textContent ?? '')
    }).observe(el, { childList: true, subtree: true, characterData: true })
  })
  const announced = async () => {
    const added = await dash.evaluate(() => (window as unknown as { added: string[] }).added.splice(0))
    return added.filter((text) => text.trim() !== '')
  }

  await app.inject(sendRequest(s, { text: 'Any news?' }))
  await log.getByText('Any news?').waitFor()
  const afterMessage = await announced()
  t.equal(afterMessage.length, 1, `one node added for the visitor's message: ${JSON.stringify(afterMessage)}`)
  t.match(afterMessage[0], /Any news\?/)

  await app.inject(replyRequest(agent, s.id, 'It left the warehouse today'))
  await log.getByText('It left the warehouse today').waitFor()
  const afterReply = await announced()
  t.equal(afterReply.length, 1, `one node added for the reply: ${JSON.stringify(afterReply)}`)

  await app.inject({ method: 'POST', url: `/api/chat/sessions/${s.id}/notes`, headers: bearer(colleague), payload: { text: 'Courier delayed, refund shipping' } })
  await log.getByText('Courier delayed, refund shipping').waitFor()
  const afterNote = await announced()
  t.equal(afterNote.length, 1, `one node added for a colleague's note: ${JSON.stringify(afterNote)}`)
  t.notOk([...afterMessage, ...afterReply, ...afterNote].some((text) => text.includes('Where is my order')), 'the first message is never put into the log again')
  await expectAccessible(t, dash, 'conversation after live updates')
})
