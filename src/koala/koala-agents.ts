import http from 'node:http'
import https from 'node:https'
import { HttpsProxyAgent } from 'https-proxy-agent'
import { getProxyForUrl } from 'proxy-from-env'

/**
 * The TCP keep-alive delay axios's http adapter sets on every request's socket. An agent
 * asking for another one (Node's default is 1 s) makes the two undo each other with a
 * setsockopt per request (~14% of the client's CPU, measured); with the same delay both
 * calls are no-ops after the first.
 */
const AXIOS_TCP_KEEP_ALIVE_MS = 60_000

/** The keep-alive socket pools of one client: which one a URL goes through, and closing them all. */
export type KoalaAgents = { agentFor(url: URL): http.Agent; destroy(): void }

/**
 * Pools with a socket cap: one for http, one for https, and behind an egress proxy
 * (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, as curl reads them) one per proxy, through which
 * requests tunnel by CONNECT, with the same keep-alive and cap.
 */
export function createKoalaAgents(maxSockets: number): KoalaAgents {
  const options = { keepAlive: true, keepAliveMsecs: AXIOS_TCP_KEEP_ALIVE_MS, maxSockets }
  const httpAgent = new http.Agent(options)
  const httpsAgent = new https.Agent(options)
  const proxyAgents = new Map<string, HttpsProxyAgent<string>>()
  return {
    agentFor(url) {
      const proxy = getProxyForUrl(url.href)
      if (proxy === '') return url.protocol === 'https:' ? httpsAgent : httpAgent
      let agent = proxyAgents.get(proxy)
      if (agent === undefined) {
        agent = new HttpsProxyAgent(proxy, options)
        proxyAgents.set(proxy, agent)
      }
      return agent
    },
    destroy() {
      httpAgent.destroy()
      httpsAgent.destroy()
      for (const agent of proxyAgents.values()) agent.destroy()
    }
  }
}
