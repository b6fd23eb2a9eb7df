import { setMaxListeners } from 'node:events';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Deps } from '../deps.js';
import { CsError } from '../lib/errors.js';
import { VERSION } from '../version.js';
import { clientErrorHandler, envelopeEdgeCases, frameworkErrors } from './client-errors.js';
import { sendError } from './errors.js';
import { EventStreams } from './event-streams.js';
import { HeldRequests } from './held-requests.js';
import { LazyRequestLogger } from './lazy-request-logger.js';
import { buildOpenApi } from './openapi.js';
import { ParkedLongPolls } from './parked-long-polls.js';
import { type RouteSpec, registerRoutes } from './route-spec.js';
import { actionRoutes } from './routes/actions.js';
import { adminAgentRoutes } from './routes/admin-agents.js';
import { adminAuditExportRoutes } from './routes/admin-audit-export.js';
import { adminEventRoutes } from './routes/admin-events.js';
import { adminIdentityRoutes } from './routes/admin-identities.js';
import { adminNotificationRoutes } from './routes/admin-notifications.js';
import { adminPeopleRoutes } from './routes/admin-people.js';
import { adminWebhookRoutes } from './routes/admin-webhooks.js';
import { auditRoutes } from './routes/audit.js';
import { batchRoutes } from './routes/batches.js';
import { chatLinkRoutes } from './routes/chat-links.js';
import { consoleRoutes } from './routes/console.js';
import { delegationRoutes } from './routes/delegations.js';
import { emailDecisionRoutes, installDecisionFormParser } from './routes/email-decisions.js';
import { eventRoutes } from './routes/events.js';
import { grantRoutes } from './routes/grants.js';
import { inboxRoutes } from './routes/inbox.js';
import { oidcRoutes } from './routes/oidc.js';
import { oversightRoutes } from './routes/oversight.js';
import { passkeyRoutes } from './routes/passkeys.js';
import { passwordPageRoutes } from './routes/password-pages.js';
import { policyRoutes } from './routes/policy.js';
import { policyPlaygroundRoutes } from './routes/policy-playground.js';
import { receiptRoutes } from './routes/receipts.js';
import { reviewSettingsRoutes } from './routes/review-settings.js';
import { sessionRoutes } from './routes/sessions.js';
import { signInRoutes } from './routes/sign-in.js';
import { slackRoutes } from './routes/slack.js';
import { systemRoutes } from './routes/system.js';
import { teamsRoutes } from './routes/teams.js';
import { installStrictInput } from './strict-input.js';
import { timeoutOptions } from './timeouts.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Aborted when the server starts closing. */
    closing: AbortController;
    /** Long-polls and event streams in progress; closing waits for them before the database closes. */
    held: HeldRequests;
    /** Parked `GET /v1/actions/{id}?wait=N`; closing answers them all with one read before `held` settles. */
    longPolls: ParkedLongPolls;
    /** Open `GET /v1/events` streams: one heartbeat for all, ended when the server closes. */
    eventStreams: EventStreams;
  }
}

export const ROUTES: readonly RouteSpec[] = [
  ...batchRoutes,
  ...actionRoutes,
  ...grantRoutes,
  ...receiptRoutes,
  ...auditRoutes,
  ...eventRoutes,
  ...adminEventRoutes,
  ...adminAuditExportRoutes,
  ...adminWebhookRoutes,
  ...policyRoutes,
  ...policyPlaygroundRoutes,
  ...systemRoutes,
  ...adminPeopleRoutes,
  ...adminIdentityRoutes,
  ...adminAgentRoutes,
  ...signInRoutes,
  ...sessionRoutes,
  ...passkeyRoutes,
  ...passwordPageRoutes,
  ...oidcRoutes,
  ...delegationRoutes,
  ...oversightRoutes,
  ...inboxRoutes,
  ...reviewSettingsRoutes,
  ...adminNotificationRoutes,
  ...emailDecisionRoutes,
  ...chatLinkRoutes,
  ...slackRoutes,
  ...teamsRoutes,
  // The reviewer console's pages and assets: exact paths, none of them under /v1/.
  ...consoleRoutes(),
];

export function buildServer(deps: Deps): FastifyInstance {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }),
    // Per-request lines would dominate the log at agent traffic rates; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // So request.log costs nothing until a request logs (most never do; a held one would keep it for minutes).
    childLoggerFactory: LazyRequestLogger.factory,
    bodyLimit: deps.config.server.bodyLimitBytes,
    trustProxy: deps.config.server.trustProxy,
    // Time-outs for receiving a request, and the envelope for errors raised before any route runs.
    ...timeoutOptions(deps.config.server),
    clientErrorHandler: clientErrorHandler(deps.config.server),
    frameworkErrors,
    // The onRequest hook in envelopeEdgeCases answers these 503s, in the envelope.
    return503OnClosing: false,
    // Validation is zod's job; Ajv must never coerce types or drop unknown fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false } },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  }) as unknown as FastifyInstance;
  app.decorateRequest('principal', null);
  app.decorateRequest('identityEpoch', null);
  // Event streams and long-polls only end when their client leaves or the wait runs out, and close()
  // waits for every open connection: signal them first, so a shutdown never hangs. Long-polls answer
  // with the current state; streams end and clients resume with Last-Event-ID.
  const closing = new AbortController();
  // Every held request listens on it (and removes its listener when it ends): thousands at once are expected.
  setMaxListeners(0, closing.signal);
  app.decorate('closing', closing);
  const held = new HeldRequests();
  app.decorate('held', held);
  app.decorate('longPolls', new ParkedLongPolls(deps, held));
  app.decorate('eventStreams', new EventStreams(deps, held, closing.signal));
  envelopeEdgeCases(app);
  // Every held request answers or ends before close() goes on (and the gateway then closes the database).
  app.addHook('preClose', async () => {
    app.closing.abort();
    await app.longPolls.closeAll();
    await app.held.settled();
  });
  // A response finished during shutdown closes its connection; otherwise the client's keep-alive
  // socket would hold close() open for Fastify's 72 s keep-alive timeout.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (app.closing.signal.aborted) reply.header('connection', 'close');
    done(null, payload);
  });
  // Fastify parses text/plain by default; every body here is JSON, so anything else is a 415, not a confusing 400.
  app.removeContentTypeParser('text/plain');
  installStrictInput(app);
  installDecisionFormParser(app);
  app.setErrorHandler((err, request, reply) => sendError(request, reply, err));
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new CsError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );
  // Every request passes here: a callback hook, so it allocates no promise.
  app.addHook('onResponse', (request, reply, done) => {
    deps.metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });

  const openapi = buildOpenApi(ROUTES, VERSION);
  app.get('/openapi.json', async () => openapi);
  registerRoutes(app, deps, ROUTES);
  return app;
}
