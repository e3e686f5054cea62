/**
 * Redaction of credentials before anything prints. Two nets: every password mq has parsed is
 * registered and replaced wherever it appears (Node's own errors repeat the input URL, e.g. on
 * `error.input`), and anything shaped like `scheme://user:secret@` is masked even if it was never
 * registered (a URL that failed to parse).
 */
const knownSecrets = new Set<string>();

export const MASK = '***';

export function registerSecret(secret: string | undefined): void {
  if (!secret || secret.length < 2) return;
  knownSecrets.add(secret);
  const encoded = encodeURIComponent(secret);
  if (encoded !== secret) knownSecrets.add(encoded);
}

const USERINFO_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s]*@/gi;

export function redact(text: string): string {
  let out = text.replace(USERINFO_PASSWORD, `$1:${MASK}@`);
  for (const secret of knownSecrets) out = out.split(secret).join(MASK);
  return out;
}
