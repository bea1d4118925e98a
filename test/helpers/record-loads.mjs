// `node --import` this file: every module the process loads (its URL) is appended to the file
// named by TEND_RECORD_LOADS, one per line, by Node's module hooks (test/lazy-loading.test.ts).
import { register } from 'node:module';

register('./record-loads-hooks.mjs', import.meta.url, { data: process.env.TEND_RECORD_LOADS });
