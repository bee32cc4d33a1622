import { expect } from 'chai'
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { post, ROOT, trackEvent } from './service-harness'

/** Starts `koala-adapter serve` as a user would, with no Koala key and no Segment set-up. */
async function serveFresh(): Promise<{ child: ChildProcess; url: string; simUrl: string; stderr: () => string; exited: Promise<number | null> }> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', SIM_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' }
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'koala-adapter.js'), 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  child.stdout!.resume()
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const end = Date.now() + 30_000
  while (!/_sim\/requests/.test(stderr)) {
    if (Date.now() > end || child.exitCode !== null) throw new Error(`serve did not start:\n${stderr}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const url = /listening on (http:\/\/[^\s]+)/.exec(stderr)![1]
  const simUrl = /GET (http:\/\/[^\s]+)\/_sim\/requests/.exec(stderr)![1]
  return { child, url, simUrl, stderr: () => stderr, exited }
}

describe('the service as a process', function () {
  this.timeout(60_000)

  it('starts on its embedded default with no key, says where events go, and delivers to the local simulator', async () => {
    const service = await serveFresh()
    try {
      expect(service.stderr()).to.contain('LOCAL MODE: KOALA_PUBLIC_API_KEY is not set')
      expect(service.stderr()).to.contain('To send to Koala: KOALA_PUBLIC_API_KEY=')
      expect(service.stderr()).to.contain('accepts UNSIGNED requests (insecure local mode)')
      const answer = await post(`${service.url}/webhook/default`, trackEvent(1))
      expect(answer.status).to.equal(200)
      const received = (await (await fetch(`${service.simUrl}/_sim/requests`)).json()) as any[]
      expect(received).to.have.length(1)
      expect(received[0].body.events[0].message_id).to.equal('msg-1')
    } finally {
      service.child.kill('SIGKILL')
    }
  })

  it('on SIGTERM stops accepting, finishes the request in flight, then exits 0', async () => {
    const service = await serveFresh()
    const fault = await post(`${service.simUrl}/_sim/faults`, { latencyMs: 1_500, times: 1 })
    expect(fault.status).to.be.within(200, 299)
    const inFlight = post(`${service.url}/webhook/default`, trackEvent(2))
    await new Promise((resolve) => setTimeout(resolve, 400))
    service.child.kill('SIGTERM')
    const answer = await inFlight
    expect(answer.status).to.equal(200)
    expect(answer.body.delivered).to.equal(1)
    expect(await service.exited).to.equal(0)
    let refused = false
    await fetch(`${service.url}/healthz`).catch(() => (refused = true))
    expect(refused).to.equal(true)
  })
})
