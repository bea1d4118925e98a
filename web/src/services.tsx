/**
 * The services, one list item each: reference and phase as text, how long it has been in that
 * phase (its uptime while RUNNING), the ports it listens on or opened, what it waits for while
 * STARTING (its ready command, what the last probe said), its failure in one line with the whole
 * message on demand, and Start, Stop, Restart and its output.
 */
import { automation } from './api.js';
import { describeProbes, firstLine, formatDuration, phaseName } from './format.js';
import type { Live } from './live.js';
import { OutcomeLine, useOutcome } from './outcome.js';
import type { DaemonStatus, OpenPort, PhaseSince, ReadinessWait, Service } from './types.js';

/** How long a stop may take before Restart gives up waiting (the daemon's stop timeout is 2 minutes by default). */
const RESTART_WAIT_MS = 3 * 60 * 1000;

/** The ports of a service (GetStatus `ports`): those its processes listen on, and those its commands recorded. */
export function portsOf(status: DaemonStatus | undefined, serviceId: string): readonly OpenPort[] {
  return (status?.ports ?? []).filter((port) => (port.serviceId ?? port.openedBy?.serviceId) === serviceId);
}

function since(times: PhaseSince | undefined, phase: string | undefined, now: number): string {
  if (times === undefined || times.phase !== phase) return '';
  if (times.since === null) return 'since before the daemon started';
  const running = phase === 'SERVICE_PHASE_RUNNING';
  return `${running ? 'up' : 'for'} ${formatDuration(now - times.since)}`;
}

const isSettled = (service: Service | undefined): boolean =>
  service === undefined || service.status.phase === 'SERVICE_PHASE_STOPPED' || service.status.phase === 'SERVICE_PHASE_FAILED';

function Waiting(props: { wait: ReadinessWait; now: number }) {
  const { wait } = props;
  const since = Date.parse(wait.waitingSince);
  return (
    <p class="readiness">
      Waiting for ready command <code>{wait.readyCommand}</code>
      {Number.isNaN(since) ? '' : ` for ${formatDuration(props.now - since)}`}
      {wait.readinessTimeout === null ? ' (no readiness timeout)' : ` (readiness timeout ${wait.readinessTimeout})`}: {describeProbes(wait.probes, wait.lastProbe)}
    </p>
  );
}

function ServiceItem(props: {
  service: Service;
  live: Live;
  times: PhaseSince | undefined;
  ports: readonly OpenPort[];
  wait: ReadinessWait | undefined;
  now: number;
  onLogs: () => void;
}) {
  const { service, live } = props;
  const reference = service.metadata.reference ?? service.id;
  const [outcome, run] = useOutcome();
  const phase = service.status.phase;
  const failure = service.status.failureMessage ?? '';
  const wanted = service.spec.desiredPhase;
  // Start does nothing for a service that is up and wanted up; Stop nothing for one that is down.
  const up = wanted === 'SERVICE_PHASE_RUNNING' && (phase === 'SERVICE_PHASE_STARTING' || phase === 'SERVICE_PHASE_RUNNING');
  const down = phase === 'SERVICE_PHASE_STOPPED' || phase === 'SERVICE_PHASE_FAILED';

  const start = () => run(`Starting ${reference}…`, async () => (await automation('StartService', { id: service.id }), `Asked ${reference} to start`));
  const stop = () => run(`Stopping ${reference}…`, async () => (await automation('StopService', { id: service.id }), `Asked ${reference} to stop`));
  const restart = () =>
    run(`Restarting ${reference}: stopping…`, async () => {
      await automation('StopService', { id: service.id });
      const stopped = await live.until((state) => isSettled(state.services.get(service.id)), RESTART_WAIT_MS);
      if (!stopped) throw new Error(`Cannot restart ${reference}: it did not stop within ${formatDuration(RESTART_WAIT_MS)}`);
      await automation('StartService', { id: service.id });
      return `Restarted ${reference} in a new session`;
    });

  return (
    <li class="item" aria-label={`Service ${reference}`}>
      <div class="item-head">
        <span class="reference">{reference}</span>
        <span class={`phase phase-${phaseName(phase).toLowerCase()}`}>{phaseName(phase)}</span>
        <span class="muted">{since(props.times, phase, props.now)}</span>
        {wanted !== undefined && wanted !== phase && phase !== 'SERVICE_PHASE_FAILED' && <span class="muted">wanted {phaseName(wanted)}</span>}
      </div>
      {service.metadata.name !== undefined && service.metadata.name !== reference && <p class="name">{service.metadata.name}</p>}
      {props.ports.length > 0 && (
        <p class="ports">
          {props.ports.map((port) => (
            <a key={port.port} href={port.url} target="_blank" rel="noopener noreferrer">
              {port.name !== undefined && port.name !== '' && port.name !== reference ? `${port.name} :${port.port}` : `:${port.port}`}
            </a>
          ))}
        </p>
      )}
      {phase === 'SERVICE_PHASE_STARTING' && props.wait !== undefined && <Waiting wait={props.wait} now={props.now} />}
      {failure !== '' && (
        <details class="failure">
          <summary>{firstLine(failure)}</summary>
          <pre>{failure}</pre>
        </details>
      )}
      <div class="actions">
        <button type="button" onClick={start} disabled={up}>
          Start
        </button>
        <button type="button" onClick={stop} disabled={down}>
          Stop
        </button>
        <button type="button" onClick={restart}>
          Restart
        </button>
        <button type="button" class="quiet" onClick={props.onLogs} disabled={service.status.logUrl === undefined || service.status.logUrl === ''}>
          Output
        </button>
      </div>
      <OutcomeLine outcome={outcome} />
    </li>
  );
}

export function Services(props: { live: Live; services: readonly Service[]; now: number; onLogs: (service: Service) => void }) {
  const { state } = props.live;
  return (
    <section class="panel" aria-labelledby="services-title">
      <h2 id="services-title">Services</h2>
      {props.services.length === 0 ? (
        <p class="muted">{state.loaded ? 'No services.' : 'Loading…'}</p>
      ) : (
        <ul class="items">
          {props.services.map((service) => (
            <ServiceItem
              key={service.id}
              service={service}
              live={props.live}
              times={state.serviceTimes[service.id]}
              ports={portsOf(state.status, service.id)}
              wait={state.status?.readiness?.find((wait) => wait.serviceId === service.id)}
              now={props.now}
              onLogs={() => props.onLogs(service)}
            />
          ))}
        </ul>
      )}
    </section>
  );
}
