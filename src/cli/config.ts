/**
 * The `vaai-sim serve --config FILE` configuration: its TypeScript type, which matches the
 * published JSON Schema (schema/serve-config.schema.json, draft 2020-12, shipped in the package as
 * `vaai-sim/serve-config.schema.json`), and the loader that validates a file with ajv and turns it
 * into what `serve` starts. Every error names the file, the JSON path and what was expected.
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { InvalidArgumentError } from '../common/errors.js';
import type { ChapCredentials, ChapSecrets } from '../iscsi/auth/chap.js';
import { formatPortal } from '../iscsi/errors.js';
import type { IscsiPortalConfig, IscsiTargetConfig } from '../iscsi/target/server.js';
import type { TargetPortGroupSettings } from '../scsi/alua.js';
import type { AluaState } from '../spec/alua.js';

/** A CHAP name and its secret, given in exactly one of three ways. */
export interface ServeCredentialsConfig {
  /** The CHAP name (CHAP_N). */
  readonly user: string;
  /** The secret inline (at least 12 characters). */
  readonly secret?: string;
  /** The environment variable holding the secret. */
  readonly secretEnv?: string;
  /** A file holding the secret, relative to the config file. */
  readonly secretFile?: string;
}

/** CHAP of a target: what initiators present, and for mutual CHAP what the target answers with. */
export interface ServeChapConfig extends ServeCredentialsConfig {
  /** The target's own name and secret, for mutual CHAP. */
  readonly mutual?: ServeCredentialsConfig;
}

/** One LUN. */
export interface ServeLunConfig {
  /** Size in GiB. */
  readonly gib: number;
  /** Logical block size. @defaultValue 512 */
  readonly blockSize?: 512 | 1024 | 2048 | 4096;
  /** Physical block size: `blockSize` times 2^0..2^15, at most 1 MiB (the allocation unit). @defaultValue `blockSize` */
  readonly physicalBlockSize?: number;
  /** Thin provisioned. @defaultValue true */
  readonly thin?: boolean;
  /** Media overwrite rate of SANITIZE OVERWRITE in MiB/s (each pass over the LUN takes its size over this). @defaultValue 100 */
  readonly sanitizeMiBps?: number;
}

/** One target. */
export interface ServeTargetConfig {
  /** The target's iSCSI name. */
  readonly name: string;
  /** Its LUNs (at least one). */
  readonly luns: readonly ServeLunConfig[];
  /** Initiator names allowed to log in (any when left out). */
  readonly initiators?: readonly string[];
  /** CHAP required to log in. */
  readonly chap?: ServeChapConfig;
}

/** Where the portal listens. */
export interface ServeListenConfig {
  /** Address. @defaultValue '127.0.0.1' */
  readonly host?: string;
  /** TCP port; 0 picks a free one. @defaultValue 3260 */
  readonly port?: number;
}

/** One portal: a listening address serving every target, in a target port group. */
export interface ServePortalConfig {
  /** Address. @defaultValue `listen.host` */
  readonly host?: string;
  /** TCP port. @defaultValue `listen.port` plus the portal's position (0: a free one) */
  readonly port?: number;
  /** Target portal group tag, distinct across portals. @defaultValue the position, from 1 */
  readonly portalGroupTag?: number;
  /** TARGET PORT GROUP of the portal's target ports. @defaultValue 1 for the first portal, 2 for the others */
  readonly targetPortGroup?: number;
}

/** A target port group (ALUA): its asymmetric access state and settings. */
export interface ServeTargetPortGroupConfig {
  /** TARGET PORT GROUP, a group some portal is in. */
  readonly id: number;
  /** Asymmetric access state. @defaultValue active/optimized for the first portal's group, active/non-optimized for the others */
  readonly state?: AluaState;
  /** PREF bit. @defaultValue false */
  readonly preferred?: boolean;
  /** IMPLICIT TRANSITION TIME in seconds, 0..255. @defaultValue 0 */
  readonly implicitTransitionSeconds?: number;
  /** SET TARGET PORT GROUPS may change the group. @defaultValue true */
  readonly explicitAllowed?: boolean;
  /** Delay of each command through the group's ports while active/non-optimized, ms, 0..10000. @defaultValue 0 */
  readonly nonOptimizedDelayMs?: number;
}

