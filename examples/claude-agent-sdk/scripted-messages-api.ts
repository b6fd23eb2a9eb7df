/**
 * A local stand-in for the Anthropic Messages API, so the Claude Agent SDK's real runtime (its bundled Claude
 * Code) can run here with no model and no network: `POST /v1/messages` answers a scripted reply, streamed as
 * the API streams it (message_start, content_block_start / delta / stop, message_delta, message_stop), and
 * every request is recorded for assertions. Point the SDK at it with
 * `env: { ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: 'test', … }` (see {@link offlineEnv}).
 *
 * Shared by packages/sdk/test/claude-agent-sdk.test.ts and examples/claude-agent-sdk/agent.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One content block of a scripted reply. */
export type ScriptedBlock = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

/** A scripted assistant turn: its blocks; the stop reason follows from them (tool_use when any block calls a tool). */
export interface ScriptedReply {
  content: ScriptedBlock[];
}

/** What the runtime sent: the parsed body of one `POST /v1/messages`. */
export interface MessagesRequest {
  model?: string;
  stream?: boolean;
  system?: unknown;
  tools?: { name: string }[];
  messages: { role: 'user' | 'assistant'; content: string | Record<string, unknown>[] }[];
}

/** One tool_result block the runtime sent back to the model. */
export interface ToolResult {
  tool_use_id: string;
  is_error: boolean;
  text: string;
}

export interface ScriptedMessagesApi {
  url: string;
  /** Every `POST /v1/messages` received, in order. */
  requests: MessagesRequest[];
  close(): Promise<void>;
}

/**
 * Starts the server. `reply` picks the answer to each request (the runtime may also send side requests,
 * e.g. to name the session; answer those with text). It throws nothing: an error answers 500, which the
 * runtime reports as an API error.
 */
export async function startScriptedMessagesApi(reply: (request: MessagesRequest) => ScriptedReply): Promise<ScriptedMessagesApi> {
  const requests: MessagesRequest[] = [];
  const server = createServer((req, res) => {
    void handle(req, res, requests, reply);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  requests: MessagesRequest[],
  reply: (request: MessagesRequest) => ScriptedReply,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const path = (req.url ?? '').split('?')[0];
  if (req.method !== 'POST' || path !== '/v1/messages') {
    // Anything else (token counting, metadata): not part of the script, and the runtime does without it.
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: `no ${req.method} ${path} here` } }));
    return;
  }
  let body: MessagesRequest;
  let scripted: ScriptedReply;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as MessagesRequest;
    requests.push(body);
    scripted = reply(body);
  } catch (e) {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: (e as Error).message } }));
    return;
  }
  const model = body.model ?? 'claude-scripted';
  const stop = scripted.content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
  if (body.stream === false) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...messageShell(model, requests.length), content: scripted.content, stop_reason: stop }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  send('message_start', { type: 'message_start', message: { ...messageShell(model, requests.length), content: [], stop_reason: null } });
  scripted.content.forEach((block, index) => {
    if (block.type === 'text') {
      send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } });
    } else {
      send('content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      });
      // The API streams a tool call's input as partial JSON; two pieces show the runtime reassembles them.
      const json = JSON.stringify(block.input);
      const cut = Math.floor(json.length / 2);
      for (const partial of [json.slice(0, cut), json.slice(cut)]) {
        send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: partial } });
      }
    }
    send('content_block_stop', { type: 'content_block_stop', index });
  });
  send('message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 10 } });
  send('message_stop', { type: 'message_stop' });
  res.end();
}

function messageShell(model: string, n: number) {
  return {
    id: `msg_scripted_${n}`,
    type: 'message',
    role: 'assistant',
    model,
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}

/** The tool_result blocks of the last user message of a request: what the runtime reported back to the model. */
export function toolResults(request: MessagesRequest): ToolResult[] {
  const last = request.messages.at(-1);
  if (last?.role !== 'user' || typeof last.content === 'string') return [];
  return last.content
    .filter((b) => b.type === 'tool_result')
    .map((b) => ({ tool_use_id: String(b.tool_use_id), is_error: b.is_error === true, text: textOf(b.content) }));
}

/** A tool result's text without the `<system-reminder>` notes the runtime appends for the model (e.g. tokens left). */
function textOf(content: unknown): string {
  const text =
    typeof content === 'string'
      ? content
      : Array.isArray(content)
        ? content.map((c) => (typeof c?.text === 'string' ? c.text : '')).join('')
        : '';
  return text.replace(/<system-reminder>[\s\S]*?<\/system-reminder>/g, '').trim();
}

/**
 * The environment for the Claude Code process: only the scripted server, a throw-away home and config dir,
 * and nothing that phones home (telemetry, error reporting, auto-update and other non-essential traffic off).
 */
export function offlineEnv(baseUrl: string, home: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    CLAUDE_CONFIG_DIR: `${home}/.claude`,
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-scripted',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_NON_ESSENTIAL_MODEL_CALLS: '1',
  };
}
