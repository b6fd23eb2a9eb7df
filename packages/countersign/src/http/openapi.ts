import { z } from 'zod';
import type { RouteSpec } from './route-spec.js';

/** OpenAPI 3.1 built from the route table and its zod schemas: the document cannot drift from what is validated. */
export function buildOpenApi(routes: readonly RouteSpec[], version: string): Record<string, unknown> {
  const components: Record<string, unknown> = {};
  const toSchema = (schema: z.ZodType, io: 'input' | 'output') => {
    // Schemas with a meta id land in $defs; OpenAPI wants them under components.
    const raw = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any', reused: 'inline' });
    const json = JSON.parse(JSON.stringify(raw).replaceAll('"#/$defs/', '"#/components/schemas/')) as Record<string, unknown>;
    const defs = (json.$defs ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(defs)) components[k] = v;
    delete json.$defs;
    delete json.$schema;
    const id = (schema.meta() as { id?: string } | undefined)?.id;
    if (id) {
      const ref = `#/components/schemas/${id}`;
      // zod puts a root schema that has an id under $defs itself and answers with a $ref to it:
      // storing that answer would replace the definition with a reference to itself.
      if (json.$ref !== ref) components[id] = json;
      return { $ref: ref };
    }
    return json;
  };

  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const parameters: unknown[] = [];
    const addParams = (schema: z.ZodType | undefined, where: 'query' | 'path') => {
      if (!schema) return;
      const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as {
        properties?: Record<string, { description?: string }>;
        required?: string[];
      };
      for (const [name, s] of Object.entries(json.properties ?? {})) {
        parameters.push({
          name,
          in: where,
          required: where === 'path' || (json.required ?? []).includes(name),
          schema: s,
          ...(s.description ? { description: s.description } : {}),
        });
      }
    };
    addParams(r.params, 'path');
    addParams(r.query, 'query');
    for (const [name, h] of Object.entries(r.headers ?? {})) {
      parameters.push({ name, in: 'header', required: h.required ?? false, description: h.description, schema: { type: 'string' } });
    }
    const responses: Record<string, unknown> = {};
    for (const [code, resp] of Object.entries(r.responses)) {
      // JSON when there is a schema; contentType is a text body, alone or as the alternative a client can Accept.
      const content: Record<string, unknown> = {};
      if (resp.schema) content['application/json'] = { schema: toSchema(resp.schema, 'output') };
      if (resp.contentType)
        content[resp.contentType] = {
          schema: { type: 'string' },
          ...(resp.itemSchema ? { itemSchema: toSchema(resp.itemSchema, 'output') } : {}),
        };
      responses[code] = { description: resp.description, ...(Object.keys(content).length ? { content } : {}) };
    }
    paths[path] ??= {};
    (paths[path] as Record<string, unknown>)[r.method.toLowerCase()] = {
      operationId: r.operationId,
      summary: r.summary,
      tags: r.tags,
      ...(r.auth === 'none' ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(r.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Countersign', version, description: 'Human approval gateway for AI agent actions.' },
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas: components,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key (cs_…)' } },
    },
  };
}