/** A `serve --config` file, as schema/serve-config.schema.json describes it. */
export interface ServeConfig {
  /** The schema reference, for editors. */
  readonly $schema?: string;
  /** Thin pool capacity in GiB. @defaultValue 16 */
  readonly poolGiB?: number;
  /** Listen address (the command line's --host and --port override it). */
  readonly listen?: ServeListenConfig;
  /** The portals (each serves every target). @defaultValue one, on `listen` */
  readonly portals?: readonly ServePortalConfig[];
  /** Settings of the target port groups the portals are in. */
  readonly targetPortGroups?: readonly ServeTargetPortGroupConfig[];
  /** The targets (at least one). */
  readonly targets: readonly ServeTargetConfig[];
}

/**
 * The keys of each config object, by schema definition. `satisfies` makes the compiler check that
 * each table lists exactly the keys of its TypeScript type; a test checks that the schema's
 * properties are the same, so type and schema cannot drift apart.
 */
export const SERVE_CONFIG_KEYS = {
  root: { $schema: true, poolGiB: true, listen: true, portals: true, targetPortGroups: true, targets: true } satisfies Record<keyof ServeConfig, true>,
  listen: { host: true, port: true } satisfies Record<keyof ServeListenConfig, true>,
  portal: { host: true, port: true, portalGroupTag: true, targetPortGroup: true } satisfies Record<keyof ServePortalConfig, true>,
  targetPortGroup: { id: true, state: true, preferred: true, implicitTransitionSeconds: true, explicitAllowed: true, nonOptimizedDelayMs: true } satisfies Record<keyof ServeTargetPortGroupConfig, true>,
  target: { name: true, luns: true, initiators: true, chap: true } satisfies Record<keyof ServeTargetConfig, true>,
  lun: { gib: true, blockSize: true, physicalBlockSize: true, thin: true, sanitizeMiBps: true } satisfies Record<keyof ServeLunConfig, true>,
  credentialFields: { user: true, secret: true, secretEnv: true, secretFile: true } satisfies Record<keyof ServeCredentialsConfig, true>,
  chap: { user: true, secret: true, secretEnv: true, secretFile: true, mutual: true } satisfies Record<keyof ServeChapConfig, true>,
} as const;

/** A LUN to create. */
export interface ServeLunPlan {
  /** Size in bytes, a whole number of blocks. */
  readonly sizeBytes: number;
  /** Logical block size. */
  readonly blockSize: number;
  /** Physical block size, when it differs from `blockSize` being left out. */
  readonly physicalBlockSize?: number;
  /** Thin provisioned. */
  readonly thin: boolean;
  /** SANITIZE OVERWRITE's media overwrite rate in bytes per second, when it differs from the default. */
  readonly sanitizeOverwriteRate?: number;
  /** Where it was asked for (`serve.json: /targets/0/luns/1`, `--lun-gib`), for messages. */
  readonly source: string;
}

/** A target to serve: what {@link IscsiTargetConfig} takes, with its LUNs still to be created. */
export interface ServeTargetPlan extends Omit<IscsiTargetConfig, 'luns'> {
  /** Its LUNs. */
  readonly luns: readonly ServeLunPlan[];
}

/** A portal to serve on, as configured (defaults still to apply: {@link resolvePortals}). */
export interface ServePortalPlan extends ServePortalConfig {
  /** Where it was asked for (`serve.json: /portals/1`, `--portals`), for messages. */
  readonly source: string;
}

/** Settings of a target port group to apply before serving. */
export interface ServeTargetPortGroupPlan extends TargetPortGroupSettings {
  /** TARGET PORT GROUP. */
  readonly id: number;
  /** Where it was asked for (`serve.json: /targetPortGroups/0`), for messages. */
  readonly source: string;
}

