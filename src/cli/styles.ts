/**
 * Colour for the CLI's own text, decided once per stream the way Node's `util.styleText` decides
 * it: on a terminal unless NO_COLOR (or NODE_DISABLE_COLORS, or TERM=dumb) is set, and anywhere
 * when FORCE_COLOR is. Commands' own output is passed through as they wrote it.
 */
import { styleText } from 'node:util';

export type StyleFormat = Parameters<typeof styleText>[0];

export interface Styles {
  readonly enabled: boolean;
  paint(format: StyleFormat, text: string): string;
}

export function stylesFor(stream: NodeJS.WritableStream): Styles {
  const enabled = styleText('red', 'x', { stream }) !== 'x';
  return fixedStyles(enabled);
}

export function fixedStyles(enabled: boolean): Styles {
  return {
    enabled,
    paint: (format, text) => (enabled && text !== '' ? styleText(format, text, { validateStream: false }) : text),
  };
}

/** The colours given to names in turn, as docker compose does. */
const NAME_COLOURS: readonly StyleFormat[] = ['cyan', 'yellow', 'green', 'magenta', 'blue', 'redBright', 'cyanBright', 'yellowBright'];

/** The widest a name prefix gets; longer names are cut with `…` so every `|` stays aligned. */
export const MAX_PREFIX_WIDTH = 20;

/**
 * `web          | ` prefixes, all as wide as the longest name known (those given at the start, and
 * any longer one that shows up later, such as a service added to the file), never wider than
 * MAX_PREFIX_WIDTH, each name in its own colour.
 */
export class Prefixes {
  private readonly colours = new Map<string, StyleFormat>();
  width: number;

  constructor(
    private readonly styles: Styles,
    names: readonly string[],
  ) {
    this.width = Math.min(MAX_PREFIX_WIDTH, Math.max(4, ...names.map((name) => [...name].length)));
  }

  label(name: string): string {
    const chars = [...name];
    return chars.length > this.width ? `${chars.slice(0, this.width - 1).join('')}…` : name.padEnd(this.width);
  }

  prefix(name: string): string {
    this.width = Math.min(MAX_PREFIX_WIDTH, Math.max(this.width, [...name].length));
    if (!this.colours.has(name)) this.colours.set(name, name === 'tend' ? 'gray' : NAME_COLOURS[this.colours.size % NAME_COLOURS.length]!);
    return this.styles.paint(this.colours.get(name)!, `${this.label(name)} | `);
  }
}
