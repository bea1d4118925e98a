/** What an action did, shown where it was asked: pending, done, or the API's error message. */
import { useState } from 'preact/hooks';

export type Outcome = { readonly kind: 'pending' | 'done' | 'error'; readonly text: string } | undefined;

/** `[outcome, run]`: `run(pending, work)` shows `pending`, then what `work` resolves to or its error's message. */
export function useOutcome(): [Outcome, (pending: string, work: () => Promise<string>) => void] {
  const [outcome, setOutcome] = useState<Outcome>(undefined);
  const run = (pending: string, work: () => Promise<string>): void => {
    setOutcome({ kind: 'pending', text: pending });
    work().then(
      (text) => setOutcome({ kind: 'done', text }),
      (error: unknown) => setOutcome({ kind: 'error', text: (error as Error).message }),
    );
  };
  return [outcome, run];
}

export function OutcomeLine({ outcome }: { outcome: Outcome }) {
  return (
    <p class={`outcome ${outcome?.kind ?? ''}`} role="status">
      {outcome?.text ?? ''}
    </p>
  );
}