/** What `serve` starts: from a config file, or from the command-line options. */
export interface ServePlan {
  /** Thin pool capacity in bytes. */
  readonly poolBytes: number;
  /** Listen address, when set: of every portal that names none. */
  readonly host?: string;
  /** Listen port, when set: the first portal's, the next ones' on the ports after it (0: free ones). */
  readonly port?: number;
  /** The portals. @defaultValue one */
  readonly portals?: readonly ServePortalPlan[];
  /** Target port group settings. @defaultValue none (see {@link resolvePortals}) */
  readonly targetPortGroups?: readonly ServeTargetPortGroupPlan[];
  /** The targets. */
  readonly targets: readonly ServeTargetPlan[];
}

/** The most portals `serve` takes (`--portals`, the config's `portals`). */
export const MAX_PORTALS = 64;

/** The portals and group settings `serve` starts with, every default applied. */
export interface ResolvedPortals {
  /** The portals for {@link IscsiServer}'s `portals` option, each with host, port, tag and group. */
  readonly portals: ReadonlyArray<Required<IscsiPortalConfig>>;
  /** Every group a portal is in, with its settings (the state always set). */
  readonly groups: ReadonlyArray<{ readonly id: number; readonly settings: TargetPortGroupSettings }>;
}

/**
 * Applies the defaults to a plan's portals and groups: one portal without any; portal i (from 0)
 * listens on the plan's host, on its port plus i (or a free one when it is 0), with tag i + 1, the
 * first in target port group 1 and the others in group 2; the first portal's group is
 * active/optimized and every other group active/non-optimized unless its settings say otherwise.
 * Throws {@link InvalidArgumentError} naming the source for a port above 65535, two portals on one
 * TCP port, a repeated tag, a group configured twice or a group no portal is in.
 */
export function resolvePortals(plan: Pick<ServePlan, 'host' | 'port' | 'portals' | 'targetPortGroups'>): ResolvedPortals {
  const given = plan.portals ?? [{ source: 'the portal' }];
  const base = plan.port ?? 3260;
  const portals = given.map((p, i) => {
    const port = p.port ?? (base === 0 ? 0 : base + i);
    if (port > 65535) throw new InvalidArgumentError(`${p.source}: portal ${i + 1} would listen on port ${port} (port ${base} + ${i}); ports go up to 65535`);
    return { host: p.host ?? plan.host ?? '127.0.0.1', port, portalGroupTag: p.portalGroupTag ?? i + 1, targetPortGroup: p.targetPortGroup ?? (i === 0 ? 1 : 2) };
  });
  const wildcard = (h: string): boolean => h === '0.0.0.0' || h === '::';
  portals.forEach((a, i) => {
    portals.slice(0, i).forEach((b, j) => {
      const where = `${given[i]!.source}: portal ${i + 1}`;
      if (a.port !== 0 && a.port === b.port && (a.host === b.host || wildcard(a.host) || wildcard(b.host))) {
        throw new InvalidArgumentError(`${where} would listen on ${formatPortal(a.host, a.port)}, as portal ${j + 1} does; give each portal its own port`);
      }
      if (a.portalGroupTag === b.portalGroupTag) throw new InvalidArgumentError(`${where} has the portal group tag ${a.portalGroupTag} of portal ${j + 1}; each portal is its own portal group`);
    });
  });
  const used = [...new Set(portals.map((p) => p.targetPortGroup))];
  const settings = new Map<number, ServeTargetPortGroupPlan>();
  for (const g of plan.targetPortGroups ?? []) {
    if (settings.has(g.id)) throw new InvalidArgumentError(`${g.source}/id: target port group ${g.id} is configured twice`);
    if (!used.includes(g.id)) throw new InvalidArgumentError(`${g.source}/id: no portal is in target port group ${g.id} (the portals are in ${used.join(', ')})`);
    settings.set(g.id, g);
  }
  const groups = used.map((id) => {
    const { id: _id, source: _source, ...given } = settings.get(id) ?? { id, source: '' };
    const state: AluaState = given.state ?? (id === portals[0]!.targetPortGroup ? 'active/optimized' : 'active/non-optimized');
    return { id, settings: { ...given, state } };
  });
  return { portals, groups };
}

