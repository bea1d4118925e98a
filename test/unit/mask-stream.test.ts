import { describe, expect, it } from 'vitest';
import { maskStream } from '../../src/api/mask-stream.js';
import { maskSecrets } from '../../src/domain/mask.js';

async function masked(chunks: Buffer[], secrets: string[]): Promise<Buffer> {
  async function* source(): AsyncGenerator<Buffer> {
    yield* chunks;
  }
  const out: Buffer[] = [];
  for await (const chunk of maskStream(source(), () => secrets)) out.push(chunk);
  return Buffer.concat(out);
}

/** `text` cut into pieces of `size` bytes (a secret, or a character, may be split). */
const pieces = (text: Buffer, size: number): Buffer[] => Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.subarray(i * size, (i + 1) * size));

describe('masking a byte stream', () => {
  it('masks a secret split across every possible pair of reads', async () => {
    const text = Buffer.from('before hunter2-secret after\n');
    for (let size = 1; size <= text.length; size++) {
      expect((await masked(pieces(text, size), ['hunter2-secret'])).toString()).toBe('before *** after\n');
    }
  });

  it('passes binary output and split multi-byte characters through byte for byte, except the secret', async () => {
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3]);
    const text = Buffer.concat([binary, Buffer.from('é€😀 s3cr3t 😀'), binary]);
    const out = await masked(pieces(text, 3), ['s3cr3t']);
    expect(out.equals(Buffer.concat([binary, Buffer.from('é€😀 *** 😀'), binary]))).toBe(true);
    expect((await masked(pieces(text, 1), [])).equals(text)).toBe(true);
  });

  it('masks each line of a multi-line secret on its own, so that a cut one is still hidden', async () => {
    const secret = '-----BEGIN KEY-----\nAAAAbbbbCCCC\n-----END KEY-----';
    expect((await masked([Buffer.from(`${secret}\n`)], [secret])).toString()).toBe('***\n');
    // What a `tail` that starts in the middle of it shows.
    expect((await masked([Buffer.from('AAAAbbbbCCCC\n-----END KEY-----\n')], [secret])).toString()).toBe('***\n***\n');
    expect(maskSecrets('line AAAAbbbbCCCC here', [secret])).toBe('line *** here');
  });

  it('masks a log of many megabytes without a newline, longest secret first', async () => {
    const line = Buffer.from('x'.repeat(30 * 1024 * 1024));
    line.write('topsecret', 10 * 1024 * 1024);
    const out = await masked(pieces(line, 64 * 1024), ['secret', 'topsecret']);
    expect(out.length).toBe(line.length - 'topsecret'.length + 3);
    expect(out.indexOf('***')).toBe(10 * 1024 * 1024);
    expect(out.includes('secret')).toBe(false);
  });
});

describe('masking a followed log', () => {
  it('gives every byte at once but the few that could begin a secret', async () => {
    let release!: () => void;
    const more = new Promise<void>((resolve) => (release = resolve));
    async function* source(): AsyncGenerator<Buffer> {
      yield Buffer.from('hello\nhun');
      await more;
      yield Buffer.from('ter2 done\n');
    }
    const stream = maskStream(source(), () => ['hunter2']);
    // "hun" could be the beginning of the secret: it waits; the rest comes before anything more is written.
    expect((await stream.next()).value?.toString()).toBe('hello\n');
    release();
    expect((await stream.next()).value?.toString()).toBe('*** done\n');
  });
});
