/** The engine a browser test runs in, for the few expectations that differ by engine (each says why). */
export type Engine = 'chromium' | 'firefox' | 'webkit';

export const ENGINE: Engine = / Firefox\//.test(navigator.userAgent) ? 'firefox' : /Chrom(e|ium)\//.test(navigator.userAgent) ? 'chromium' : 'webkit';
