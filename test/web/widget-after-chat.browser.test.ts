// requires: chromium
import t from 'tap'
import { expectAccessible } from '../helpers/axe.js'
import { ARTIFACTS, eventually } from '../helpers/browser.js'
import { bearer } from '../helpers/fixtures.js'
import { dashboardUrl, openSocket } from '../helpers/sockets.js'
import { focusInPanel, launcher, messageBox } from '../helpers/widget.js'
import { adminSession, availability, openAndSend, reply, WIDGET, widgetFeatures } from '../helpers/widget-features.js'

/**
 * The widget after and around a chat, end to end against the real server: availability with the
 * Email box, rating and transcript after close and their retries, in English (the names tests
 * and screen readers use) and in Ukrainian and Russian (during a chat: widget-features.browser.test.ts).
 */
const { setup } = await widgetFeatures(t)

t.test('a visitor rates a closed chat: "Rate this chat" with 1–5 stars, a comment, and "Send rating"', async (t) => {
  const s = await setup(t)
  const sessionId = await openAndSend(s, 'Thanks for the help')
  await s.app.inject({ method: 'POST', url: `/api/chat/sessions/${sessionId}/close`, headers: bearer(s.agent) })
  const group = s.page.getByRole('group', { name: 'Rate this chat' })
  await group.waitFor()
  for (let n = 1; n <= 5; n++) await group.getByRole('button', { name: n === 1 ? '1 star' : `${n} stars`, exact: true }).waitFor()
  await expectAccessible(t, s.page, 'widget, rating a closed chat', WIDGET)
  await s.page.screenshot({ path: `${ARTIFACTS}/widget-rating.png` })
  await group.getByRole('button', { name: '4 stars' }).click()
  t.equal(await group.getByRole('button', { name: '4 stars' }).getAttribute('aria-pressed'), 'true')
  await group.getByRole('textbox', { name: 'Comment' }).fill('Quick and kind')
  await group.getByRole('button', { name: 'Send rating' }).press('Enter')
  await s.page.getByText('Thank you for your rating!').waitFor()
  t.equal(await focusInPanel(s.page), 'Thank you for your rating!', 'the focus stays in the panel, on the thanks that replaced the form')
  await expectAccessible(t, s.page, 'widget, rating sent', WIDGET)
  t.match((await adminSession(s, sessionId)).session.rating, { score: 4, comment: 'Quick and kind' }, 'the rating reaches the session')
})

t.test('an agent replies and closes at once: the visitor sees the reply though the closed status overtook it', async (t) => {
  const replyText = 'Sorted, closing now'
  let lostFrames = 0
  // the widget's socket runs through the test, which loses the reply's frame: all the widget
  // hears is `closed`, as when the status frame overtakes the last message
  const s = await setup(t, 'en', (context) => context.routeWebSocket(/\/ws/, (ws) => {
    const server = ws.connectToServer()
    server.onMessage((data) => {
      if ((JSON.parse(String(data)) as { message?: { text?: string } }).message?.text === replyText) lostFrames++
      else ws.send(data)
    })
  }))
  const sessionId = await openAndSend(s, 'Is my order sorted?')
  const fetches: string[] = []
  s.page.on('request', (r) => {
    if (r.method() === 'GET' && r.url().includes('/messages?after=')) fetches.push(r.url())
  })
  await reply(s, sessionId, { text: replyText })
  await s.app.inject({ method: 'POST', url: `/api/chat/sessions/${sessionId}/close`, headers: bearer(s.agent) })
  await s.page.getByText(replyText).waitFor()
  t.equal(lostFrames, 1, 'the reply never came on the socket')
  t.match(fetches, [/after=1&/], 'fetched once after the last seq it held')
  t.equal(await s.page.getByText(replyText).count(), 1, 'shown once')
  await expectAccessible(t, s.page, 'widget, closed after a raced reply', WIDGET)
})

t.test('with nobody online the widget says it replies by email and asks for one; the email lets the visitor get the transcript after close', async (t) => {
  const s = await setup(t)
  // the agent's dashboard of an earlier test may still count as online for up to 2 s after it closed
  await eventually(async () => (await availability(s)).online === false || undefined, 'nobody online')
  await launcher(s.page).click()
  await s.page.getByText('We reply by email').waitFor()
  const email = s.page.getByRole('textbox', { name: 'Email' })
  await email.waitFor()
  await expectAccessible(t, s.page, 'widget, nobody online', WIDGET)
  await email.fill('marta@example.com')
  await s.page.getByRole('button', { name: 'Save email' }).click()
  await s.page.getByText('Thanks! We will reply by email.').waitFor()
  await messageBox(s.page).fill('Please write me back')
  await messageBox(s.page).press('Enter')
  const sessionId = await eventually(async () => (await s.page.evaluate(() => localStorage.getItem('chatSessionId'))) ?? undefined, 'the session')
  t.equal((await adminSession(s, sessionId)).session.email, 'marta@example.com')

  await s.app.inject({ method: 'POST', url: `/api/chat/sessions/${sessionId}/close`, headers: bearer(s.agent) })
  const transcript = s.page.getByRole('button', { name: 'Email me this conversation' })
  await transcript.press('Enter')
  await s.page.getByText('We have emailed you the conversation.').waitFor()
  t.equal(await focusInPanel(s.page), 'We have emailed you the conversation.', 'the focus stays in the panel, on the answer that replaced the button')
})