const GiB = 2 ** 30;

/** The schema file, read at run time (schema/ sits two folders above both src/cli and dist/cli). */
export const SERVE_CONFIG_SCHEMA_URL = new URL('../../schema/serve-config.schema.json', import.meta.url);

type JsonSchema = { readonly [key: string]: unknown };

let validator: { validate: ReturnType<Ajv2020['compile']>; schema: JsonSchema } | undefined;

/** The schema, and ajv's validator compiled from it. */
export function serveConfigSchema(): { validate: ReturnType<Ajv2020['compile']>; schema: JsonSchema } {
  if (validator === undefined) {
    const schema = JSON.parse(readFileSync(SERVE_CONFIG_SCHEMA_URL, 'utf8')) as JsonSchema;
    // allErrors: report every problem at once; strict, except that a oneOf branch may require a key it does not define
    // (the secret's three sources); the two annotation keywords are VS Code's messages.
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictRequired: false });
    ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
    ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
    validator = { validate: ajv.compile(schema), schema };
  }
  return validator;
}

/** Line and column (1-based) of `offset` in `text`. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `${line}:${offset - (before.lastIndexOf('\n') + 1) + 1}`;
}

/**
 * Where and why `text` is not JSON (RFC 8259): the offset of the first character that cannot
 * continue it and what was expected there. Used for the message only, after `JSON.parse` failed
 * (whose messages do not always say where).
 */
export function jsonSyntaxError(text: string): { offset: number; expected: string; found: string } | undefined {
  let i = 0;
  const fail = (expected: string): never => {
    throw { offset: i, expected, found: i >= text.length ? 'end of file' : JSON.stringify(text[i]) };
  };
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (word: string): void => {
    for (const ch of word) (text[i] === ch ? i++ : fail(`'${word}'`));
  };
  const string = (): void => {
    i++;
    for (;;) {
      if (i >= text.length) fail("a closing '\"'");
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) fail('no control character in a string (write \\n, \\t)');
      if (c === 0x5c) {
        i++;
        if (text[i] === 'u') {
          i++;
          for (let k = 0; k < 4; k++) (/[0-9a-fA-F]/.test(text[i] ?? '') ? i++ : fail('four hex digits after \\u'));
        } else if (i < text.length && '"\\/bfnrt'.includes(text[i]!)) i++;
        else fail('an escape: \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX');
      } else i++;
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail('a key in double quotes');
        string();
        ws();
        if (text[i] !== ':') fail("':'");
        i++;
        value();
        ws();
        if (text[i] === '}') return void i++;
        if (text[i] !== ',') fail("',' or '}'");
        i++;
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ']') return void i++;
        if (text[i] !== ',') fail("',' or ']'");
        i++;
      }
    } else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else {
      const m = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
      m.lastIndex = i;
      if (m.exec(text) === null) fail('a value (object, array, string, number, true, false or null)');
      i = m.lastIndex;
    }
  };
  try {
    value();
    ws();
    if (i < text.length) fail('the end of the file (one JSON value only)');
    return undefined;
  } catch (e) {
    return e as { offset: number; expected: string; found: string };
  }
}

/** Resolves a local `$ref` (`#/$defs/name`) of the schema. */
function deref(schema: JsonSchema, node: JsonSchema | undefined): JsonSchema | undefined {
  const ref = node?.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/$defs/')) return node;
  return ((schema.$defs as Record<string, JsonSchema>)[ref.slice('#/$defs/'.length)]);
}

