/**
 * The closing lines of a test run: the slowest test files of each engine, counts per part (with its
 * wall time), what failed, and one `N passed, N failed` line.
 */

/** How many of each engine's slowest files to name (`VA_SLOWEST`, 0 for none). */
const SLOWEST = Number(process.env.VA_SLOWEST ?? 5);

export const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** `steps`: [{ title, ms }] of the run's other steps, printed with the engines' times and the total. */
export function printResults(parts, { steps, totalMs } = {}) {
  if (steps) {
    console.log('\nTime per step:');
    const browserRows = parts
      .filter((p) => p.ms !== undefined)
      .map((p) => ({ title: `browser tests: ${p.engine}${p.alongside ? ` (alongside ${p.alongside.join(', ')})` : ''}`, ms: p.ms }));
    const rows = [...steps, ...browserRows];
    for (const { title, ms } of rows) console.log(`  ${seconds(ms).padStart(8)}  ${title}`);
    if (totalMs !== undefined) console.log(`  ${seconds(totalMs).padStart(8)}  total`);
  }
  const timed = parts.filter((part) => part.files?.some((f) => f.ms !== undefined));
  if (SLOWEST > 0 && timed.length > 0) {
    console.log('\nSlowest test files (page open → tests → page closed):');
    for (const part of timed) {
      console.log(`  ${part.engine}`);
      for (const f of part.files.slice(0, SLOWEST)) {
        const parts = `start ${seconds(f.startMs ?? 0)}, tests ${seconds(f.testsMs ?? 0)}, close ${seconds(f.stopMs ?? 0)}`;
        console.log(`    ${seconds(f.ms ?? 0).padStart(7)}  ${f.file.replace(/^test\/browser\//, '')} (${parts})`);
      }
    }
  }
  console.log('');
  for (const part of parts) {
    const label = part.version ? `${part.engine} (${part.version})` : part.engine;
    const time = part.ms !== undefined ? ` in ${seconds(part.ms)}` : '';
    console.log(`${label}: ${part.passed} passed, ${part.failed} failed${part.skipped ? `, ${part.skipped} skipped` : ''}${time}`);
    for (const note of part.notes ?? []) console.log(`  ⚠ ${note}`);
    for (const failure of part.failures ?? []) console.log(`  ✖ ${failure}`);
  }
  const passed = parts.reduce((n, p) => n + p.passed, 0);
  const failed = parts.reduce((n, p) => n + p.failed, 0);
  console.log(`\n${passed} passed, ${failed} failed`);
  return { passed, failed };
}
