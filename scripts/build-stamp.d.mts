// Types of build-stamp.mjs (plain JavaScript so that `pnpm start` checks freshness without tsx).
export declare const STAMP_FILE: string;
export declare function sourceFiles(src: string): string[];
export declare function buildStamp(root?: string): string;
export declare function isUpToDate(root?: string): boolean;
