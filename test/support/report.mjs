/** The closing lines of a test run: counts per part, what failed, and one `N passed, N failed` line. */
export function printResults(parts) {
  console.log('');
  for (const part of parts) {
    const label = part.version ? `${part.engine} (${part.version})` : part.engine;
    console.log(`${label}: ${part.passed} passed, ${part.failed} failed${part.skipped ? `, ${part.skipped} skipped` : ''}`);
    for (const note of part.notes ?? []) console.log(`  ⚠ ${note}`);
    for (const failure of part.failures ?? []) console.log(`  ✖ ${failure}`);
  }
  const passed = parts.reduce((n, p) => n + p.passed, 0);
  const failed = parts.reduce((n, p) => n + p.failed, 0);
  console.log(`\n${passed} passed, ${failed} failed`);
  return { passed, failed };
}
