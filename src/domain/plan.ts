/**
 * Task plans: a main task's dependency closure (tasks and services, through `dependsOn`) layered
 * into groups. A node's group is one more than the deepest of its dependencies, so each group
 * depends only on earlier ones; the steps of a group may run concurrently.
 */
import type { TaskSpec } from './schema.js';

export interface PlanNode {
  readonly id: string;
  readonly kind: 'task' | 'service';
  /** The reference, shown as the step's label and in messages. */
  readonly label: string;
  readonly dependsOn: readonly string[];
  readonly spec?: TaskSpec;
}

export type NodeLookup = (id: string) => PlanNode | undefined;

/**
 * The first dependency cycle reachable from `start`, as the list of ids along it with the first
 * repeated at the end (`a → b → a`), or null.
 */
export function findCycle(start: string, lookup: NodeLookup): string[] | null {
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (id: string): string[] | null => {
    if (onPath.has(id)) return [...path.slice(path.indexOf(id)), id];
    if (done.has(id)) return null;
    const node = lookup(id);
    if (node === undefined) return null;
    path.push(id);
    onPath.add(id);
    for (const dependency of node.dependsOn) {
      const cycle = visit(dependency);
      if (cycle !== null) return cycle;
    }
    path.pop();
    onPath.delete(id);
    done.add(id);
    return null;
  };
  return visit(start);
}

/** The closure of `mainId` in groups; throws if a dependency is missing or a cycle exists. */
export function buildPlan(mainId: string, lookup: NodeLookup): PlanNode[][] {
  const depth = new Map<string, number>();
  const nodes = new Map<string, PlanNode>();
  const visiting = new Set<string>();
  const measure = (id: string, from: string | null): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) throw new Error(`Dependency cycle through "${lookup(id)?.label ?? id}"`);
    const node = lookup(id);
    if (node === undefined) {
      throw new Error(`"${from === null ? id : (nodes.get(from)?.label ?? from)}" depends on "${id}", which does not exist`);
    }
    nodes.set(id, node);
    visiting.add(id);
    let level = 0;
    for (const dependency of node.dependsOn) level = Math.max(level, measure(dependency, id) + 1);
    visiting.delete(id);
    depth.set(id, level);
    return level;
  };
  measure(mainId, null);
  const groups: PlanNode[][] = [];
  for (const [id, level] of depth) (groups[level] ??= []).push(nodes.get(id)!);
  return groups.map((group) => group.sort((a, b) => a.label.localeCompare(b.label)));
}
