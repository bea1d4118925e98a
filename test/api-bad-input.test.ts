import { describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from './helpers/daemon.js';

const create = (reference: string, extra: Record<string, unknown> = {}) => ({
  metadata: { reference },
  spec: { commands: { start: 'exec sleep 60' } },
  ...extra,
});

async function snapshot(td: TestDaemon): Promise<string> {
  const { body } = await td.call('ListServices', { pagination: { pageSize: 100 } });
  return JSON.stringify(body);
}

/** Sends a bad request; asserts the Connect code, HTTP status, a useful message, and that nothing changed. */
async function expectRefused(
  td: TestDaemon,
  method: string,
  body: unknown,
  code: string,
  status: number,
  message: RegExp,
  init?: { token?: string | null; rawBody?: string },
): Promise<void> {
  const before = await snapshot(td);
  const response = await td.call(method, body, init);
  expect(response.status).toBe(status);
  expect(response.body.code).toBe(code);
  expect(response.body.message).toMatch(message);
  expect(response.headers.get('x-should-retry')).toBe('false');
  expect(await snapshot(td)).toBe(before);
}

describe('bad input gets a Connect error and changes nothing', () => {
  it('refuses malformed JSON, wrong types and unknown enum names', async () => {
    const td = await startTestDaemon();
    await td.call('CreateService', create('existing'));
    await expectRefused(td, 'CreateService', null, 'invalid_argument', 400, /Malformed JSON/, { rawBody: '{"metadata": ' });
    await expectRefused(td, 'CreateService', null, 'invalid_argument', 400, /Invalid request/, { rawBody: '[1,2]' });
    await expectRefused(
      td,
      'CreateService',
      { metadata: { reference: 42 }, spec: { commands: { start: 'x' } } },
      'invalid_argument',
      400,
      /"metadata\.reference": Invalid input: expected string/,
    );
    await expectRefused(
      td,
      'CreateService',
      { ...create('a'), metadata: { reference: 'a', role: 'SERVICE_ROLE_WIZARD' } },
      'invalid_argument',
      400,
      /"metadata\.role": Invalid option: expected one of/,
    );
    await expectRefused(
      td,
      'ListServices',
      { filter: { roles: ['ROLE_NOPE'] } },
      'invalid_argument',
      400,
      /"filter\.roles\[0\]"/,
    );
  });

  it('refuses missing, ill-formed and duplicate references and a missing start command', async () => {
    const td = await startTestDaemon();
    await td.call('CreateService', create('existing'));
    await expectRefused(td, 'CreateService', { spec: { commands: { start: 'x' } } }, 'invalid_argument', 400, /Missing "metadata\.reference"/);
    await expectRefused(td, 'CreateService', create('has space'), 'invalid_argument', 400, /must match/);
    await expectRefused(td, 'CreateService', create('x'.repeat(129)), 'invalid_argument', 400, /must match/);
    await expectRefused(td, 'CreateService', create('existing'), 'already_exists', 409, /reference "existing" already exists/);
    await expectRefused(
      td,
      'CreateService',
      { metadata: { reference: 'nocmd' }, spec: { commands: { start: '  ' } } },
      'invalid_argument',
      400,
      /needs a start command/,
    );
    await expectRefused(
      td,
      'CreateService',
      { ...create('badenv'), spec: { commands: { start: 'x' }, env: [{ name: '1X', value: 'y' }] } },
      'invalid_argument',
      400,
      /spec\.env\[0\]\.name/,
    );
    await expectRefused(td, 'CreateService', create('otherenv', { environmentId: '00000000-0000-4000-8000-000000000000' }), 'not_found', 404, /this daemon serves environment/);
  });

  it('answers not_found for unknown ids and invalid_argument for a missing id', async () => {
    const td = await startTestDaemon();
    const unknown = '5b3c7d9e-0000-4000-8000-000000000000';
    for (const method of ['GetService', 'StartService', 'StopService', 'DeleteService', 'UpdateService']) {
      await expectRefused(td, method, { id: unknown }, 'not_found', 404, /Service "5b3c7d9e-.*" not found/);
      await expectRefused(td, method, {}, 'invalid_argument', 400, /Missing "id"/);
    }
  });

  it('refuses a body over 1 MiB', async () => {
    const td = await startTestDaemon();
    const huge = JSON.stringify(create('big', { metadata: { reference: 'big', description: 'x'.repeat(1024 * 1024 + 10) } }));
    await expectRefused(td, 'CreateService', null, 'resource_exhausted', 429, /larger than 1048576 bytes/, { rawBody: huge });
  });

  it('refuses a missing or wrong token, on every route', async () => {
    const td = await startTestDaemon();
    await expectRefused(td, 'ListServices', {}, 'unauthenticated', 401, /Missing "Authorization/, { token: null });
    await expectRefused(td, 'CreateService', create('x'), 'unauthenticated', 401, /Invalid token/, { token: 'nope' });
    const log = await fetch(`${td.daemon.info.url}/logs/00000000-0000-4000-8000-000000000000`);
    expect(log.status).toBe(401);
  });

  it('answers unimplemented for unknown methods and not_found for unknown paths', async () => {
    const td = await startTestDaemon();
    await expectRefused(td, 'LaunchRockets', {}, 'unimplemented', 501, /does not exist/);
    const response = await fetch(`${td.daemon.info.url}/nope`, { headers: { authorization: `Bearer ${td.daemon.token}` } });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { code: string }).code).toBe('not_found');
  });

  it('refuses status updates from a token without the update_status permission', async () => {
    const td = await startTestDaemon();
    const { body } = await td.call('CreateService', create('s'));
    await expectRefused(
      td,
      'UpdateService',
      { id: body.service.id, status: { phase: 'SERVICE_PHASE_RUNNING' } },
      'permission_denied',
      403,
      /update_status permission/,
    );
  });

  it('refuses a log id that is not one and paths that try to leave the log directory', async () => {
    const td = await startTestDaemon();
    const headers = { authorization: `Bearer ${td.daemon.token}` };
    for (const path of ['/logs/not-a-log', '/logs/..%2Fstore.db', '/logs/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/logs/../token']) {
      const response = await fetch(`${td.daemon.info.url}${path}`, { headers });
      expect(response.status, path).toBe(404);
    }
  });
});
