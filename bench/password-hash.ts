/**
 * What a password sign-in costs at each scrypt cost (auth.local.scrypt_log_n): time per hash, one at a
 * time and four at once (libuv's default thread pool), and the memory each needs (128·N·r bytes).
 * Run: node --import tsx bench/password-hash.ts
 */
import { hashPassword, verifyPassword } from '../packages/countersign/src/domain/identities/passwords/kdf.js';

const ROUNDS = 5;

for (const logN of [14, 15, 16, 17]) {
  const hash = await hashPassword('benchmark passphrase', logN);
  let start = performance.now();
  for (let i = 0; i < ROUNDS; i++) await verifyPassword('benchmark passphrase', hash);
  const serial = (performance.now() - start) / ROUNDS;
  start = performance.now();
  await Promise.all(Array.from({ length: 4 }, () => verifyPassword('benchmark passphrase', hash)));
  const parallel = performance.now() - start;
  const mib = (128 * 2 ** logN * 8) / 2 ** 20;
  console.log(
    `scrypt N=2^${logN} r=8 p=1: ${serial.toFixed(0)} ms per verification, 4 concurrent in ${parallel.toFixed(0)} ms, ${mib} MiB each`,
  );
}
