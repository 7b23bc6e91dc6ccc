// A namespace's own ClickHouse user: what the operator runs (as its own, administrating user) so
// that the namespace's workloads reach its database and no other. The password never goes into the
// SQL: ClickHouse gets its SHA-256 (IDENTIFIED WITH sha256_hash), so query logs hold no secret.
import { createHash, randomBytes } from 'node:crypto';

/** A ClickHouse identifier in backquotes (ClickHouse's own escaping for backquote and backslash). */
export function quoteIdentifier(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

/** A new password: 32 random bytes, URL-safe base64. */
export function newPassword(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The statements that make `user` exist with this password and every privilege on `database`
 * only: CREATE for a new user, ALTER for an existing one (a rotated password, a changed default
 * database), then the grant. Idempotent: running them again changes nothing.
 */
export function tenantUserStatements(user: string, password: string, database: string): string[] {
  const u = quoteIdentifier(user);
  const db = quoteIdentifier(database);
  const identified = `IDENTIFIED WITH sha256_hash BY '${createHash('sha256').update(password).digest('hex')}' DEFAULT DATABASE ${db}`;
  return [`CREATE USER IF NOT EXISTS ${u} ${identified}`, `ALTER USER ${u} ${identified}`, `GRANT ALL ON ${db}.* TO ${u}`];
}

/** An error message with the password (and its hash) taken out, for status, Events and logs. */
export function redact(message: string, password: string): string {
  const hash = createHash('sha256').update(password).digest('hex');
  return message.split(password).join('***').split(hash).join('***');
}
