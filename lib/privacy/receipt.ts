// Signing and checking an erasure receipt: HMAC-SHA256 over canonical JSON (keys sorted at every
// depth), so the signature does not depend on how the file was pretty-printed.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import type { ErasureReceipt } from '../../api/privacy.ts';

export function canonicalJson(value: unknown): string {
  return stringify(value) ?? '';
}

function mac(receipt: Omit<ErasureReceipt, 'signature'> & { signature?: string }, key: string | Buffer): string {
  const { signature: _ignored, ...unsigned } = receipt;
  return createHmac('sha256', key).update(canonicalJson(unsigned)).digest('hex');
}

export function signReceipt(receipt: Omit<ErasureReceipt, 'signature'>, key: string | Buffer): ErasureReceipt {
  return { ...receipt, signature: mac(receipt, key) };
}

/** True only when the receipt is exactly what was signed with this key. */
export function receiptSignatureValid(receipt: ErasureReceipt, key: string | Buffer): boolean {
  if (typeof receipt.signature !== 'string' || !/^[0-9a-f]{64}$/.test(receipt.signature)) return false;
  return timingSafeEqual(Buffer.from(mac(receipt, key), 'hex'), Buffer.from(receipt.signature, 'hex'));
}
