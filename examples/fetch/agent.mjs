// Countersign with nothing but fetch (Node 20+, Deno, Bun, browsers): propose, wait on the event
// stream, run exactly the approved arguments once, report the result.
//
//   npx tsx examples/with-gateway.ts node examples/fetch/agent.mjs
//
// COUNTERSIGN_REVIEWER_KEY, when set, plays the person who decides (in real use: the inbox, Slack or CLI).
const url = process.env.COUNTERSIGN_URL.replace(/\/+$/, '');
const agentKey = process.env.COUNTERSIGN_AGENT_KEY;
const reviewerKey = process.env.COUNTERSIGN_REVIEWER_KEY;

async function api(method, path, body, { key = agentKey, headers = {} } = {}) {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${res.status} ${json.error.code}: ${json.error.message}`);
  return json;
}

/** Waits on GET /v1/events (SSE) until the action is decided. The stream is opened before the state is read, so nothing is missed. */
async function waitForDecision(id) {
  const res = await fetch(`${url}/v1/events?action=${id}`, {
    headers: { authorization: `Bearer ${agentKey}`, accept: 'text/event-stream' },
  });
  const now = await api('GET', `/v1/actions/${id}`);
  if (now.status !== 'pending') {
    await res.body.cancel();
    return now;
  }
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const data = buffer
        .slice(0, end)
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trim())
        .join('\n');
      buffer = buffer.slice(end + 2);
      if (data) {
        const event = JSON.parse(data);
        // Leaving the loop closes the stream.
        if (event.action.status !== 'pending') return event.action;
      }
      end = buffer.indexOf('\n\n');
    }
  }
  return api('GET', `/v1/actions/${id}?wait=60`); // the stream ended (gateway restart): fall back to a long-poll
}

/** Stands in for the person who decides, once the action shows up for review. */
async function playReviewer(tool, decision) {
  for (;;) {
    const { items } = await api('GET', `/v1/actions?status=pending&tool=${tool}`, undefined, { key: reviewerKey });
    if (items[0]) return api('POST', `/v1/actions/${items[0].id}/reviews`, decision, { key: reviewerKey });
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function runTool(tool, args, execute, toolCallId) {
  // Derived from the model's tool-call id: a restarted agent re-attaches to the same action.
  const action = await api(
    'POST',
    '/v1/actions',
    { tool, arguments: args },
    { headers: { 'idempotency-key': `tool-call:${tool}:${toolCallId}` } },
  );
  console.log(`proposed ${tool} ${JSON.stringify(args)} -> ${action.status} (id ${action.id})`);
  const decided = action.status === 'pending' ? await waitForDecision(action.id) : action;
  if (decided.status !== 'approved')
    return `NOT RUN (${decided.status} by ${decided.decided_by?.label ?? 'the gateway'}: ${decided.reason})`;
  const { id, arguments: approved, resource } = decided;
  await api('POST', '/v1/receipts/redeem', { receipt: decided.receipt, action: { id, tool, arguments: approved, resource } });
  const output = await execute(approved); // the approved arguments: a reviewer may have edited them
  await api('POST', `/v1/actions/${id}/result`, { outcome: 'succeeded', output });
  return output;
}

const run = crypto.randomUUID().slice(0, 8);
if (!reviewerKey) console.log('COUNTERSIGN_REVIEWER_KEY is not set: decide in the inbox or with `countersign approve|deny ID`.');
const reviewing = reviewerKey && playReviewer('restart', { decision: 'approve', arguments: { service: 'web' } });
console.log('restart:', await runTool('restart', { service: 'web-1' }, async (a) => `restarted ${a.service}`, `${run}-1`));
await reviewing;
const refusing = reviewerKey && playReviewer('delete_bucket', { decision: 'deny', reason: 'backups first' });
console.log('delete_bucket:', await runTool('delete_bucket', { bucket: 'logs' }, async () => process.exit(1), `${run}-2`));
await refusing;
