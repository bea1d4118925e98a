/**
 * Watches of the files that plain tests look at (test-paths.ts), through inotify: `fs.watch` of
 * each file's directory, one watch per directory however many tests look there. A change to a
 * file a test names is a reason to probe it at once, so the test can be polled seldom.
 *
 * Only where the kernel reports every change: a directory that exists, on a local filesystem
 * (ext4, xfs, btrfs, tmpfs, overlayfs, f2fs, zfs, ramfs), not /proc, /sys or a network
 * filesystem, whose files change without the kernel seeing it. A watch whose directory is
 * removed or renamed (inotify then says nothing of its successor), or that fails, is lost: its
 * tests are told, and are polled as any other again.
 */
import { statfsSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/** statfs(2) types of the filesystems whose changes inotify reports. */
const WATCHABLE = new Set([0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x794c7630, 0xf2f52010, 0x2fc12fc1, 0x858458f6]);

export interface PathWatch {
  /** False once it was lost: its paths are no longer watched. */
  readonly live: boolean;
  close(): void;
}

interface Watcher {
  readonly listener: () => void;
  readonly names: ReadonlySet<string>;
  live: boolean;
}

interface DirectoryWatch {
  readonly directory: string;
  readonly watcher: FSWatcher;
  readonly watchers: Set<Watcher>;
}

export class PathWatches {
  private readonly directories = new Map<string, DirectoryWatch>();

  /**
   * Calls `listener` when one of `paths` may have changed, and once when the watch is lost; null
   * when one of them cannot be watched.
   */
  watch(paths: readonly string[], listener: () => void): PathWatch | null {
    const names = new Map<string, Set<string>>();
    for (const path of paths) {
      const directory = dirname(path);
      names.set(directory, (names.get(directory) ?? new Set()).add(basename(path)));
    }
    const held: [DirectoryWatch, Watcher][] = [];
    const close = (): void => held.forEach(([entry, watcher]) => this.release(entry, watcher));
    for (const [directory, inside] of names) {
      const entry = this.directories.get(directory) ?? this.open(directory);
      if (entry === null) {
        close();
        return null;
      }
      const watcher: Watcher = { listener, names: inside, live: true };
      entry.watchers.add(watcher);
      held.push([entry, watcher]);
    }
    return {
      get live() {
        return held.every(([, watcher]) => watcher.live);
      },
      close,
    };
  }

  /** How many directories are watched (for tests). */
  get size(): number {
    return this.directories.size;
  }

  private open(directory: string): DirectoryWatch | null {
    let watcher: FSWatcher;
    try {
      if (!WATCHABLE.has(statfsSync(directory).type)) return null;
      watcher = watch(directory, { persistent: false });
    } catch {
      return null;
    }
    const entry: DirectoryWatch = { directory, watcher, watchers: new Set() };
    const self = basename(directory);
    watcher.on('change', (_event, filename) => {
      const name = filename?.toString();
      // The directory itself went (its name is all inotify gives): what replaces it is not watched.
      if (name === undefined || name === self) return this.lose(entry);
      for (const each of entry.watchers) if (each.names.has(name)) each.listener();
    });
    watcher.on('error', () => this.lose(entry));
    this.directories.set(directory, entry);
    return entry;
  }

  private lose(entry: DirectoryWatch): void {
    this.forget(entry);
    for (const each of entry.watchers) {
      each.live = false;
      each.listener();
    }
    entry.watchers.clear();
  }

  private release(entry: DirectoryWatch, watcher: Watcher): void {
    entry.watchers.delete(watcher);
    if (entry.watchers.size === 0) this.forget(entry);
  }

  private forget(entry: DirectoryWatch): void {
    entry.watcher.close();
    if (this.directories.get(entry.directory) === entry) this.directories.delete(entry.directory);
  }
}
