import type { FastifyInstance, HTTPMethods } from 'fastify'
import type { Test } from 'tap'

/**
 * Features of the second part land on main branch by branch. A test of one whose route the
 * running app does not have yet is skipped, as a skipped assertion that names what it waits
 * for, and runs by itself once the route is there. Under TEST_REQUIRE_ALL=1 (CI) a missing
 * route fails instead, so a route that never landed, or moved, cannot hide behind the skip.
 *
 *   if (lacksRoute(t, app, 'POST', '/api/public/chat/sessions/:id/rating', AFTERCHAT)) return
 */
export function lacksRoute(t: Test, app: FastifyInstance, method: HTTPMethods, url: string, waitsFor: string): boolean {
  if (app.hasRoute({ method, url })) return false
  const what = `${method} ${url} is not on this server`
  if (process.env.TEST_REQUIRE_ALL === '1') t.fail(`${what} (TEST_REQUIRE_ALL=1): expected from ${waitsFor}`)
  else t.pass(what, { skip: `waits for ${waitsFor}` })
  return true
}

/**
 * For an assertion on behaviour (not a route) that another branch brings: a tap `todo` that
 * names it, except under TEST_REQUIRE_ALL=1, where the assertion counts.
 */
export const pendingUnlessRequired = (waitsFor: string): string | false =>
  process.env.TEST_REQUIRE_ALL === '1' ? false : `waits for ${waitsFor}`

export const AFTERCHAT = 'issue 13 (rating, transcript, offline email), branch afterchat'
export const WORKFLOW = 'issue 16 (presence and availability), branch workflow'
