/**
 * Races: commands sent at once from different nexuses, in an order a fast-check scheduler picks,
 * checked for some order of whole commands that explains every answer and the window read back.
 * @module
 */
import fc from 'fast-check';
import * as cdb from '../../codec/cdb-encoder.js';
import { commandArbitrary, prCommandArbitrary, rangeArbitrary, type CommandSpace } from '../arbitraries.js';
import { describeCommand, encodeCommand, hasRange, type BlockRange, type KitCommand } from '../commands.js';
import type { KitModel } from './model.js';
import type { ScsiResult } from '../../scsi/outcome.js';
import { disagreement, unitAttention2A } from './predict.js';
import { describeResult } from './report.js';
import { CheckFailure, rangesRead, runInvariants, settleUnknown, type KitSystem, type Real } from './steps.js';

/** One command of a race. */
export interface RaceStep {
  /** Index of the nexus that sends it. */
  readonly nexus: number;
  /** The command. */
  readonly command: KitCommand;
}

/**
 * Commands sent at once from different nexuses; the order they start in comes from a fast-check
 * scheduler. It passes when some order of the commands explains every answer and the window read back.
 */
export class RaceCommand implements fc.AsyncCommand<KitModel, KitSystem> {
  /**
   * @param steps - the commands and the nexus of each
   * @param scheduler - decides the order the commands start in
   */
  constructor(
    readonly steps: readonly RaceStep[],
    readonly scheduler: fc.Scheduler,
  ) {}
  /** Every race may run in every state. */
  check(): boolean {
    return true;
  }
  /** Races the commands, then checks the answers and the window against every order of them. */
  async run(model: KitModel, real: Real): Promise<void> {
    for (const s of this.steps) if (model.mayRead(s.nexus)) await settleUnknown(model, real, s.nexus, rangesRead(s.command));
    const encoded = this.steps.map((s) => encodeCommand(s.command, real.space, (r) => model.current(r)));
    const started = this.steps.map((s, i) => this.scheduler.schedule(Promise.resolve(i), `start ${describeCommand(s.command)} from ${real.nexuses[s.nexus]!.name}`).then(() => real.nexuses[s.nexus]!.execute(encoded[i]!.cdb, encoded[i]!.dataOut)));
    await this.scheduler.waitAll();
    const results = await Promise.all(started);
    real.count += results.length;
    // The state the race left: read the window back through a nexus that may read it.
    // A read that meets a unit attention (PR) takes it; it is read again.
    let reader = -1;
    let contents: Uint8Array | undefined;
    const received: Array<{ nexus: number; result: ScsiResult }> = [];
    for (let i = 0; i < real.nexuses.length && reader < 0; i++) {
      for (let attempt = 0; attempt < 4; attempt++) {
        const r = await real.nexuses[i]!.execute(cdb.read16({ lba: model.first, blocks: model.blocks }));
        if (unitAttention2A(r) !== undefined) {
          received.push({ nexus: i, result: r });
          continue;
        }
        if (r.status === 0 && r.data !== undefined) {
          reader = i;
          contents = r.data;
        }
        break;
      }
    }
    // After a race of PR commands several orders may explain the answers yet leave different PR
    // states: every nexus takes its unit attentions (TEST UNIT READY) and READ KEYS / READ
    // RESERVATION are read, so that the order chosen is one that leaves the state observed.
    const prObserved: Array<{ command: KitCommand; result: ScsiResult }> = [];
    if (this.steps.some((s) => s.command.op === 'PERSISTENT RESERVE OUT')) {
      for (let i = 0; i < real.nexuses.length; i++) {
        for (let attempt = 0; attempt < 4; attempt++) {
          const r = await real.nexuses[i]!.execute(cdb.testUnitReady());
          if (unitAttention2A(r) === undefined) break;
          received.push({ nexus: i, result: r });
        }
      }
      for (const action of ['READ KEYS', 'READ RESERVATION'] as const) {
        if (real.space.pr?.inActions.has(action) !== true) continue;
        const command: KitCommand = { op: 'PERSISTENT RESERVE IN', action };
        prObserved.push({ command, result: await real.nexuses[0]!.execute(encodeCommand(command, real.space).cdb) });
      }
    }
    const label = this.steps.map((s) => `${real.nexuses[s.nexus]!.name}: ${describeCommand(s.command)}`).join(' | ');
    // Linearizability: some order of the racing commands gives every answer and the contents read back.
    const reasons: string[] = [];
    for (const order of permutations(this.steps.length)) {
      const trial = model.clone();
      let wrong: string | undefined;
      for (const i of order) {
        const p = trial.predict(this.steps[i]!.nexus, this.steps[i]!.command, encoded[i]!, undefined);
        wrong = disagreement(p, results[i]!, real.space.blockSize) ?? (p.kind === 'unit-attention' ? trial.received(this.steps[i]!.nexus, results[i]!) : undefined);
        if (wrong !== undefined) {
          wrong = `in the order ${order.join(',')}: step ${i} ${wrong}`;
          break;
        }
      }
      for (const u of received) wrong ??= trial.received(u.nexus, u.result);
      if (wrong === undefined && prObserved.length > 0) {
        if ([...trial.pr.pending.values()].some((p) => p.size > 0)) wrong = `in the order ${order.join(',')}: a unit attention the model has pending was not reported`;
        for (const o of prObserved) {
          const w = wrong ?? disagreement(trial.predict(0, o.command, encodeCommand(o.command, real.space), undefined), o.result, real.space.blockSize);
          if (w !== undefined) wrong ??= `in the order ${order.join(',')}: after the race, ${describeCommand(o.command)}: ${w}`;
        }
      }
      if (wrong === undefined && trial.firstReader(real.nexuses.length) !== reader) {
        wrong = `in the order ${order.join(',')}: nexus ${reader} is the first that may read the window, not the model's nexus ${trial.firstReader(real.nexuses.length)} (a reservation held by another nexus than the model's)`;
      }
      if (wrong === undefined && contents !== undefined) {
        const want = trial.current({ lba: model.first, blocks: model.blocks });
        for (let b = 0; b < contents.length && wrong === undefined; b++) {
          if (contents[b] !== want[b] && !trial.unknown.has(Math.floor(b / model.blockSize))) wrong = `in the order ${order.join(',')}: the window differs at LBA ${model.first + Math.floor(b / model.blockSize)}`;
        }
      }
      if (wrong === undefined) {
        model.become(trial);
        real.log.push({ nexus: 'race', command: label, expected: `answers of the order ${order.join(',')}`, actual: results.map(describeResult).join(' | '), ok: true });
        await runInvariants(real, `race ${label}`);
        return;
      }
      reasons.push(wrong);
    }
    real.log.push({ nexus: 'race', command: label, expected: 'the answers of some order of the commands', actual: results.map(describeResult).join(' | '), ok: false });
    throw new CheckFailure(`race ${label}: no order of the commands explains the answers (${reasons.join('; ')})`);
  }
  /** The race, for fast-check's counterexample. */
  toString(): string {
    return `[race] ${this.steps.map((s) => `nexus ${s.nexus}: ${describeCommand(s.command)}`).join(' | ')}`;
  }
}

