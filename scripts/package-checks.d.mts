// Types of scripts/package-checks.mjs, for the tests that import it.
export declare const MIN_NODE: string;
export declare const ENTRY_PROBES: Readonly<Record<string, string>>;
export declare function satisfiesRange(version: string, range: string): boolean;
export declare function enginesProblems(root: string): string[];
export declare function manifestProblems(root: string): string[];
export declare function packedFileProblems(dir: string): { files: string[]; size: number; problems: string[] };
export declare function consumerChecks(tarball: string, dir: string, root: string): { lines: string[]; problems: string[] };
