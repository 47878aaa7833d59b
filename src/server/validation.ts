/**
 * Request validation shared by the token handler and the local agent: plain functions, no imports,
 * so the token handler runs on any runtime with the Fetch API.
 */

/** `webcall`: audio both ways (text also accepted). `chat`: text only. */
export type CallMode = 'webcall' | 'chat';

/** Per-call prompt variables, as Atoms accepts them. */
export type CallVariables = Record<string, string | number | boolean>;

/** The parsed JSON text if it is an object (not an array or null), else `undefined`. */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `value` is a JSON-style object: not null, not an array. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Limits for {@link validateVariables}. */
export interface VariableLimits {
  maxKeys: number;
  maxKeyLength: number;
  maxStringLength: number;
}

/**
 * Checks per-call variables: an object of at most `maxKeys` entries with non-empty keys and string,
 * finite number or boolean values. Returns a copy, or an error message naming the first problem.
 */
export function validateVariables(
  value: unknown,
  limits: VariableLimits,
): { ok: true; variables: CallVariables } | { ok: false; message: string } {
  if (!isPlainObject(value)) return { ok: false, message: 'variables must be an object' };
  const entries = Object.entries(value);
  if (entries.length > limits.maxKeys) return { ok: false, message: `variables may have at most ${limits.maxKeys} keys` };
  for (const [key, item] of entries) {
    if (key.length === 0 || key.length > limits.maxKeyLength) {
      return { ok: false, message: `variable names must be 1 to ${limits.maxKeyLength} characters long` };
    }
    const usable =
      (typeof item === 'string' && item.length <= limits.maxStringLength) ||
      (typeof item === 'number' && Number.isFinite(item)) ||
      typeof item === 'boolean';
    if (!usable) {
      return {
        ok: false,
        message: `variable "${key.slice(0, 64)}" must be a string of at most ${limits.maxStringLength} characters, a finite number or a boolean`,
      };
    }
  }
  // fromEntries defines own properties, so a "__proto__" key stays an ordinary variable.
  return { ok: true, variables: Object.fromEntries(entries) as CallVariables };
}
