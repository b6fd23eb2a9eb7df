/**
 * Preloaded into a gateway child (`node --import ./bench/alloc-probe.mjs`, by bench/waiters.ts): how many bytes
 * its JS heap has allocated since start, written every second to the file named by BENCH_ALLOC_PROBE_FILE
 * as `<ms since start> <bytes>`. Node 20 has no counter of allocated bytes, so it is summed from V8's GC
 * profiler: what the heap held before each collection less what it held after the previous one, plus the
 * growth since the last. A count, not a time: the machine's load does not move it. The probe's own work
 * (a GC profile and a short write a second) is in the figure, a few kB/s.
 */
import { writeFileSync } from 'node:fs';
import v8 from 'node:v8';

const file = process.env.BENCH_ALLOC_PROBE_FILE;
if (file) {
  const t0 = performance.now();
  let allocated = 0;
  let lastAfter = v8.getHeapStatistics().used_heap_size;
  let profiler = new v8.GCProfiler();
  profiler.start();
  const sample = () => {
    const profile = profiler.stop();
    profiler = new v8.GCProfiler();
    profiler.start();
    for (const gc of profile?.statistics ?? []) {
      allocated += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - lastAfter);
      lastAfter = gc.afterGC.heapStatistics.usedHeapSize;
    }
    const used = v8.getHeapStatistics().used_heap_size;
    allocated += Math.max(0, used - lastAfter);
    lastAfter = used;
    writeFileSync(file, `${Math.round(performance.now() - t0)} ${allocated}\n`);
  };
  setInterval(sample, 1000).unref();
}