/** Every property name a schema object allows (its own and those of the schemas it refers to). */
function allowedKeys(schema: JsonSchema, node: JsonSchema | undefined): string[] {
  const keys: string[] = [];
  for (let n = node, depth = 0; n !== undefined && depth < 8; depth++) {
    keys.push(...Object.keys((n.properties as object | undefined) ?? {}));
    const next = deref(schema, n);
    n = next === n ? undefined : next;
  }
  return [...new Set(keys)];
}

/** The allowed key a mistyped one most likely meant (same letters ignoring case, `_` and `-`, or one edit away). */
export function suggestKey(key: string, allowed: readonly string[]): string | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/[-_\s]/g, '');
  const same = allowed.find((a) => norm(a) === norm(key));
  if (same !== undefined) return same;
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let x = 1; x <= a.length; x++) {
      let diagonal = row[0]!;
      row[0] = x;
      for (let y = 1; y <= b.length; y++) {
        const above = row[y]!;
        row[y] = Math.min(row[y]! + 1, row[y - 1]! + 1, diagonal + (a[x - 1] === b[y - 1] ? 0 : 1));
        diagonal = above;
      }
    }
    return row[b.length]!;
  };
  return allowed.find((a) => distance(norm(a), norm(key)) <= 2);
}

/** What a (sub)schema expects, in words: "a number > 0 and at most 8388607", "one of 512, 1024, 2048, 4096". */
export function expectedOf(schema: JsonSchema, node: JsonSchema | undefined): string {
  const n = deref(schema, node) === node ? node : { ...deref(schema, node), ...node };
  if (n === undefined) return 'a valid value';
  if (Array.isArray(n.enum)) return `one of ${n.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  if (typeof n.patternErrorMessage === 'string') return n.patternErrorMessage;
  if (typeof n.errorMessage === 'string') return n.errorMessage;
  const bounds: string[] = [];
  if (typeof n.exclusiveMinimum === 'number') bounds.push(`> ${n.exclusiveMinimum}`);
  if (typeof n.minimum === 'number' && typeof n.maximum === 'number' && n.type === 'integer') return `an integer from ${n.minimum} to ${n.maximum}`;
  if (typeof n.minimum === 'number') bounds.push(`>= ${n.minimum}`);
  if (typeof n.maximum === 'number') bounds.push(bounds.length === 0 ? `<= ${n.maximum}` : `and at most ${n.maximum}`);
  const range = bounds.length === 0 ? '' : ` ${bounds.join(' ')}`;
  switch (n.type) {
    case 'number':
      return `a number${range}`;
    case 'integer':
      return `an integer${range}`;
    case 'boolean':
      return 'true or false';
    case 'string':
      return typeof n.minLength === 'number' && n.minLength > 1 ? `a string of at least ${n.minLength} characters` : 'a non-empty string';
    case 'array': {
      const min = typeof n.minItems === 'number' ? n.minItems : 0;
      const repeats = n.uniqueItems === true ? ', without repeats' : '';
      if (typeof n.maxItems === 'number') return `an array of ${min} to ${n.maxItems} items${repeats}`;
      return min > 0 ? `an array of at least ${min} item${min === 1 ? '' : 's'}${repeats}` : 'an array';
    }
    case 'object':
      return 'an object';
    default:
      return 'a valid value';
  }
}

/** One line per ajv error: `file: /json/path: what is wrong` (errors inside a failed `oneOf` folded into it). */
export function formatSchemaErrors(file: string, errors: readonly ErrorObject[], schema: JsonSchema): string[] {
  const folded = errors.filter((e) => e.keyword === 'oneOf').map((e) => `${e.schemaPath}/`);
  const lines: string[] = [];
  for (const e of errors) {
    if (folded.some((prefix) => e.schemaPath.startsWith(prefix))) continue;
    const at = e.instancePath === '' ? '/' : e.instancePath;
    const parent = e.parentSchema as JsonSchema | undefined;
    let text: string;
    switch (e.keyword) {
      case 'additionalProperties':
      case 'unevaluatedProperties': {
        const key = String((e.params as { additionalProperty?: string; unevaluatedProperty?: string }).additionalProperty ?? (e.params as { unevaluatedProperty?: string }).unevaluatedProperty);
        const allowed = allowedKeys(schema, parent);
        const hint = suggestKey(key, allowed);
        text = `unknown key '${key}'${hint === undefined ? '' : ` (did you mean '${hint}'?)`}; allowed keys: ${allowed.join(', ')}`;
        break;
      }
      case 'required': {
        const key = (e.params as { missingProperty: string }).missingProperty;
        const property = allowedKeys(schema, parent).includes(key) ? propertySchema(schema, parent, key) : undefined;
        text = `missing required key '${key}' (${expectedOf(schema, property)})`;
        break;
      }
      case 'uniqueItems': {
        const { i, j } = e.params as { i: number; j: number };
        text = `items ${j} and ${i} are the same; each may appear once`;
        break;
      }
      default:
        text = `must be ${expectedOf(schema, parent)}`;
    }
    const line = `${file}: ${at}: ${text}`;
    if (!lines.includes(line)) lines.push(line);
  }
  return lines;
}

/** The schema of property `key` of an object schema (following `$ref`s). */
function propertySchema(schema: JsonSchema, node: JsonSchema | undefined, key: string): JsonSchema | undefined {
  for (let n = node, depth = 0; n !== undefined && depth < 8; depth++) {
    const p = (n.properties as Record<string, JsonSchema> | undefined)?.[key];
    if (p !== undefined) return p;
    const next = deref(schema, n);
    n = next === n ? undefined : next;
  }
  return undefined;
}

/** Parses and validates config text; throws {@link InvalidArgumentError} with every problem, one per line. */
export function parseServeConfig(text: string, file: string): ServeConfig {
  const body = text.replace(/^\uFEFF/, '');
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (e) {
    const at = jsonSyntaxError(body);
    if (at === undefined) throw new InvalidArgumentError(`${file}: invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
    const truncated = at.found === 'end of file' ? ' (is the file truncated?)' : '';
    throw new InvalidArgumentError(`${file}:${lineColumn(body, at.offset)}: invalid JSON: expected ${at.expected}, found ${at.found}${truncated}`);
  }
  return validateServeConfig(data, file);
}

