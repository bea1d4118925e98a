// The module hooks of record-loads.mjs (they run on Node's loader thread).
import { appendFileSync } from 'node:fs';

let record;

export function initialize(file) {
  record = file;
}

export async function load(url, context, nextLoad) {
  appendFileSync(record, `${url}\n`);
  return nextLoad(url, context);
}
