/**
 * Bytes to lines, as they arrive: a streaming TextDecoder keeps a character split across two
 * reads whole (its first bytes wait for the rest), and a line is given out only once its newline
 * came. `end()` gives out what is left after the last newline.
 */
export class LineDecoder {
  private readonly decoder = new TextDecoder('utf-8');
  private pending = '';

  /** The complete lines in what came so far (without their newlines). */
  push(chunk: Uint8Array): string[] {
    const lines = (this.pending + this.decoder.decode(chunk, { stream: true })).split('\n');
    this.pending = lines.pop() ?? '';
    return lines;
  }

  /** The last line if it had no newline (and any bytes of an unfinished character, replaced). */
  end(): string[] {
    const rest = this.pending + this.decoder.decode();
    this.pending = '';
    return rest === '' ? [] : [rest];
  }
}

/** The lines of a response body, decoded as they arrive. */
export async function* bodyLines(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new LineDecoder();
  for await (const chunk of body) yield* decoder.push(chunk);
  yield* decoder.end();
}