/**
 * Validates a parsed config against the schema, and that target names are distinct; throws
 * {@link InvalidArgumentError} with every problem, one per line (`file: /json/path: expected`).
 */
export function validateServeConfig(data: unknown, file: string): ServeConfig {
  const { validate, schema } = serveConfigSchema();
  if (!validate(data)) throw new InvalidArgumentError(formatSchemaErrors(file, validate.errors ?? [], schema).join('\n'));
  const config = data as ServeConfig;
  const seen = new Map<string, number>();
  const problems: string[] = [];
  config.targets.forEach((t, i) => {
    const first = seen.get(t.name);
    if (first !== undefined) problems.push(`${file}: /targets/${i}/name: the target name '${t.name}' is already used by /targets/${first}/name; target names must be distinct`);
    else seen.set(t.name, i);
  });
  if (problems.length > 0) throw new InvalidArgumentError(problems.join('\n'));
  return config;
}

/** Reads, parses and validates a config file (see {@link parseServeConfig}). */
export function loadServeConfig(file: string): ServeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InvalidArgumentError(`cannot read the config file ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseServeConfig(text, file);
}

/** The secret of `c` at JSON path `at`, from inline text, the environment or a file next to the config. */
function resolveSecret(c: ServeCredentialsConfig, at: string, file: string, env: NodeJS.ProcessEnv): ChapCredentials {
  let value: string;
  if (c.secret !== undefined) value = c.secret;
  else if (c.secretEnv !== undefined) {
    const v = env[c.secretEnv];
    if (v === undefined || v === '') throw new InvalidArgumentError(`${file}: ${at}/secretEnv: the environment variable ${c.secretEnv} is not set`);
    value = v;
  } else {
    const path = resolve(dirname(file), c.secretFile!);
    try {
      value = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw new InvalidArgumentError(`${file}: ${at}/secretFile: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (value.length < 12) {
    const from = c.secret !== undefined ? 'secret' : c.secretEnv !== undefined ? `secretEnv (${c.secretEnv})` : `secretFile (${c.secretFile})`;
    throw new InvalidArgumentError(`${file}: ${at}/${from.split(' ')[0]}: the secret from ${from} has ${value.length} characters; CHAP secrets need at least 12 (RFC 7143 12.1.3)`);
  }
  return { user: c.user, secret: value };
}

