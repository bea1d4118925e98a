/**
 * The tasks, one list item each with Run, and under it its executions, newest first: what started
 * it, its phase and duration, its plan as groups of steps (each step's phase and duration), Stop
 * while it runs, and its output.
 */
import { automation } from './api.js';
import { firstLine, formatDuration, phaseName } from './format.js';
import type { Live } from './live.js';
import { OutcomeLine, useOutcome } from './outcome.js';
import type { StepTimes, Task, TaskExecution } from './types.js';

const EXECUTIONS_PER_TASK = 3;
const finished = (phase: string): boolean => ['TASK_EXECUTION_PHASE_SUCCEEDED', 'TASK_EXECUTION_PHASE_FAILED', 'TASK_EXECUTION_PHASE_STOPPED'].includes(phase);
const time = (iso: string | undefined): string => (iso === undefined ? '' : new Date(iso).toLocaleTimeString());

function stepDuration(times: StepTimes | undefined, now: number): string {
  if (times === undefined || times.startedAt === undefined) return '';
  if (times.startedAt === null) return '';
  const end = times.endedAt === undefined ? now : times.endedAt;
  return end === null ? '' : formatDuration(end - times.startedAt);
}

function executionDuration(execution: TaskExecution, now: number): string {
  const { startedAt, completedAt } = execution.metadata;
  if (startedAt === undefined) return '';
  return formatDuration((completedAt === undefined ? now : Date.parse(completedAt)) - Date.parse(startedAt));
}

function ExecutionItem(props: { execution: TaskExecution; reference: string; times: Readonly<Record<string, StepTimes>> | undefined; now: number; onLogs: () => void }) {
  const { execution } = props;
  const [outcome, run] = useOutcome();
  const phase = execution.status.phase;
  const statusOf = (stepId: string) => execution.status.steps.find((step) => step.id === stepId);
  const single = execution.spec.plan.length === 1 && execution.spec.plan[0]!.steps.length === 1;
  const stop = () =>
    run('Stopping the execution…', async () => (await automation('StopTaskExecution', { id: execution.id }), 'Asked the execution to stop'));
  return (
    <li class="execution" aria-label={`Execution of ${props.reference} at ${time(execution.metadata.createdAt)}`}>
      <div class="item-head">
        <span class={`phase phase-${phaseName(phase).toLowerCase()}`}>{phaseName(phase)}</span>
        <span class="muted">
          {time(execution.metadata.createdAt)}, started by {execution.metadata.startedBy}
        </span>
        <span class="muted">{executionDuration(execution, props.now)}</span>
      </div>
      {execution.status.failureMessage !== undefined && execution.status.failureMessage !== '' && (
        <details class="failure">
          <summary>{firstLine(execution.status.failureMessage)}</summary>
          <pre>{execution.status.failureMessage}</pre>
        </details>
      )}
      {!single && (
        <ol class="plan" aria-label="Plan">
          {execution.spec.plan.map((group, index) => (
            <li key={index}>
              <span class="muted">Group {index + 1}</span>
              <ul class="steps">
                {group.steps.map((step) => {
                  const status = statusOf(step.id);
                  return (
                    <li key={step.id}>
                      <span class="step-label">{step.label}</span>{' '}
                      <span class={`phase phase-${phaseName(status?.phase).toLowerCase()}`}>{phaseName(status?.phase ?? 'TASK_EXECUTION_PHASE_PENDING')}</span>{' '}
                      <span class="muted">{stepDuration(props.times?.[step.id], props.now)}</span>
                    </li>
                  );
                })}
              </ul>
            </li>
          ))}
        </ol>
      )}
      <div class="actions">
        <button type="button" class="quiet" onClick={props.onLogs} disabled={execution.status.logUrl === undefined || execution.status.logUrl === ''}>
          Output
        </button>
        {!finished(phase) && (
          <button type="button" onClick={stop}>
            Stop
          </button>
        )}
      </div>
      <OutcomeLine outcome={outcome} />
    </li>
  );
}

function TaskItem(props: {
  task: Task;
  live: Live;
  executions: readonly TaskExecution[];
  references: ReadonlyMap<string, string>;
  now: number;
  onLogs: (execution: TaskExecution, reference: string) => void;
}) {
  const { task, live } = props;
  const reference = task.metadata.reference ?? task.id;
  const [outcome, runTask] = useOutcome();
  const run = () =>
    runTask(`Starting ${reference}…`, async () => {
      const { taskExecution } = await automation<{ taskExecution: TaskExecution }>('StartTask', { id: task.id });
      live.add(taskExecution);
      props.onLogs(taskExecution, reference);
      return `Started ${reference}`;
    });
  const dependsOn = task.dependsOn.map((id) => props.references.get(id) ?? id);
  return (
    <li class="item" aria-label={`Task ${reference}`}>
      <div class="item-head">
        <span class="reference">{reference}</span>
        {props.executions[0] !== undefined && (
          <span class={`phase phase-${phaseName(props.executions[0].status.phase).toLowerCase()}`}>{phaseName(props.executions[0].status.phase)}</span>
        )}
      </div>
      {task.metadata.name !== undefined && task.metadata.name !== reference && <p class="name">{task.metadata.name}</p>}
      {dependsOn.length > 0 && <p class="muted">after {dependsOn.join(', ')}</p>}
      <div class="actions">
        <button type="button" onClick={run}>
          Run
        </button>
      </div>
      <OutcomeLine outcome={outcome} />
      {props.executions.length > 0 && (
        <ul class="executions" aria-label={`Executions of ${reference}`}>
          {props.executions.slice(0, EXECUTIONS_PER_TASK).map((execution) => (
            <ExecutionItem
              key={execution.id}
              execution={execution}
              reference={reference}
              times={live.state.stepTimes[execution.id]}
              now={props.now}
              onLogs={() => props.onLogs(execution, reference)}
            />
          ))}
        </ul>
      )}
    </li>
  );
}

export function Tasks(props: { live: Live; tasks: readonly Task[]; now: number; onLogs: (execution: TaskExecution, reference: string) => void }) {
  const { state } = props.live;
  const references = new Map<string, string>();
  for (const task of state.tasks.values()) references.set(task.id, task.metadata.reference ?? task.id);
  for (const service of state.services.values()) references.set(service.id, service.metadata.reference ?? service.id);
  const byTask = new Map<string, TaskExecution[]>();
  for (const execution of state.executions.values()) byTask.set(execution.metadata.taskId, [...(byTask.get(execution.metadata.taskId) ?? []), execution]);
  for (const list of byTask.values()) list.sort((a, b) => b.metadata.createdAt.localeCompare(a.metadata.createdAt));
  return (
    <section class="panel" aria-labelledby="tasks-title">
      <h2 id="tasks-title">Tasks</h2>
      {props.tasks.length === 0 ? (
        <p class="muted">{state.loaded ? 'No tasks.' : 'Loading…'}</p>
      ) : (
        <ul class="items">
          {props.tasks.map((task) => (
            <TaskItem key={task.id} task={task} live={props.live} executions={byTask.get(task.id) ?? []} references={references} now={props.now} onLogs={props.onLogs} />
          ))}
        </ul>
      )}
    </section>
  );
}
