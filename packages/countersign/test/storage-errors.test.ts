import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { storageFault, storageUnavailable } from '../src/db/storage-errors.js';
import { httpStatus, toCsError } from '../src/http/errors.js';

const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('storage errors', () => {
  test('a lost or refused PostgreSQL connection is database_unreachable', () => {
    for (const e of [
      withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
      withCode('ECONNRESET'),
      withCode('57P01', 'terminating connection due to administrator command'),
      withCode('57P03', 'the database system is starting up'),
      withCode('08006', 'connection failure'),
      new Error('Connection terminated unexpectedly'),
      new Error('Client has encountered a connection error and is not queryable'),
      new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], 'connect failed'),
    ]) {
      assert.equal(storageFault(e), 'database_unreachable', e.message);
    }
  });

  test('a full disk is storage_full on either database', () => {
    for (const e of [withCode('SQLITE_FULL', 'database or disk is full'), withCode('53100', 'could not extend file'), withCode('ENOSPC')]) {
      assert.equal(storageFault(e), 'storage_full', e.message);
    }
  });

  test('errors that are the request’s or the code’s stay what they are', () => {
    for (const e of [
      withCode('23505', 'duplicate key'),
      withCode('SQLITE_CONSTRAINT_UNIQUE'),
      withCode('42P01', 'relation does not exist'),
      new TypeError('x is undefined'),
      new Error('Connection terminated by a plugin for reasons'),
      new AggregateError([withCode('ECONNREFUSED'), new Error('other')], 'mixed'),
      null,
      'a string',
    ]) {
      assert.equal(storageFault(e), null, String(e));
    }
  });

  test('over HTTP a storage fault is 503 unavailable with its reason and a retry time; anything else stays 500 internal', () => {
    const full = toCsError(withCode('SQLITE_FULL', 'database or disk is full'));
    assert.equal(full.code, 'unavailable');
    assert.equal(httpStatus(full.code), 503);
    assert.deepEqual(full.details, { reason: 'storage_full', retry_after_seconds: 2 });
    assert.equal(toCsError(new TypeError('bug')).code, 'internal');
    assert.equal(storageUnavailable(new TypeError('bug')), null);
  });
});
