import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { z } from 'zod';
import { ErrorBody } from '../../domain/actions/schemas.js';
import { CsError } from '../../lib/errors.js';
import { defineRoute, type RouteSpec } from '../route-spec.js';

/**
 * The reviewer console (packages/console), served by the gateway on its own origin: index.html for the
 * console's pages, the hashed files Vite built under /assets/. The API routes are registered beside
 * these exact paths, so they keep priority by construction: nothing here is a catch-all.
 */

/**
 * The console's pages. Loading index.html runs no inline script and nothing from another origin, so the
 * CSP allows scripts and styles from this origin only; the pages talk to this origin only; no site may
 * frame them (clickjacking an approve button), and no Referer carries an action id elsewhere.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

/** Where `npm run build -w @countersign/console` writes, found from the console package the gateway depends on. */
export function defaultConsoleDist(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@countersign/console/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

const NOT_BUILT = (
  dir: string | undefined,
) => `The Countersign reviewer console is not built${dir ? ` (no ${join(dir, 'index.html')})` : ''}.

Build it from the repository root with:

  npm run build -w @countersign/console

(npm install builds it too.) The API under /v1/ works without it.
`;

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

const AssetParams = z.strictObject({
  // Vite writes flat, hashed names; nothing with a slash or a leading dot is ever served.
  file: z
    .string()
    .max(200)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'not a console asset name'),
});

const PAGES: { url: string; operationId: string; summary: string; params?: z.ZodType; query?: z.ZodType }[] = [
  { url: '/', operationId: 'consoleHome', summary: 'The reviewer console (its inbox)' },
  { url: '/inbox', operationId: 'consoleInbox', summary: "The reviewer console's inbox" },
  {
    url: '/actions/:id',
    operationId: 'consoleAction',
    summary: "The reviewer console's page of one action (review links and notifications open it)",
    params: z.strictObject({ id: z.string().max(64) }),
  },
  { url: '/history', operationId: 'consoleHistory', summary: "The reviewer console's history: every action, searched and filtered" },
  { url: '/dashboard', operationId: 'consoleDashboard', summary: "The reviewer console's dashboard" },
  { url: '/audit', operationId: 'consoleAudit', summary: "The reviewer console's audit page: chain, checkpoint, verify, export" },
  {
    url: '/sign-in',
    operationId: 'consoleSignIn',
    summary: "The reviewer console's sign-in page",
    query: z.looseObject({ return_to: z.string().max(2048).optional().meta({ description: 'The console path to go to afterwards' }) }),
  },
  { url: '/admin/policy', operationId: 'consolePolicy', summary: "The reviewer console's policy page (versions, rollback, apply; admins)" },
  {
    url: '/admin/policy/playground',
    operationId: 'consolePolicyPlayground',
    summary: "The reviewer console's policy playground and replay (admins)",
  },
  { url: '/account', operationId: 'consoleAccount', summary: "The reviewer console's account page (sessions, passkeys, delegations)" },
  { url: '/link-chat', operationId: 'consoleLinkChat', summary: "The reviewer console's page to confirm linking a Slack or Teams account" },
  { url: '/admin/people', operationId: 'consoleAdminPeople', summary: "The reviewer console's people administration (admins)" },
  { url: '/admin/groups', operationId: 'consoleAdminGroups', summary: "The reviewer console's groups administration (admins)" },
  { url: '/admin/agents', operationId: 'consoleAdminAgents', summary: "The reviewer console's agents administration (admins)" },
  { url: '/admin/keys', operationId: 'consoleAdminKeys', summary: "The reviewer console's API keys administration (admins)" },
  { url: '/admin/grants', operationId: 'consoleAdminGrants', summary: "The reviewer console's standing grants administration (admins)" },
];

type Responses = RouteSpec['responses'];

function pageResponses(hasParams: boolean): Responses {
  const out: Responses = {
    200: { description: "The console's index.html (the page is drawn by its script)", contentType: 'text/html' },
    503: { description: 'The console is not built: how to build it', contentType: 'text/plain' },
  };
  if (hasParams) out[400] = { description: 'Invalid path', schema: ErrorBody };
  return out;
}

function securityHeaders(reply: { header(name: string, value: string): unknown }): void {
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
}

/** The console's routes, reading the build in `dist()` at each request (a rebuild is served without a restart). */
export function consoleRoutes(dist: () => string | undefined = defaultConsoleDist): RouteSpec[] {
  const pages = PAGES.map((p) =>
    defineRoute({
      method: 'GET',
      url: p.url,
      operationId: p.operationId,
      summary: p.summary,
      tags: ['console'],
      auth: 'none',
      ...(p.params ? { params: p.params } : {}),
      ...(p.query ? { query: p.query } : {}),
      responses: pageResponses(p.params !== undefined),
      handler: async ({ reply }) => {
        securityHeaders(reply);
        const dir = dist();
        const html = dir === undefined ? undefined : await readFile(join(dir, 'index.html'), 'utf8').catch(() => undefined);
        if (html === undefined) {
          reply.code(503).header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-store');
          return NOT_BUILT(dir);
        }
        reply.header('content-type', 'text/html; charset=utf-8');
        reply.header('content-security-policy', CONSOLE_CSP);
        // Always revalidated: a new build's index.html names new asset files.
        reply.header('cache-control', 'no-cache');
        return html;
      },
    }),
  );
  const asset = defineRoute({
    method: 'GET',
    url: '/assets/:file',
    operationId: 'consoleAsset',
    summary: "One of the console's built files (content-hashed names: cached for a year, immutable)",
    tags: ['console'],
    auth: 'none',
    params: AssetParams,
    responses: {
      200: { description: 'The file', contentType: 'application/octet-stream' },
      400: { description: 'Not an asset name', schema: ErrorBody },
      404: { description: 'No such file (or the console is not built)', schema: ErrorBody },
    },
    handler: async ({ params, reply }) => {
      const dir = dist();
      const body = dir === undefined ? undefined : await readFile(join(dir, 'assets', params.file)).catch(() => undefined);
      if (body === undefined) throw new CsError('not_found', `no console asset ${params.file}`);
      securityHeaders(reply);
      reply.header('content-type', CONTENT_TYPES[extname(params.file).toLowerCase()] ?? 'application/octet-stream');
      reply.header('cache-control', 'public, max-age=31536000, immutable');
      return body;
    },
  });
  const methods = defineRoute({
    method: 'GET',
    url: '/v1/auth/methods',
    operationId: 'signInMethods',
    summary: 'How people can sign in here (the sign-in page offers single sign-on only when it is configured)',
    tags: ['auth'],
    auth: 'none',
    responses: {
      200: {
        description: 'The sign-in methods',
        schema: z
          .object({
            password: z.boolean().meta({ description: 'Email and password (POST /v1/auth/login)' }),
            sso: z.boolean().meta({ description: 'Single sign-on (GET /v1/auth/oidc/login?return_to=…)' }),
          })
          .meta({ id: 'SignInMethods' }),
      },
    },
    handler: async ({ deps }) => ({ password: true, sso: deps.oidc !== undefined }),
  });
  return [...pages, asset, methods];
}
