import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { describeDiskFull } from './disk-full-suite.js';
import { FAULT_POLICY } from './fault-ledger.js';
import { privatePostgresUnavailable, startPrivatePostgres } from './private-postgres.js';
import { mountSmallFilesystem, smallFilesystemUnavailable } from './small-filesystem.js';

// A PostgreSQL cluster of the test's own on a 96 MiB tmpfs, filled under a mixed load, then freed
// (disk-full-suite.ts). PostgreSQL refuses to extend a table (SQLSTATE 53100 disk_full) and rolls the
// transaction back; neither the gateway nor the database is restarted. The WAL is kept small (1 MiB
// segments, max_wal_size 8 MB) so it recycles its own segments and the data files are what run out, as on
// a volume that fills up in production.

describeDiskFull({
  name: 'PostgreSQL',
  skip: smallFilesystemUnavailable() ?? privatePostgresUnavailable(),
  pad: 2000,
  setup: async () => {
    const disk = mountSmallFilesystem('96m');
    const server = await startPrivatePostgres({
      parent: disk.dir,
      initdb: ['--wal-segsize=1'],
      settings: ['min_wal_size=4MB', 'max_wal_size=8MB'],
    });
    const dataDir = mkdtempSync(join(tmpdir(), 'cs-pgfull-'));
    const config = FAULT_POLICY(loadConfig({ env: {}, overrides: { dataDir, port: 0, databaseUrl: server.url } }));
    return {
      disk,
      config,
      teardown: async () => {
        await server.destroy();
        disk.unmount();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
});
