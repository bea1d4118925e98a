/** The dashboard: the daemon, the file's problems, services, tasks, triggers and one open output. */
import { useEffect, useLayoutEffect, useState } from 'preact/hooks';
import { useNow } from './clock.js';
import { FileProblems, Header, Triggers } from './daemon-view.js';
import { ownLogId } from './format.js';
import type { Live } from './live.js';
import { LogView, type LogSubject } from './log-view.js';
import { Services } from './services.js';
import { Tasks } from './tasks.js';
import type { Service, TaskExecution } from './types.js';

/** What the output panel shows: a service's current log (it follows the service to a new session), or one execution's. */
type Shown = { readonly service: string } | { readonly execution: string; readonly reference: string } | undefined;

const byReference = <T extends { id: string; metadata: { reference?: string } }>(a: T, b: T): number =>
  (a.metadata.reference ?? a.id).localeCompare(b.metadata.reference ?? b.id);

export function App({ live }: { live: Live }) {
  const [, redraw] = useState(0);
  useEffect(() => live.subscribe(() => redraw((count) => count + 1)), [live]);
  const [shown, setShown] = useState<Shown>(undefined);
  const now = useNow();
  const { state } = live;

  // The first render with the daemon's resources in the DOM (what bench/ measures).
  useLayoutEffect(() => {
    if (state.loaded && performance.getEntriesByName('tend:first-render').length === 0) performance.mark('tend:first-render');
  }, [state.loaded]);

  if (state.connection === 'logged-out') {
    return (
      <main class="notice">
        <h1>tend</h1>
        <p role="alert">Not logged in (or the daemon restarted and the session ended): run `tend dashboard` to open the dashboard again.</p>
      </main>
    );
  }

  const services = [...state.services.values()].sort(byReference);
  const tasks = [...state.tasks.values()].sort(byReference);
  const daemonUrl = state.status?.daemon.url;
  const subject = logSubject(shown, state.services, state.executions, daemonUrl);

  return (
    <>
      <Header status={state.status} connection={state.connection} />
      {/* Two columns only while an output is open: without one, the lists take the whole width. */}
      <main class={shown === undefined ? 'layout' : 'layout with-output'}>
        <div class="column">
          {state.problem !== undefined && (
            <p class="panel error-text" role="alert">
              {state.problem}
            </p>
          )}
          <FileProblems status={state.status} />
          <Services live={live} services={services} now={now} onLogs={(service: Service) => setShown({ service: service.id })} />
          <Tasks live={live} tasks={tasks} now={now} onLogs={(execution: TaskExecution, reference: string) => setShown({ execution: execution.id, reference })} />
          <Triggers />
        </div>
        {shown !== undefined && (
          <div class="column output">
            {'elsewhere' in subject ? (
              <section class="panel" aria-label="Output">
                <p>{subject.elsewhere}</p>
                <button type="button" onClick={() => setShown(undefined)}>
                  Close
                </button>
              </section>
            ) : (
              <LogView key={subject.logId} subject={subject} onClose={() => setShown(undefined)} />
            )}
          </div>
        )}
      </main>
    </>
  );
}

function logSubject(
  shown: NonNullable<Shown> | undefined,
  services: ReadonlyMap<string, Service>,
  executions: ReadonlyMap<string, TaskExecution>,
  daemonUrl: string | undefined,
): LogSubject | { elsewhere: string } {
  if (shown === undefined) return { elsewhere: '' };
  const service = 'service' in shown ? services.get(shown.service) : undefined;
  const execution = 'execution' in shown ? executions.get(shown.execution) : undefined;
  const logUrl = service?.status.logUrl ?? execution?.status.logUrl;
  const log = ownLogId(logUrl, daemonUrl);
  if (log === undefined) return { elsewhere: 'There is no output yet.' };
  if ('elsewhere' in log) return { elsewhere: `This output is kept by the runner at ${log.elsewhere}: open that runner's dashboard to read it.` };
  if (service !== undefined) {
    const reference = service.metadata.reference ?? service.id;
    return { logId: log.id, title: `Output of ${reference}`, tail: true, fileName: reference };
  }
  const reference = 'reference' in shown ? shown.reference : '';
  return { logId: log.id, title: `Output of ${reference} (${new Date(execution!.metadata.createdAt).toLocaleTimeString()})`, tail: false, fileName: `${reference}-${execution!.id}` };
}
