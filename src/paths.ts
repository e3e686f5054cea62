/** The package root: one level above dist/ (bundled) and src/ (tests) alike. */
export const PACKAGE_ROOT = new URL('../', import.meta.url);
