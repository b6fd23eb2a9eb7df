import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { declaredInputSchema, schemaIssues } from '../src/edit-schema.js';

/** The check the console runs as a reviewer edits arguments, and the gateway enforces (domain/actions/edit-schema.ts). */

describe('the declared input schema', () => {
  const metadata = {
    mcp: {
      server: 'ops',
      tool: {
        description: 'Deploys',
        input_schema: {
          type: 'object',
          properties: { env: { enum: ['staging', 'production'] }, replicas: { type: 'integer', maximum: 5 } },
          required: ['env'],
        },
      },
    },
  };
  test('is read from metadata.mcp.tool; a schema sent as its size and hash is none', () => {
    assert.ok(declaredInputSchema(metadata));
    assert.equal(declaredInputSchema({}), null);
    assert.equal(declaredInputSchema({ mcp: { tool: { input_schema: { omitted: 'too long', bytes: 9000 } } } }), null);
  });

  test('names each broken path with what is wrong, and nothing for arguments that fit', () => {
    const schema = declaredInputSchema(metadata);
    assert.ok(schema);
    assert.deepEqual(schemaIssues(schema, { env: 'staging', replicas: 2 }), []);
    const issues = schemaIssues(schema, { env: 'prod', replicas: 9 }) ?? [];
    assert.deepEqual(
      issues.map((i) => i.path),
      ['/env', '/replicas'],
    );
    assert.match(issues[1]?.message ?? '', /9 is greater than 5/);
    assert.match((schemaIssues(schema, {}) ?? [])[0]?.message ?? '', /required/i);
  });
});
