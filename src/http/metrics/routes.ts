// The Prometheus routes: /metrics (fleetpoll's own health), /metrics/fleet (every host of the last
// cycle, an `instance` label each) and /probe?target=<name> (one host, blackbox style). Read-only,
// behind the same authentication as the API; a scrape reads the last cycle and never polls.
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import { getRoute } from '../routes/read-only.js';
import { query } from '../routes/schemas.js';
import { EXPOSITION_CONTENT_TYPE } from './exposition.js';
import { fleetExposition, probeExposition } from './fleet.js';
import { healthRegistry } from './health.js';
import type { MetricsCycle, MetricsSource } from './source.js';

/** The probe's `target`: a server name as servers.csv allows it. */
const TARGET = { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.@:-]{0,252}$', description: 'a server name as in servers.csv (letters, digits and _ . @ : -)' } as const;

/** Registers the metrics routes; the health registry stops listening when the server closes. */
export function metricsRoutes(app: FastifyInstance, source: MetricsSource): void {
  const health = healthRegistry(source);
  app.addHook('onClose', async () => health.stop());

  const lastCycle = (): MetricsCycle => {
    const cycle = source.lastCycle();
    // Not an empty 200: Prometheus then shows the target down until there is something to say.
    if (cycle === null) throw new ApiError(503, 'no cycle has finished yet: the fleet has no metrics to show');
    return cycle;
  };

  getRoute(app, '/metrics', { querystring: query({}) }, async (_request, reply) => {
    const text = await health.registry.metrics();
    return reply.type(health.registry.contentType).send(text);
  });

  // The exposition changes only when a cycle finishes, and Prometheus scrapes several times per cycle:
  // written once per cycle and then sent as it is. Once the fleet has been scraped, it is written as the
  // cycle finishes (at the cycle's end, not in a scrape's time); before that, on the first scrape.
  let rendered: { readonly cycle: MetricsCycle; readonly body: Buffer } | null = null;
  const render = (cycle: MetricsCycle): Buffer => {
    if (rendered?.cycle !== cycle) rendered = { cycle, body: Buffer.from(fleetExposition(cycle), 'utf8') };
    return rendered.body;
  };
  const stopRendering = source.onCycle((cycle) => {
    if (rendered !== null) render(cycle);
  });
  app.addHook('onClose', async () => stopRendering());
  getRoute(app, '/metrics/fleet', { querystring: query({}) }, async (_request, reply) => {
    return reply.type(EXPOSITION_CONTENT_TYPE).send(render(lastCycle()));
  });

  getRoute<{ Querystring: { target: string } }>(
    app,
    '/probe',
    { querystring: { ...query({ target: TARGET }), required: ['target'] } },
    async (request, reply) => {
      const cycle = lastCycle();
      const target = request.query.target;
      const result = cycle.results.find((r) => r.host.name === target);
      if (result === undefined) throw new ApiError(404, `no host named ${JSON.stringify(target)} in the last cycle (a host of servers.csv, enabled, polled at least once since the service started)`);
      return reply.type(EXPOSITION_CONTENT_TYPE).send(probeExposition(cycle, result));
    },
  );
}
