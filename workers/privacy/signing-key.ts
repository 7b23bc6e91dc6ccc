// The receipt signing key: from the namespace's Secret (as USPA_PRIVACY_SIGNING_KEY), at least 32
// bytes. Missing or short, the worker does not start: an unsigned receipt proves nothing.
import { PRIVACY_SIGNING_KEY_ENV as SIGNING_KEY_ENV, PRIVACY_SIGNING_SECRET } from '../../api/names.ts';
import { ConfigError } from '../../api/problems.ts';

export const MIN_KEY_BYTES = 32;

export function signingKeyFromEnv(env: NodeJS.ProcessEnv): string {
  const key = env[SIGNING_KEY_ENV] ?? '';
  if (Buffer.byteLength(key) < MIN_KEY_BYTES) {
    throw new ConfigError(SIGNING_KEY_ENV, [`${SIGNING_KEY_ENV}: ${key ? `${Buffer.byteLength(key)} bytes, at least ${MIN_KEY_BYTES} needed` : 'not set'}; the operator puts the namespace's key (Secret ${PRIVACY_SIGNING_SECRET}) there`]);
  }
  return key;
}
