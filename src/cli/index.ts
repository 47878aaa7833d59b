/**
 * `voice-agent-widget`, the package's command line: `token` prints a fresh voice token minted with the
 * environment's Atoms key, and `dev` serves the local agent, a token endpoint and the widget for
 * developing a page offline. `--help` on each lists its options and the exit codes.
 */
import { readFileSync } from 'node:fs';
import { runDev } from './dev.js';
import { CliError, EXIT, EXIT_CODES_HELP } from './exit-codes.js';
import { runToken } from './token.js';

const HELP = `Usage: voice-agent-widget <command> [options]

Commands:
  token   print a fresh voice token from ATOMS_API_KEY and ATOMS_AGENT_ID
  dev     serve the local agent, a token endpoint and the widget for developing a page offline

Options:
  -h, --help      show this help (voice-agent-widget <command> --help for a command's)
  -v, --version   print the package version

${EXIT_CODES_HELP}
`;

const write = (text: string): void => void process.stdout.write(text);

/** Runs the command line; resolves the exit code, or `undefined` while a server keeps running. */
async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...args] = argv;
  switch (command) {
    case 'token':
      return runToken(args, process.env, write);
    case 'dev':
      return runDev(args, write);
    case '-h':
    case '--help':
    case 'help':
      write(HELP);
      return EXIT.ok;
    case '-v':
    case '--version': {
      const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
      write(`${version}\n`);
      return EXIT.ok;
    }
    case undefined:
      process.stderr.write(HELP);
      return EXIT.usage;
    default:
      throw new CliError(EXIT.usage, `unknown command ${JSON.stringify(command)}: use token or dev (see voice-agent-widget --help)`);
  }
}

/** Ends the process once what was written has been flushed (a pipe may still hold it). */
function exit(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) exit(code);
  },
  (error: unknown) => {
    const known = error instanceof CliError;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`voice-agent-widget: ${known ? '' : 'unexpected failure: '}${message}\n`);
    exit(known ? error.exitCode : EXIT.failed);
  },
);
