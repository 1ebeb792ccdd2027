/**
 * Module resolution hook for running from the checkout: `@mlflow-registry/client` (and its `/node`
 * entry) resolve to the SDK's TypeScript sources (which tsx compiles), not to its dist/ build, which a
 * fresh checkout does not have and which may be older than the sources.
 */
const SDK = '@mlflow-registry/client';
const entries = { [SDK]: 'index.ts', [`${SDK}/node`]: 'node.ts' };
const sdkSrc = new URL('../../client/src/', import.meta.url);

export async function resolve(specifier, context, next) {
  const entry = entries[specifier];
  // Handed on to tsx's resolver, which marks the file as TypeScript for its loader.
  if (entry !== undefined) return next(new URL(entry, sdkSrc).href, context);
  return next(specifier, context);
}