function permutations(n: number): number[][] {
  if (n <= 1) return [[0].slice(0, n)];
  const out: number[][] = [];
  for (const rest of permutations(n - 1)) for (let at = 0; at <= rest.length; at++) out.push([...rest.slice(0, at), n - 1, ...rest.slice(at)]);
  return out;
}

/** Races: COMPARE AND WRITEs of one range from several nexuses (one must win), RESERVE races, persistent reservation races, or any commands. */
export function raceArbitrary(space: CommandSpace, nexusCount: number): fc.Arbitrary<RaceCommand> {
  const who = fc.shuffledSubarray(Array.from({ length: nexusCount }, (_, i) => i), { minLength: 2, maxLength: Math.min(3, nexusCount) });
  const kinds: Array<fc.Arbitrary<ReadonlyArray<{ nexus: number; command: KitCommand }>>> = [];
  if (space.ops?.has('COMPARE AND WRITE') === true) {
    const max = Math.max(1, Math.min(space.maxCompareAndWriteBlocks ?? 1, 4));
    kinds.push(
      fc.tuple(who, rangeArbitrary(space, 1, max), fc.array(fc.integer({ min: 1, max: 0x7fffffff }), { minLength: 3, maxLength: 3 })).map(([ns, r, seeds]) =>
        ns.map((nexus, i) => ({ nexus, command: { op: 'COMPARE AND WRITE' as const, ...r, seed: seeds[i]!, miscompareAt: null } })),
      ),
    );
  }
  if (space.ops?.has('RESERVE(6)') === true) kinds.push(who.map((ns) => ns.map((nexus) => ({ nexus, command: { op: 'RESERVE(6)' as const } }))));
  // Persistent reservations: PR OUT and IN from several nexuses at once (two RESERVEs, a PREEMPT
  // against a RESERVE or a REGISTER...); each is atomic, so some order of them explains the answers.
  if (space.pr !== undefined) {
    kinds.push(who.chain((ns) => fc.tuple(...ns.map((n) => prCommandArbitrary(space, n, nexusCount))).map((cs) => ns.map((nexus, i) => ({ nexus, command: cs[i]! })))));
  }
  // Mixes touch disjoint blocks: SBC makes no multi-block command atomic except COMPARE AND WRITE,
  // so racing overlapping ones may interleave block by block, which no order of whole commands
  // explains. What races here is a reservation against media access, and commands that do not meet.
  kinds.push(
    fc
      .tuple(who, fc.array(commandArbitrary(space), { minLength: 3, maxLength: 3 }))
      .map(([ns, cs]) => ns.map((nexus, i) => ({ nexus, command: cs[i]! })))
      // SANITIZE erases the whole LUN: it meets every other command, so it never races.
      .filter((steps) => steps.every((s) => s.command.op !== 'SANITIZE BLOCK ERASE') && disjoint(steps.map((s) => footprint(s.command)))),
  );
  return fc.tuple(fc.oneof(...kinds), fc.scheduler()).map(([steps, s]) => new RaceCommand(steps, s));
}

/** The blocks a command reads or writes. */
function footprint(c: KitCommand): BlockRange[] {
  if (hasRange(c)) return c.op === 'SYNCHRONIZE CACHE(16)' ? [] : [c];
  switch (c.op) {
    case 'UNMAP':
      return [...c.ranges];
    case 'EXTENDED COPY':
      return c.segments.flatMap((s) => [{ lba: s.srcLba, blocks: s.blocks }, { lba: s.dstLba, blocks: s.blocks }]);
    default:
      return [];
  }
}

/** Whether no two commands' footprints share a block. */
function disjoint(footprints: readonly BlockRange[][]): boolean {
  for (let i = 0; i < footprints.length; i++) {
    for (let j = i + 1; j < footprints.length; j++) {
      for (const a of footprints[i]!) for (const b of footprints[j]!) if (a.blocks > 0 && b.blocks > 0 && a.lba < b.lba + b.blocks && b.lba < a.lba + a.blocks) return false;
    }
  }
  return true;
}
