import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../../db/connect.js';
import { type RangeTask, verifyRange } from './verify-range.js';

/** Worker thread entry: verifies one range of the chain over its own database connection (see verify-audit.ts). */
export interface RangeWorkerData {
  url: string;
  schema?: string | undefined;
  task: RangeTask;
}

const data = workerData as RangeWorkerData;
const db = await openDatabase({ url: data.url, poolSize: 1, migrate: false, ...(data.schema ? { schema: data.schema } : {}) });
try {
  parentPort?.postMessage(await verifyRange(db.read, data.task));
} finally {
  await db.close();
}