t.test('when the rating or the transcript is not sent, the widget says so and the visitor can try again', async (t) => {
  let failing = true
  const s = await setup(t, 'en', async (context) => {
    await context.route(/\/api\/public\/chat\/sessions\/[^/]+\/(rating|transcript)$/, (route) => failing
      ? route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ success: false, error: { code: 'SERVICE_UNAVAILABLE', message: 'Try later' } }) })
      : route.continue())
  })
  await eventually(async () => (await availability(s)).online === false || undefined, 'nobody online')
  await launcher(s.page).click()
  await s.page.getByRole('textbox', { name: 'Email' }).fill('ivan@example.com')
  await s.page.getByRole('button', { name: 'Save email' }).click()
  await s.page.getByText('Thanks! We will reply by email.').waitFor()
  await messageBox(s.page).fill('Call me back')
  await messageBox(s.page).press('Enter')
  const sessionId = await eventually(async () => (await s.page.evaluate(() => localStorage.getItem('chatSessionId'))) ?? undefined, 'the session')
  await s.app.inject({ method: 'POST', url: `/api/chat/sessions/${sessionId}/close`, headers: bearer(s.agent) })
  const group = s.page.getByRole('group', { name: 'Rate this chat' })
  await group.getByRole('button', { name: '5 stars' }).click()
  await group.getByRole('button', { name: 'Send rating' }).click()
  await group.getByRole('alert').filter({ hasText: 'The rating was not sent. Please try again.' }).waitFor()
  await s.page.getByRole('button', { name: 'Email me this conversation' }).click()
  await s.page.getByRole('alert').filter({ hasText: 'The conversation was not emailed. Please try again.' }).waitFor()
  await expectAccessible(t, s.page, 'widget, rating and transcript not sent', WIDGET)

  failing = false
  await group.getByRole('button', { name: 'Send rating' }).click()
  await s.page.getByText('Thank you for your rating!').waitFor()
  await s.page.getByRole('button', { name: 'Email me this conversation' }).click()
  await s.page.getByText('We have emailed you the conversation.').waitFor()
  t.equal(await s.page.getByRole('alert').filter({ hasText: /not (sent|emailed)/ }).count(), 0, 'the errors are gone once it worked')
})

t.test('when the email or the name and phone are not saved (the network down), the widget says so and the visitor can try again', async (t) => {
  let failing = true
  const s = await setup(t, 'en', async (context) => {
    // contact details travel with POST /sessions; the conversation itself is not touched
    await context.route(/\/api\/public\/chat\/sessions$/, (route) => failing && /"(email|phone)"/.test(route.request().postData() ?? '') ? route.abort('internetdisconnected') : route.continue())
  })
  await eventually(async () => (await availability(s)).online === false || undefined, 'nobody online')
  await launcher(s.page).click()
  await s.page.getByRole('textbox', { name: 'Email' }).fill('ivan@example.com')
  await s.page.getByRole('button', { name: 'Save email' }).click()
  await s.page.getByRole('alert').filter({ hasText: 'Not saved. Please try again.' }).waitFor()
  await expectAccessible(t, s.page, 'widget, email not saved', WIDGET)
  failing = false
  await s.page.getByRole('button', { name: 'Save email' }).click()
  await s.page.getByText('Thanks! We will reply by email.').waitFor()
  t.equal(await s.page.getByRole('alert').filter({ hasText: 'Not saved' }).count(), 0, 'the error is gone once it worked')

  await messageBox(s.page).fill('Call me back')
  await messageBox(s.page).press('Enter')
  failing = true
  await s.page.getByRole('textbox', { name: 'Name' }).fill('Ivan')
  await s.page.getByRole('textbox', { name: 'Phone' }).fill('+380 67 123 4567')
  await s.page.getByRole('button', { name: 'Save contact' }).click()
  await s.page.getByRole('alert').filter({ hasText: 'Not saved. Please try again.' }).waitFor()
  failing = false
  await s.page.getByRole('button', { name: 'Save contact' }).click()
  await s.page.getByText('Thanks! We will get back to you.').waitFor()
  const sessionId = await eventually(async () => (await s.page.evaluate(() => localStorage.getItem('chatSessionId'))) ?? undefined, 'the session')
  t.match((await adminSession(s, sessionId)).session, { email: 'ivan@example.com', name: 'Ivan', phone: '+380 67 123 4567' })
})

t.test('with an agent online the widget says "Online" and asks for no email', async (t) => {
  const s = await setup(t)
  await openSocket(t, dashboardUrl(s.origin.replace(/^http/, 'ws'), s.agent))
  await eventually(async () => (await availability(s)).online === true || undefined, 'the agent to count as online')
  await launcher(s.page).click()
  await s.page.getByText('Online', { exact: true }).waitFor()
  t.equal(await s.page.getByRole('textbox', { name: 'Email' }).count(), 0)
})

t.test('every new control exists in Ukrainian and Russian', async (t) => {
  for (const [locale, attach, rate] of [['uk', 'Прикріпити файл', 'Оцініть цей чат'], ['ru', 'Прикрепить файл', 'Оцените этот чат']] as const) {
    const s = await setup(t, locale)
    // an agent online: the widget asks for no email first, so its first text box is the message
    await openSocket(t, dashboardUrl(s.origin.replace(/^http/, 'ws'), s.agent))
    await eventually(async () => (await availability(s)).online === true || undefined, 'the agent to count as online')
    await launcher(s.page).click()
    await s.page.getByRole('button', { name: attach }).waitFor()
    await s.page.getByRole('textbox').first().fill(locale === 'uk' ? 'Привіт' : 'Привет')
    await s.page.getByRole('textbox').first().press('Enter')
    const sessionId = await eventually(async () => (await s.page.evaluate(() => localStorage.getItem('chatSessionId'))) ?? undefined, 'the session')
    await s.app.inject({ method: 'POST', url: `/api/chat/sessions/${sessionId}/close`, headers: bearer(s.agent) })
    await s.page.getByRole('group', { name: rate }).waitFor()
    await expectAccessible(t, s.page, `widget in ${locale}, closed`, WIDGET)
  }
})
