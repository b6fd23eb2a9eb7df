/**
 * The floor of any MCP proxy built on the official SDK: one more process in the middle that
 * relays `tools/list` and `tools/call` to a stdio upstream and does nothing else (no gateway, no
 * classification, no validation of its own). bench/mcp-proxy.ts times calls through it next to
 * the direct and the Countersign paths, so the table shows how much of the added time is the hop
 * itself and how much is approval.
 *
 *   node --import tsx bench/mcp-relay.ts <upstream command> [args…]
 */
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Server } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: mcp-relay.ts <upstream command> [args…]');
  process.exit(2);
}

const upstream = new Client({ name: 'bench-relay', version: '1.0.0' }, { capabilities: {} });
await upstream.connect(new StdioClientTransport({ command, args, stderr: 'inherit' }));

const server = new Server({ name: 'bench-relay', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler('tools/list', async () => upstream.listTools());
server.setRequestHandler('tools/call', async (req) => upstream.callTool({ name: req.params.name, arguments: req.params.arguments ?? {} }));
const transport = new StdioServerTransport();
transport.onclose = () => void upstream.close().finally(() => process.exit(0));
await server.connect(transport);
