// The floor for W5, in its own small process: N `true` at once, then a chain of M, each as
// /bin/sh -c with plain child_process.spawn. Prints {"fan": seconds, "chain": seconds}.
import { spawn } from 'node:child_process';

const [fan, chain] = process.argv.slice(2).map(Number);
const runAll = async (count) => {
  const children = Array.from({ length: count }, () => spawn('/bin/sh', ['-c', 'true'], { stdio: 'ignore' }));
  await Promise.all(children.map((child) => new Promise((resolve) => child.once('exit', resolve))));
};
let start = performance.now();
await runAll(fan);
const fanSeconds = (performance.now() - start) / 1000;
start = performance.now();
for (let step = 0; step < chain; step++) await runAll(1);
process.stdout.write(JSON.stringify({ fan: fanSeconds, chain: (performance.now() - start) / 1000 }));