/** The plan a validated config describes: sizes in bytes, secrets resolved (`env` for `secretEnv`). */
export function planFromConfig(config: ServeConfig, file: string, env: NodeJS.ProcessEnv = process.env): ServePlan {
  return {
    poolBytes: Math.round((config.poolGiB ?? 16) * GiB),
    ...(config.listen?.host === undefined ? {} : { host: config.listen.host }),
    ...(config.listen?.port === undefined ? {} : { port: config.listen.port }),
    ...(config.portals === undefined ? {} : { portals: config.portals.map((p, i) => ({ ...p, source: `${file}: /portals/${i}` })) }),
    ...(config.targetPortGroups === undefined ? {} : { targetPortGroups: config.targetPortGroups.map((g, i) => ({ ...g, source: `${file}: /targetPortGroups/${i}` })) }),
    targets: config.targets.map((t, i) => {
      const chap = t.chap === undefined ? undefined : resolveSecret(t.chap, `/targets/${i}/chap`, file, env);
      const mutual = t.chap?.mutual === undefined ? undefined : resolveSecret(t.chap.mutual, `/targets/${i}/chap/mutual`, file, env);
      return {
        name: t.name,
        luns: t.luns.map((l, j) => {
          const source = `${file}: /targets/${i}/luns/${j}`;
          const plan = lunPlan(l.gib, l.blockSize ?? 512, l.thin ?? true, source, l.physicalBlockSize === undefined ? undefined : { bytes: l.physicalBlockSize, source: `${source}/physicalBlockSize` });
          return l.sanitizeMiBps === undefined ? plan : { ...plan, sanitizeOverwriteRate: Math.max(1, Math.round(l.sanitizeMiBps * 2 ** 20)) };
        }),
        ...(t.initiators === undefined ? {} : { initiators: t.initiators }),
        ...(chap === undefined ? {} : { chap: { ...chap, ...(mutual === undefined ? {} : { mutual }) } }),
      };
    }),
  };
}

/**
 * A LUN of `gib` GiB rounded to whole physical blocks; `source` names it in messages (an error here
 * when that is no block at all). `physical` is the physical block size and where it was asked for:
 * an error unless it is `blockSize` times a power of two from 2^0 to 2^15 (the array refuses one
 * larger than its allocation unit when it creates the LUN).
 */
export function lunPlan(gib: number, blockSize: number, thin: boolean, source: string, physical?: { readonly bytes: number; readonly source: string }): ServeLunPlan {
  const ratio = physical === undefined ? 1 : physical.bytes / blockSize;
  if (physical !== undefined && !(Number.isInteger(ratio) && ratio <= 2 ** 15 && (ratio & (ratio - 1)) === 0)) {
    throw new InvalidArgumentError(`${physical.source}: ${physical.bytes} is not the logical block size (${blockSize}) times a power of two from 1 to 2^15`);
  }
  const unit = blockSize * ratio;
  const blocks = Math.round((gib * GiB) / unit) * ratio;
  if (blocks < 1) throw new InvalidArgumentError(`${source}: ${gib} GiB is less than one block of ${unit} bytes`);
  return { sizeBytes: blocks * blockSize, blockSize, ...(physical === undefined ? {} : { physicalBlockSize: physical.bytes }), thin, source };
}
