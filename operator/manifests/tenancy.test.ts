import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { newPassword, quoteIdentifier, redact, tenantUserStatements } from './tenancy.ts';

test('tenant user: created, its password set, every privilege on its own database and nothing else', () => {
  const hash = createHash('sha256').update('pw-1').digest('hex');
  assert.deepEqual(tenantUserStatements('uspa_shop', 'pw-1', 'uspa_shop'), [
    `CREATE USER IF NOT EXISTS \`uspa_shop\` IDENTIFIED WITH sha256_hash BY '${hash}' DEFAULT DATABASE \`uspa_shop\``,
    `ALTER USER \`uspa_shop\` IDENTIFIED WITH sha256_hash BY '${hash}' DEFAULT DATABASE \`uspa_shop\``,
    'GRANT ALL ON `uspa_shop`.* TO `uspa_shop`',
  ]);
  for (const sql of tenantUserStatements('u', 'pw-1', 'db')) assert.ok(!sql.includes('pw-1'), 'the password itself never reaches ClickHouse');
  assert.ok(!tenantUserStatements('u', 'pw-1', 'db').some((sql) => sql.includes('*.*')), 'no grant on every database');
});

test('tenant user: identifiers are quoted, so a name cannot end the statement', () => {
  assert.equal(quoteIdentifier('a`b\\c'), '`a\\`b\\\\c`');
  assert.equal(tenantUserStatements('x` ON *.* TO `y', 'p', 'db')[2], 'GRANT ALL ON `db`.* TO `x\\` ON *.* TO \\`y`');
});

test('tenant user: passwords are random and long; redact takes the password and its hash out of messages', () => {
  const a = newPassword();
  assert.ok(a.length >= 40 && a !== newPassword());
  const hash = createHash('sha256').update(a).digest('hex');
  assert.equal(redact(`Syntax error near '${a}' and '${hash}'`, a), "Syntax error near '***' and '***'");
});
