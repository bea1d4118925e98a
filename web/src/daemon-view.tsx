/**
 * The daemon: its environment, its mode and (runner mode) the control plane's health, the
 * automations file's problems with their `file:line:column`, and firing a trigger.
 */
import { useState } from 'preact/hooks';
import { daemon } from './api.js';
import { TRIGGER_NAMES } from './format.js';
import type { Connection } from './live.js';
import { OutcomeLine, useOutcome } from './outcome.js';
import type { DaemonStatus } from './types.js';

const CONNECTION: Record<Connection, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  'logged-out': 'Logged out',
};

export function Header(props: { status: DaemonStatus | undefined; connection: Connection }) {
  const { status } = props;
  const logOut = () => void fetch('logout', { method: 'POST', credentials: 'same-origin' }).finally(() => location.reload());
  return (
    <header class="top">
      <h1>tend</h1>
      <dl class="facts">
        <div>
          <dt>Environment</dt>
          <dd>{status?.daemon.environmentId ?? '…'}</dd>
        </div>
        <div>
          <dt>Mode</dt>
          <dd>{status?.mode ?? '…'}</dd>
        </div>
        {status?.controlPlane !== null && status?.controlPlane !== undefined && (
          <div>
            <dt>Control plane</dt>
            <dd>
              {status.controlPlane.connected ? 'connected' : 'not connected'}, {status.controlPlane.outboxDepth} report(s) waiting
              {status.controlPlane.lastError !== null && <span class="error-text"> ({status.controlPlane.lastError})</span>}
            </dd>
          </div>
        )}
        {status?.ports !== undefined && status.ports.length > 0 && (
          <div>
            <dt>Ports</dt>
            <dd class="ports">
              {status.ports.map((port) => (
                <a key={port.port} href={port.url} target="_blank" rel="noopener noreferrer">
                  {port.name !== undefined && port.name !== '' ? `${port.name} :${port.port}` : `:${port.port}`}
                </a>
              ))}
            </dd>
          </div>
        )}
        <div>
          <dt>Events</dt>
          <dd class={`connection ${props.connection}`}>{CONNECTION[props.connection]}</dd>
        </div>
      </dl>
      <button type="button" class="quiet" onClick={logOut}>
        Log out
      </button>
    </header>
  );
}

export function FileProblems({ status }: { status: DaemonStatus | undefined }) {
  const file = status?.automationsFile;
  if (file === null || file === undefined || file.problems.length === 0) return null;
  return (
    <section class="panel problems" role="alert" aria-labelledby="problems-title">
      <h2 id="problems-title">
        {file.path} has {file.problems.length === 1 ? 'a problem' : `${file.problems.length} problems`}
      </h2>
      <p>The last good configuration keeps running until the file is fixed.</p>
      <ul>
        {file.problems.map((problem) => (
          <li key={problem}>
            <code>{problem}</code>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function Triggers() {
  const [trigger, setTrigger] = useState<string>('manual');
  const [outcome, run] = useOutcome();
  const fire = (event: Event) => {
    event.preventDefault();
    run(`Firing ${trigger}…`, async () => {
      const answer = await daemon<{ serviceIds?: string[]; executionIds?: string[] }>('FireTrigger', { triggers: [trigger] });
      const services = answer.serviceIds?.length ?? 0;
      const executions = answer.executionIds?.length ?? 0;
      return `Fired ${trigger}: ${services} service${services === 1 ? '' : 's'} started, ${executions} execution${executions === 1 ? '' : 's'} created`;
    });
  };
  return (
    <section class="panel" aria-labelledby="triggers-title">
      <h2 id="triggers-title">Triggers</h2>
      <form class="trigger" onSubmit={fire}>
        <label>
          Trigger{' '}
          <select value={trigger} onChange={(event) => setTrigger((event.target as HTMLSelectElement).value)}>
            {TRIGGER_NAMES.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Fire</button>
      </form>
      <OutcomeLine outcome={outcome} />
    </section>
  );
}
