/** Compile-time exhaustiveness check for switches over a union; ignores unknown values at run time. */
export function assertNever(_value: never): void {}
