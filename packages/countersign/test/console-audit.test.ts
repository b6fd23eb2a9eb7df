import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { verifyExport } from '../src/domain/audit/verify-export.js';
import { inBrowserOn, launchChromium } from './console-browser.js';
import { shootBoth } from './console-oversight-shared.js';
import { consoleWorld, cspViolations, DESKTOP, newPage, overflowX, PHONE, shown } from './console-pages.js';
import { auditRows, propose, review, type World } from './helpers.js';
import { openRaw } from './raw-db.js';
import { withPassword } from './session-helpers.js';

/**
 * The console's audit page in Chromium against a real gateway: the chain and its latest checkpoint, a
 * verification that finds the chain intact and then, after a row is edited straight in the database (as
 * audit-tamper.test.ts does), names the broken entry; the export downloads a file the offline verifier accepts.
 */

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => browser?.close());

inBrowserOn('sqlite', 'the audit page in Chromium', (dialect) => {
  let w: World;
  let base: string;
  let dir: string;
  before(async () => {
    w = await consoleWorld(dialect);
    base = w.gw.url;
    await withPassword(w, 'ada@example.com');
    const a = (await propose(w, { tool: 'deploy', arguments: { v: 1 } })).body.id;
    await review(w, a, w.keys.alice, { decision: 'deny', reason: 'not today' });
    dir = mkdtempSync(join(tmpdir(), 'cs-audit-ui-'));
  });
  after(async () => {
    await w.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an admin verifies the chain (intact) and downloads an export the offline verifier accepts', async () => {
    const cp = await w.gw.checkpointer.checkpointNow();
    assert.ok(cp);
    const { context, page, errors } = await newPage(browser, DESKTOP, { base, email: 'ada@example.com' });
    try {
      await page.goto(`${base}/audit`);
      const length = (await auditRows(w)).length;
      await page
        .getByTestId('chain-length')
        .filter({ hasText: String(length) })
        .waitFor();
      assert.match(await shown(page.getByTestId('checkpoint')), new RegExp(`entries 1 to ${cp.size}\\b`));
      await page.getByRole('button', { name: 'Verify the chain now' }).click();
      const result = page.getByTestId('verify-result');
      await result.waitFor();
      assert.match(await shown(result), new RegExp(`The chain is intact\\. ${length} entries verified`));
      assert.match(await shown(result), /[1-9]\d* signed checkpoints? matched/);

      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the log' }).click()]);
      assert.equal(download.suggestedFilename(), 'countersign-audit.jsonl');
      const file = join(dir, 'export.jsonl');
      await download.saveAs(file);
      // Checked offline against the signed checkpoint and the published keys, as docs/audit.md describes.
      const note = join(dir, 'cp.txt');
      writeFileSync(note, cp.note);
      const jwks = join(dir, 'jwks.json');
      writeFileSync(jwks, await (await fetch(`${base}/.well-known/jwks.json`)).text());
      const offline = await verifyExport({ file, checkpointFiles: [note], jwksFile: jwks });
      assert.equal(offline.ok, true, offline.firstBad?.problem);
      assert.equal(offline.entries, length);
      assert.equal(offline.checkpoints.matched, 1);
      if (dialect === 'sqlite') await shootBoth(page, 'audit');
      assert.deepEqual(await cspViolations(page), []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('after a row is edited in the database, a verification names the broken entry; a reviewer cannot run one', async () => {
    const viewer = await newPage(browser, PHONE, { base, email: 'alice@example.com' });
    try {
      await viewer.page.goto(`${base}/audit`);
      await viewer.page.getByText('Only an admin can run a verification.').waitFor();
      assert.equal(await viewer.page.getByRole('button', { name: 'Verify the chain now' }).count(), 0);
      assert.ok((await overflowX(viewer.page)) <= 0, 'no horizontal scroll at 390 px');
    } finally {
      await viewer.context.close();
    }
    const raw = await openRaw(w);
    try {
      await raw.disableAppendOnly();
      await raw.run('update audit_log set data = ? where seq = ?', ['{"forged":true}', 3]);
    } finally {
      await raw.close();
    }
    const { context, page, errors } = await newPage(browser, PHONE, { base, email: 'ada@example.com' });
    try {
      await page.goto(`${base}/audit`);
      await page.getByRole('button', { name: 'Verify the chain now' }).click();
      const result = page.getByTestId('verify-result');
      await result.waitFor();
      const text = await shown(result);
      assert.match(text, /The chain is broken at entry 3\b/);
      assert.match(text, /2 entries before it verify/);
      assert.ok((await overflowX(page)) <= 0, 'no horizontal scroll at 390 px');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
