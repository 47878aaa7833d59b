/** Command-line flags, parsed strictly: an unknown flag or a missing value is a usage error (exit 2). */
import { parseArgs } from 'node:util';
import { CliError, EXIT } from './exit-codes.js';

/** The flags a command takes: each a boolean switch or a string value. */
export type FlagSpec = Record<string, { type: 'boolean' | 'string'; short?: string }>;

/** The values given for `spec`'s flags. */
export type Flags<S extends FlagSpec> = { [K in keyof S]?: S[K]['type'] extends 'boolean' ? boolean : string };

/**
 * Parses `args` against `spec` (no positional arguments).
 * @throws CliError (usage) naming the flag that is wrong.
 */
export function parseFlags<S extends FlagSpec>(command: string, args: string[], spec: S): Flags<S> {
  try {
    return parseArgs({ args, options: spec, strict: true, allowPositionals: false }).values as Flags<S>;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new CliError(EXIT.usage, `${message.replace(/\.$/, '')} (see voice-agent-widget ${command} --help)`);
  }
}
