import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * A gateway build's entry points (the package's src compiled to JS, as bench/ab-inject.ts makes them), loaded at
 * run time, so two builds can run side by side in one bench. Untyped: each build is whatever code it was made from.
 */
export async function loadBuild(buildDir: string) {
  const base = pathToFileURL(`${resolve(buildDir)}/`).href;
  const load = (p: string) => import(new URL(p, base).href);
  const [{ loadConfig }, { addAgent }, { addUser }, { startGateway }] = await Promise.all([
    load('config/load.js'),
    load('domain/identities/add-agent.js'),
    load('domain/identities/add-user.js'),
    load('gateway.js'),
  ]);
  return { loadConfig, addAgent, addUser, startGateway };
}
