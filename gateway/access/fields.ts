// Direct identifiers: the values that name a person by themselves. Roles without the
// `identifiers` permission see "[redacted]" in their place — in traits, identities and events.

export const REDACTED = '[redacted]';

/** Identity types whose values are direct identifiers (custom keys named like them count too). */
const IDENTIFIER_IDENTITY = /^(email|phone|mobile|phoneNumber)$/i;

/** Object keys (at any depth, case and separators ignored) whose values are direct identifiers. */
const IDENTIFIER_KEYS = new Set(
  ['email', 'emailaddress', 'phone', 'phonenumber', 'mobile', 'mobilephone', 'firstname', 'lastname', 'name', 'fullname', 'username', 'address', 'street', 'streetaddress', 'ip', 'ipaddress', 'birthday', 'dateofbirth', 'ssn'].map(normalized),
);

function normalized(key: string): string {
  return key.toLowerCase().replace(/[_\-\s.]/g, '');
}

export function isIdentifierKey(key: string): boolean {
  return IDENTIFIER_KEYS.has(normalized(key));
}

/** `email:ada@example.com` → `email:[redacted]`; `userId:u-1` stays (a pseudonymous id). */
export function redactIdentity(identity: string): string {
  const colon = identity.indexOf(':');
  if (colon < 0) return identity;
  return IDENTIFIER_IDENTITY.test(identity.slice(0, colon)) ? `${identity.slice(0, colon)}:${REDACTED}` : identity;
}

export function isIdentifierIdentityType(type: string): boolean {
  return IDENTIFIER_IDENTITY.test(type);
}

/**
 * A copy of a JSON value with every identifier key's value replaced (objects at any depth, arrays
 * included); `redacted` collects the dotted paths that were replaced, for the response to list.
 */
export function redactJson(value: unknown, redacted: string[] = [], path = ''): unknown {
  if (Array.isArray(value)) return value.map((v, i) => redactJson(v, redacted, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const here = path ? `${path}.${k}` : k;
    if (isIdentifierKey(k) && v !== null && v !== undefined && v !== '') {
      out[k] = REDACTED;
      redacted.push(here);
    } else out[k] = redactJson(v, redacted, here);
  }
  return out;
}
