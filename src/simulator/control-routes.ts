import express, { type Router } from 'express'
import { describeIssues } from './describe-issues'
import { parseFaults, type FaultQueue } from './fault-queue'
import { BODY_LIMIT } from './read-json-body'
import type { RequestLog } from './request-log'

/**
 * `/_sim/*`: what tests, demos and benchmarks use to look inside and to script
 * failures. Requests and faults are separate resources: clearing one keeps the other.
 */
export function controlRoutes(log: RequestLog, faults: FaultQueue): Router {
  const router = express.Router()

  // `?key=` keeps one project's requests: in the service's local mode each workspace sends with its own name as key.
  router.get('/_sim/requests', (req, res) => {
    const key = typeof req.query.key === 'string' ? req.query.key : undefined
    res.json(log.list(key))
  })
  router.delete('/_sim/requests', (_req, res) => {
    log.clear()
    res.json({ ok: true })
  })

  router.get('/_sim/faults', (_req, res) => {
    res.json(faults.list())
  })
  router.post('/_sim/faults', express.json({ limit: BODY_LIMIT }), (req, res) => {
    if (req.body === undefined) {
      res.status(400).json({ error: 'expected a JSON body (Content-Type: application/json)', code: 'invalid_fault' })
      return
    }
    const parsed = parseFaults(req.body)
    if (!parsed.ok) {
      res.status(400).json({ error: describeIssues(parsed.error), code: 'invalid_fault' })
      return
    }
    faults.add(parsed.faults)
    res.status(201).json({ ok: true, queued: parsed.faults, pending: faults.list() })
  })
  router.delete('/_sim/faults', (_req, res) => {
    faults.clear()
    res.json({ ok: true })
  })

  return router
}
