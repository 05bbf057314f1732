import fp from 'fastify-plugin'
import { Gauge } from 'prom-client'
import { recordAudit } from '../chat/audit.js'
import { runRetention, type RetentionResult } from '../chat/retention.js'
import { getSetting, setSetting } from '../chat/settings.js'
import { advisoryLocks } from '../jobs/locks.js'
import { startLoop } from '../jobs/loop.js'

declare module 'fastify' {
  interface FastifyInstance {
    retention: {
      /** one round now: false when another instance holds the job's lock */
      runOnce: () => Promise<RetentionResult | false>
    }
  }
}

const LOCK_NAMESPACE = 746_013
const LOCK_KEY = 1
const LAST_RUN_KEY = 'retention_last_run'

type LastRun = Partial<RetentionResult> & Omit<RetentionResult, 'outboxRows' | 'telegramLinks'> & { at: string; durationMs: number }

/**
 * The retention job: every instance wakes every RETENTION_INTERVAL_MS, and the one that takes
 * the advisory lock does the round (the others skip it). The last run is kept in the database,
 * so /metrics on any instance reports it.
 */
export default fp<{ databaseUrl: string }>(async (app, opts) => {
  const { privacy } = app.config
  const locks = advisoryLocks(opts.databaseUrl, LOCK_NAMESPACE)
  const runOnce = async (): Promise<RetentionResult | false> => {
    if (!(await locks.tryLock(LOCK_KEY))) return false
    try {
      const started = Date.now()
      const result = await runRetention(app.db, app.bus, {
        batchSize: privacy.retentionBatchSize,
        auditMaxDays: privacy.auditRetentionDays,
        deliveredMaxDays: privacy.deliveredRetentionDays,
        steps: app.erasureSteps,
        onStepError: (err) => app.log.error({ err }, 'an erasure step failed after retention'),
      })
      if (result.sessions > 0) {
        await recordAudit(app.db, { actor: null, action: 'retention.erased', target: null, details: { erasedSessions: result.sessions, messages: result.messages } })
      }
      const lastRun: LastRun = { ...result, at: new Date().toISOString(), durationMs: Date.now() - started }
      await setSetting(app.db, LAST_RUN_KEY, JSON.stringify(lastRun))
      return result
    } finally {
      // the next round (here or on another instance) may take it
      await locks.unlock(LOCK_KEY).catch(() => {})
    }
  }
  app.decorate('retention', { runOnce })
  const loop = startLoop(privacy.retentionIntervalMs, async () => {
    await runOnce()
  }, (err) => app.log.error({ err }, 'retention round failed'))
  app.addHook('onClose', async () => {
    await loop.stop()
    await locks.close()
  })

  new Gauge({
    name: 'retention_last_run',
    help: 'The last retention round (any instance): unix time it ended, its duration and what it erased',
    labelNames: ['figure'] as const,
    registers: [app.metrics],
    async collect() {
      const raw = await getSetting(app.db, LAST_RUN_KEY)
      this.reset()
      if (!raw) return
      const last = JSON.parse(raw) as LastRun
      this.set({ figure: 'timestamp_seconds' }, Date.parse(last.at) / 1000)
      this.set({ figure: 'duration_seconds' }, last.durationMs / 1000)
      this.set({ figure: 'sessions' }, last.sessions)
      this.set({ figure: 'messages' }, last.messages)
      this.set({ figure: 'audit_entries' }, last.auditEntries)
      this.set({ figure: 'resume_links' }, last.resumeLinks)
      // absent from a run recorded by the previous release
      this.set({ figure: 'outbox_rows' }, last.outboxRows ?? 0)
      this.set({ figure: 'telegram_links' }, last.telegramLinks ?? 0)
    },
  })
}, { name: 'retention', dependencies: ['db', 'bus', 'metrics', 'erasure'] })
