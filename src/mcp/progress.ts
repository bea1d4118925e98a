/** Progress of a long tool call, for a client that asked for it (a progress token in the request). */
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Progress } from './waiting.js';

export function progressOf(extra: RequestHandlerExtra<ServerRequest, ServerNotification>): Progress | undefined {
  const token = extra._meta?.progressToken;
  if (token === undefined) return undefined;
  let progress = 0;
  return {
    report(message) {
      progress += 1;
      // A lost progress note is no reason to fail the call.
      extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress, message } }).catch(() => {});
    },
  };
}
