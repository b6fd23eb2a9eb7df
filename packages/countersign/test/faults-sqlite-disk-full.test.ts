import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { loadConfig } from '../src/config/load.js';
import { describeDiskFull } from './disk-full-suite.js';
import { FAULT_POLICY } from './fault-ledger.js';
import { mountSmallFilesystem, smallFilesystemUnavailable } from './small-filesystem.js';

// SQLite on a 16 MiB tmpfs, filled to the last byte under a mixed load, then freed (disk-full-suite.ts).

describeDiskFull({
  name: 'SQLite',
  skip: smallFilesystemUnavailable(),
  pad: 500,
  setup: async () => {
    const disk = mountSmallFilesystem('16m');
    const config = FAULT_POLICY(loadConfig({ env: {}, overrides: { dataDir: disk.dir, port: 0 } }));
    return { disk, config, teardown: async () => disk.unmount() };
  },
  // An empty WAL first, so the next batch must grow it: the filler then takes every byte it could use.
  beforeFill: async (gw) => {
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(gw.deps.db.write);
  },
  checkStorage: async (gw) => {
    const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(gw.deps.db.read);
    assert.deepEqual(
      integrity.rows.map((r) => r.integrity_check),
      ['ok'],
    );
  },
});
